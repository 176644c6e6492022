/**
 * Statements for `launcher store copy` (`copy.ts`): reads of what no other statement lists, and
 * writes that keep what the other statements make anew (ids, creation times, counters). Only for
 * copying into a new, empty store.
 */
import {
  EVENT_COLUMNS,
  type EventRow,
  type HostIndexRow,
  type ManifestRow,
  REVISION_COLUMNS,
  type RevisionRow,
} from "./rows.ts";
import { placeholders, type Prepare, valuesOf } from "./sqlite.ts";

/** The copy statements, prepared once, as typed methods. */
export function copyStatements(p: Prepare) {
  const s = {
    allHostIndexes: p("SELECT name, idx FROM hosts ORDER BY name"),
    indexCounter: p("SELECT value FROM meta WHERE key = 'index'"),
    allRevisions: p(
      `SELECT ${REVISION_COLUMNS.join(", ")} FROM revisions ORDER BY manifest, number`,
    ),
    copyManifest: p(
      "INSERT INTO manifests (name, policy, created_at, updated_at) " +
        "VALUES ($name, $policy, $created_at, $updated_at)",
    ),
    copyHostIndex: p("INSERT INTO hosts (name, idx) VALUES ($name, $idx)"),
    copyIndexCounter: p(
      "INSERT INTO meta (key, value) VALUES ('index', $value) ON CONFLICT (key) DO UPDATE " +
        "SET value = max(CAST(meta.value AS INTEGER), CAST(excluded.value AS INTEGER))",
    ),
    copyClusterId: p("UPDATE meta SET value = $id WHERE key = 'cluster'"),
    copyEvent: p(
      `INSERT INTO events (${EVENT_COLUMNS.join(", ")}) VALUES (${placeholders(EVENT_COLUMNS)})`,
    ),
    // AUTOINCREMENT keeps the last id in `sqlite_sequence`, whose row exists once an event was.
    raiseLastEventId: p(
      "UPDATE sqlite_sequence SET seq = max(seq, $id) WHERE name = 'events'",
    ),
    setLastEventId: p("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', $id)"),
  };
  return {
    /** Every host's index, by name. */
    allHostIndexes(): HostIndexRow[] {
      return s.allHostIndexes.all<HostIndexRow>();
    },

    /** The global index counter (0: none yet). */
    indexCounter(): number {
      const row = s.indexCounter.get<{ value: string }>();
      return row === undefined ? 0 : Number(row.value);
    },

    /** Every revision with its text; by manifest, then number. */
    allRevisions(): RevisionRow[] {
      return s.allRevisions.all<RevisionRow>();
    },

    /** Inserts a manifest row as it is. */
    copyManifest(row: ManifestRow): void {
      s.copyManifest.run(row);
    },

    /** Inserts a host's index as it is. */
    copyHostIndex(row: HostIndexRow): void {
      s.copyHostIndex.run(row);
    },

    /** Raises the global index counter to `value`. */
    copyIndexCounter(value: number): void {
      s.copyIndexCounter.run({ value: String(value) });
    },

    /** Replaces the installation's id. */
    copyClusterId(id: string): void {
      s.copyClusterId.run({ id });
    },

    /** Inserts an event with its id. */
    copyEvent(row: EventRow): void {
      s.copyEvent.runValues(valuesOf(row, EVENT_COLUMNS));
    },

    /** Makes `id` the last event id ever recorded, when higher. */
    copyLastEventId(id: number): void {
      if (s.raiseLastEventId.run({ id }).changes === 0) s.setLastEventId.run({ id });
    },
  };
}

/** The copy methods of the store. */
export type CopyStatements = ReturnType<typeof copyStatements>;
