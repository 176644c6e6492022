/**
 * Revisions: every `up` that changes something stores the manifest's text as the next revision of
 * its name. Numbers start at 1 per manifest and only grow, and the history is kept after a down, so
 * a later up of the same name carries on where it stopped.
 */
import type {
  ManifestFormat,
  ManifestHistory,
  ManifestSource,
  Revision,
  UpResult,
} from "../api/schemas.ts";
import { NotFoundError } from "../api/errors.ts";
import type { Store } from "./store/store.ts";

/** The answer for a manifest without revisions: never applied (or not since revisions exist). */
export function noRevisions(manifest: string): NotFoundError {
  return new NotFoundError(`manifest ${manifest} has no revisions`);
}

/**
 * Stores `source` as the next revision of the manifest when `result` changed something, and
 * returns its number; undefined when nothing changed or there is no source. Call it inside the
 * transaction of the up (`tx`), so the change and its revision are written together.
 */
export async function recordRevision(
  tx: Store,
  result: UpResult,
  source: ManifestSource | undefined,
  actor: string,
  now: string,
): Promise<number | undefined> {
  const changed = result.created.length + result.updated.length + result.removed.length > 0;
  if (source === undefined || !changed) return undefined;
  const number = await tx.latestRevision(result.manifest) + 1;
  await tx.insertRevision({ manifest: result.manifest, number, ...source, actor, at: now });
  return number;
}

/** A manifest's revisions, newest first, the latest marked current; `NotFoundError` for none. */
export async function manifestHistory(db: Store, manifest: string): Promise<ManifestHistory> {
  const rows = await db.revisionsOf(manifest);
  if (rows.length === 0) throw noRevisions(manifest);
  const current = rows[0].number;
  return {
    manifest,
    revisions: rows.map((row) => ({ ...row, current: row.number === current })),
  };
}

/** One revision with its text; `NotFoundError` when the manifest has no such revision. */
export async function manifestRevision(
  db: Store,
  manifest: string,
  number: number,
): Promise<Revision> {
  const row = await db.revision(manifest, number);
  if (row === undefined) {
    throw await db.latestRevision(manifest) === 0
      ? noRevisions(manifest)
      : new NotFoundError(`manifest ${manifest} has no revision ${number}`);
  }
  // Only `yaml` and `json` are ever stored (ManifestSource).
  return { ...row, format: row.format as ManifestFormat };
}
