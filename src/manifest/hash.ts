/**
 * The spec hash: agents label containers with it, so only changed specs are recreated. It is taken
 * over the canonical JSON of the normalized spec (`canonical.ts`).
 */
import type { Spec } from "./schema.ts";
import { parseSpec } from "./spec.ts";

export { canonicalForm, type Json, normalizedHash } from "./canonical.ts";

/**
 * The sha256 (hex) of the spec's normalized form: commands split into words, ports and options
 * in their canonical spelling, environment and label values as strings, sizes, CPUs and
 * durations in the engine's units, empty lists and maps as absent.
 * Specs that mean the same hash the same; any change the engine would see changes the hash.
 * Throws `SpecError` on a spec that does not validate. At the door, `parseManifest` gives every
 * spec's hash without this second parse.
 */
export function specHash(spec: Spec): string {
  return parseSpec(spec).hash;
}
