/** One spec parsed on its own, outside a manifest: for the hash of a spec and for stored specs. */
import * as v from "valibot";
import { type ErrorDetail, LauncherError } from "../errors.ts";
import { issueDetails, issueMessage, type SchemaShape } from "./issues.ts";
import { type ParsedSpec, SpecSchema, StoredSpecSchema } from "./schema.ts";

/** A spec that does not validate; `details` holds every problem, with paths inside the spec. */
export class SpecError extends LauncherError {
  override readonly status = 400;

  constructor(details: ErrorDetail[]) {
    const [first] = details;
    const more = details.length > 1 ? ` (and ${details.length - 1} more)` : "";
    super(
      "invalid_spec",
      first ? `${first.path ? `${first.path}: ` : ""}${first.message}${more}` : "spec is invalid",
      details,
    );
  }
}

/** Checks, parses and normalizes one spec as a manifest would. Throws {@link SpecError}. */
export function parseSpec(spec: unknown): ParsedSpec {
  return parseWith(SpecSchema, spec);
}

/**
 * Parses a spec stored by this or an earlier version, whose image reference was accepted then.
 * Throws {@link SpecError}.
 */
export function parseStoredSpec(spec: unknown): ParsedSpec {
  return parseWith(StoredSpecSchema, spec);
}

function parseWith(schema: typeof SpecSchema | typeof StoredSpecSchema, spec: unknown) {
  const result = v.safeParse(schema, spec, { message: issueMessage });
  if (result.success) return result.output;
  throw new SpecError(issueDetails(result.issues, () => undefined, schema as SchemaShape));
}
