/**
 * `manifest rollback`: re-applies a stored revision through the planner's `up`, as a new revision
 * holding the same text, in one transaction with the event that says so.
 */
import type { RollbackResult } from "../api/schemas.ts";
import { ConflictError } from "../api/errors.ts";
import { ManifestError, parseManifest } from "../manifest/parse.ts";
import type { Planner } from "./planner.ts";
import { manifestRevision, noRevisions } from "./revisions.ts";

/**
 * Rolls `manifest` back to revision `to` (default: the one before the latest) and answers what
 * `up` did, with the revision re-applied and the new one's number. `NotFoundError` for an unknown manifest or revision;
 * `ConflictError` when `to` is the latest, when there is no earlier one, when it would change
 * nothing, or when its text no longer validates.
 */
export function rollback(
  planner: Planner,
  manifest: string,
  to: number | undefined,
  actor: string,
): Promise<RollbackResult> {
  return planner.store.transaction(async (tx) => {
    const current = await tx.latestRevision(manifest);
    if (current === 0) throw noRevisions(manifest);
    if (to === undefined && current === 1) {
      throw new ConflictError(`manifest ${manifest} has only one revision`);
    }
    const target = to ?? current - 1;
    if (target === current) {
      throw new ConflictError(`revision ${current} is already the current one`);
    }
    const { text, format } = await manifestRevision(tx, manifest, target);
    let parsed;
    try {
      parsed = parseManifest(text, format);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      // The request is fine: what it names no longer passes the door it once passed.
      throw new ConflictError(
        `revision ${target} of ${manifest} does not validate any more: ${error.message}`,
      );
    }
    const { revision, ...result } = await planner.up(parsed, actor, { text, format }, tx);
    if (revision === undefined) {
      // Throwing rolls back the little `up` wrote (the manifest's last-applied time).
      throw new ConflictError(
        `revision ${target} holds what ${manifest} runs now: nothing to roll back`,
      );
    }
    await planner.events.record(tx, [{
      kind: "up",
      actor,
      manifest,
      action: "rollback",
      changes: [{ field: "revision", from: current, to: target }],
    }]);
    return { ...result, revision, to: target };
  });
}
