/** The spec hash: agents label containers with it, so only changed specs are recreated. */
import { createHash } from "node:crypto";
import { splitCommand } from "./command.ts";
import { parseStopTimeout } from "./durations.ts";
import { engineHealthcheck } from "./healthcheck.ts";
import { normalizeOptions, parseCpus, parseRestartPolicy, parseSize } from "./options.ts";
import { formatPort, parsePort } from "./ports.ts";
import type { Spec } from "./schema.ts";

/** A JSON value as the canonical form is built from. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * The sha256 (hex) of the spec's normalized form: commands split into words, ports and options
 * in their canonical spelling, environment and label values as strings, sizes, CPUs and
 * durations in the engine's units, empty lists and maps as absent.
 * Specs that mean the same hash the same; any change the engine would see changes the hash.
 * Throws on ports, options or commands that do not parse (`parseManifest` rejects those).
 */
export function specHash(spec: Spec): string {
  return createHash("sha256").update(canonicalJson(normalizeSpec(spec))).digest("hex");
}

/** The form the hash is taken over; `manifest diff` compares specs in it, field by field. */
export function normalizeSpec(spec: Spec): Json {
  const normal: { [key: string]: Json } = { name: spec.name, host: spec.host, image: spec.image };
  // An empty entrypoint resets the image's, so it is not the same as none: keep it.
  if (spec.entrypoint !== undefined) normal.entrypoint = splitCommand(spec.entrypoint);
  if (spec.cmd !== undefined) normal.cmd = splitCommand(spec.cmd);
  // Published ports form a set for the engine; duplicates still publish twice, so keep them.
  if (spec.ports?.length) {
    normal.ports = spec.ports.map((port) => formatPort(parsePort(port))).sort();
  }
  const environment = Object.entries(spec.environment ?? {});
  if (environment.length) {
    normal.environment = Object.fromEntries(
      environment.map(([key, value]) => [key, String(value)]),
    );
  }
  // Option order is kept: repeated flags such as volumes are applied in the order written.
  if (spec.options?.length) normal.options = normalizeOptions(spec.options);
  // The fields below are absent from older specs: leaving them out when unset keeps those
  // specs' hashes, so an upgrade recreates nothing.
  if (spec.healthcheck) normal.healthcheck = { ...engineHealthcheck(spec.healthcheck) };
  if (spec.restart !== undefined) normal.restart = { ...parseRestartPolicy(spec.restart) };
  if (spec.volumes?.length) normal.volumes = spec.volumes;
  const labels = Object.entries(spec.labels ?? {});
  if (labels.length) {
    normal.labels = Object.fromEntries(labels.map(([key, value]) => [key, String(value)]));
  }
  const resources: { [key: string]: Json } = {};
  if (spec.resources?.memory !== undefined) {
    resources.memory = parseSize(String(spec.resources.memory));
  }
  if (spec.resources?.cpus !== undefined) resources.cpus = parseCpus(String(spec.resources.cpus));
  if (Object.keys(resources).length) normal.resources = resources;
  // Pulling only a missing image is what a spec without `pull` does.
  if (spec.pull !== undefined && spec.pull !== "missing") normal.pull = spec.pull;
  if (spec.stop_timeout !== undefined) normal.stop_timeout = parseStopTimeout(spec.stop_timeout);
  return normal;
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${
      keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")
    }}`;
  }
  return JSON.stringify(value);
}
