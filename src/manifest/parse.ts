/**
 * Manifest text (YAML or JSON) to a validated {@link Manifest} whose specs are parsed once, or a
 * {@link ManifestError} whose details name every problem with its path and, where the text
 * allows, its line and column.
 */
import { quote } from "./describe.ts";
import * as v from "valibot";
import type { ErrorDetail } from "../errors.ts";
import { formatPath, issueDetails, issueMessage, type Key } from "./issues.ts";
import { ManifestError } from "./manifest_error.ts";
import { readJson, readYaml, type Source } from "./read.ts";
import { type Manifest, ManifestSchema } from "./schema.ts";
import { secretUses } from "./secret_refs.ts";

export { ManifestError } from "./manifest_error.ts";

/**
 * Parses and validates a manifest: per container, the spec as written, its normalized form and
 * its hash. `format` is how the body was sent: a JSON body sent as YAML, or YAML sent as JSON,
 * is rejected with a message saying how to send it instead.
 */
export function parseManifest(
  text: string,
  format: "yaml" | "json",
  options: ParseOptions = {},
): Manifest {
  const body = text.replace(/^\uFEFF/, "");
  if (body.trim() === "") throw new ManifestError([{ message: "manifest is empty" }]);
  const source = format === "json" ? readJson(body) : readYaml(body);
  const result = v.safeParse(ManifestSchema, source.data, { message: issueMessage });
  const details = [
    ...(result.success ? [] : issueDetails(result.issues, source.locate, ManifestSchema)),
    ...crossSpecDetails(source),
    ...(result.success && options.secretMissing
      ? missingSecretDetails(result.output, source, options.secretMissing)
      : []),
  ];
  if (!result.success || details.length > 0) throw new ManifestError(details);
  return result.output;
}

/** What a manifest is checked against beside its schema. */
export interface ParseOptions {
  /**
   * Why a secret a variable refers to cannot be used (it does not exist), or undefined when it
   * can: the server's secrets, which a manifest alone cannot know.
   */
  secretMissing?: (name: string) => string | undefined;
}

/** A detail, with its line and column, per variable whose secret cannot be used. */
function missingSecretDetails(
  manifest: Manifest,
  source: Source,
  missing: (name: string) => string | undefined,
): ErrorDetail[] {
  return secretUses(manifest).flatMap((use) => {
    const message = missing(use.secret);
    if (message === undefined) return [];
    const path = ["containers", use.index, "environment", use.variable, "secret"];
    return [{ path: formatPath(path), message, ...source.locate(path, false) }];
  });
}

/** The mappings of a spec whose keys are names, where each is, and what its keys name. */
const NAMED_MAPS = [
  [["environment"], "variable"],
  [["labels"], "label"],
  // A placement label that vanished would let the server place a replica on any host.
  [["placement", "labels"], "label"],
] as const;

/** The value of a mapping's field, if the value is a mapping. */
function fieldOf(value: unknown, key: string): unknown {
  return value !== null && typeof value === "object"
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** Checks across specs, and of keys the schema cannot see. */
function crossSpecDetails(source: Source): ErrorDetail[] {
  const containers = (source.data as { containers?: unknown }).containers;
  if (!Array.isArray(containers)) return [];
  const details: ErrorDetail[] = [];
  const add = (path: Key[], message: string, atKey: boolean) =>
    details.push({ path: formatPath(path), message, ...source.locate(path, atKey) });
  const firstByName = new Map<string, number>();
  for (const [index, spec] of containers.entries()) {
    if (spec === null || typeof spec !== "object") continue;
    const { name } = spec as { name?: unknown };
    if (typeof name === "string") {
      const first = firstByName.get(name);
      if (first === undefined) {
        firstByName.set(name, index);
      } else {
        const firstLine = source.locate(["containers", first, "name"], false)?.line;
        const where = firstLine === undefined ? `by containers[${first}]` : `on line ${firstLine}`;
        add(
          ["containers", index, "name"],
          `container name ${quote(name)} is already used ${where}`,
          false,
        );
      }
    }
    for (const [path, what] of NAMED_MAPS) {
      const map = path.reduce<unknown>((value, key) => fieldOf(value, key), spec);
      if (map === null || typeof map !== "object") continue;
      // The schema's record drops these keys silently; a variable or label must never vanish.
      for (const key of ["__proto__", "prototype", "constructor"]) {
        if (!Object.hasOwn(map, key)) continue;
        add(
          ["containers", index, ...path, key],
          `${what} name ${quote(key)} is not supported`,
          true,
        );
      }
    }
  }
  return details;
}
