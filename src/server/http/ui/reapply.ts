/**
 * The manifest page's re-apply: the current revision is applied again through `up` (which sets
 * stopped or killed containers running again and brings back a manifest that is down); an older
 * one is a rollback to it.
 */
import type { UpResult } from "../../../api/schemas.ts";
import { ConflictError } from "../../../api/errors.ts";
import { ManifestError, parseManifest } from "../../../manifest/parse.ts";
import type { Planner } from "../../planner.ts";
import { manifestRevision } from "../../revisions.ts";
import { rollback } from "../../rollback.ts";

/** Applies revision `number` of `manifest` again; `actor` is who asked. */
export async function reapply(
  planner: Planner,
  manifest: string,
  number: number,
  actor: string,
): Promise<UpResult> {
  if (number !== await planner.store.latestRevision(manifest)) {
    return await rollback(planner, manifest, number, actor);
  }
  const source = await manifestRevision(planner.store, manifest, number);
  let parsed;
  try {
    parsed = parseManifest(source.text, source.format);
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    throw new ConflictError(
      `revision ${number} of ${manifest} does not validate any more: ${error.message}`,
    );
  }
  return await planner.up(parsed, actor, { text: source.text, format: source.format });
}
