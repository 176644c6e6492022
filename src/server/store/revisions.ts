/** Statements on revisions: each accepted version of a manifest, kept after its down. */
import { REVISION_COLUMNS, type RevisionEntryRow, type RevisionRow } from "./rows.ts";
import { params, type Prepare } from "./sqlite.ts";

/** The revision statements, prepared once, as typed methods. */
export function revisionStatements(p: Prepare) {
  const s = {
    insertRevision: p(
      `INSERT INTO revisions (${REVISION_COLUMNS.join(", ")}) VALUES (${params(REVISION_COLUMNS)})`,
    ),
    latestRevision: p(
      "SELECT coalesce(max(number), 0) AS number FROM revisions WHERE manifest = $manifest",
    ),
    revisionsOf: p(
      "SELECT number, actor, at FROM revisions WHERE manifest = $manifest ORDER BY number DESC",
    ),
    revision: p(
      `SELECT ${REVISION_COLUMNS.join(", ")} FROM revisions ` +
        "WHERE manifest = $manifest AND number = $number",
    ),
  };
  return {
    /** Stores a revision; its number must be new for its manifest. */
    insertRevision(row: RevisionRow): void {
      s.insertRevision.run(row);
    },

    /** The number of a manifest's latest revision (0: none yet). */
    latestRevision(manifest: string): number {
      return s.latestRevision.get<{ number: number }>({ manifest })?.number ?? 0;
    },

    /** A manifest's revisions, newest first, without their texts. */
    revisionsOf(manifest: string): RevisionEntryRow[] {
      return s.revisionsOf.all<RevisionEntryRow>({ manifest });
    },

    /** One revision of a manifest, with its text. */
    revision(manifest: string, number: number): RevisionRow | undefined {
      return s.revision.get<RevisionRow>({ manifest, number });
    },
  };
}

/** The revision methods of the store. */
export type RevisionStatements = ReturnType<typeof revisionStatements>;
