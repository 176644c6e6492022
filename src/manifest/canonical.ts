/**
 * The canonical JSON of a normalized spec, the text its hash is taken over. Its keys are those of
 * the hash since the first release (`Test` and `Interval` for a health check, `Name` and
 * `MaximumRetryCount` for a restart policy, `stop_timeout`): renaming any of them would change
 * every stored hash and recreate every container on upgrade. This rendering is the one place in
 * src/manifest that spells Docker's field names, and only because the hash always did.
 */
import { createHash } from "node:crypto";
import type { NormalizedSpec } from "./normalized.ts";
import { formatPort } from "./ports.ts";

/** A JSON value as the canonical form is built from. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The sha256 (hex) of a normalized spec's canonical JSON. */
export function normalizedHash(spec: NormalizedSpec): string {
  return createHash("sha256").update(canonicalJson(canonicalForm(spec))).digest("hex");
}

/**
 * The form the hash is taken over: empty lists and maps left out, ports in their canonical
 * spelling and sorted. `manifest diff` compares specs in it, field by field.
 */
export function canonicalForm(spec: NormalizedSpec): { [key: string]: Json } {
  const form: { [key: string]: Json } = { name: spec.name, host: spec.host, image: spec.image };
  // An empty entrypoint resets the image's, so it is not the same as none: keep it.
  if (spec.entrypoint !== undefined) form.entrypoint = spec.entrypoint;
  if (spec.cmd !== undefined) form.cmd = spec.cmd;
  // Published ports form a set for the engine; duplicates still publish twice, so keep them.
  if (spec.ports.length) form.ports = spec.ports.map(formatPort).sort();
  // A secret is hashed by its name: the server mixes in its value's digest for agents.
  if (Object.keys(spec.environment).length) {
    form.environment = Object.fromEntries(
      Object.entries(spec.environment).map((
        [key, value],
      ) => [key, typeof value === "string" ? value : { secret: value.secret }]),
    );
  }
  // Option order is kept: repeated flags such as volumes are applied in the order written.
  if (spec.options.length) form.options = spec.options;
  // The fields below are absent from older specs: leaving them out when unset keeps those
  // specs' hashes, so an upgrade recreates nothing.
  const check = spec.healthcheck;
  if (check) {
    const health: { [key: string]: Json } = { Test: check.test };
    if (check.interval !== undefined) health.Interval = check.interval;
    if (check.timeout !== undefined) health.Timeout = check.timeout;
    if (check.retries !== undefined) health.Retries = check.retries;
    if (check.startPeriod !== undefined) health.StartPeriod = check.startPeriod;
    form.healthcheck = health;
  }
  if (spec.restart) {
    form.restart = { Name: spec.restart.name };
    if (spec.restart.maxRetries !== undefined) {
      form.restart.MaximumRetryCount = spec.restart.maxRetries;
    }
  }
  if (spec.volumes.length) form.volumes = spec.volumes;
  if (Object.keys(spec.labels).length) form.labels = spec.labels;
  const resources: { [key: string]: Json } = {};
  if (spec.resources.memory !== undefined) resources.memory = spec.resources.memory;
  if (spec.resources.nanoCpus !== undefined) resources.cpus = spec.resources.nanoCpus;
  if (Object.keys(resources).length) form.resources = resources;
  if (spec.pull !== undefined) form.pull = spec.pull;
  if (spec.stopTimeout !== undefined) form.stop_timeout = spec.stopTimeout;
  return form;
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
