/** Statements on the event history. */
import { EVENT_COLUMNS, type EventQuery, type EventRow } from "./rows.ts";
import { placeholders, type Prepare, valuesOf } from "./sqlite.ts";

/** SQLite gives each event its id. */
const INSERTED_COLUMNS = EVENT_COLUMNS.filter((col) => col !== "id");
const SELECT = `SELECT ${EVENT_COLUMNS.join(", ")} FROM events WHERE id > $after ` +
  "AND at >= $since AND ($manifest IS NULL OR manifest = $manifest) " +
  "AND ($host IS NULL OR host = $host)";

/** The event statements, prepared once, as typed methods. */
export function eventStatements(p: Prepare) {
  const s = {
    insertEvent: p(
      `INSERT INTO events (${INSERTED_COLUMNS.join(", ")}) ` +
        `VALUES (${placeholders(INSERTED_COLUMNS)})`,
    ),
    firstEvents: p(`${SELECT} ORDER BY id LIMIT $limit`),
    lastEvents: p(`${SELECT} ORDER BY id DESC LIMIT $limit`),
    lastEventId: p("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
    countEvents: p("SELECT count(*) AS n FROM events"),
    pruneEventsBefore: p(
      "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < $cutoff LIMIT $limit)",
    ),
    pruneEventsBeyond: p(
      "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id " +
        "LIMIT max(0, min($limit, (SELECT count(*) FROM events) - $keep)))",
    ),
  };
  return {
    /** Records an event and returns its id. */
    insertEvent(row: Omit<EventRow, "id">): number {
      return s.insertEvent.runValues(valuesOf(row, INSERTED_COLUMNS)).lastInsertRowid;
    },

    /** Records events in order; the last one's id (0: none). */
    insertEvents(rows: readonly Omit<EventRow, "id">[]): number {
      let last = 0;
      for (const row of rows) {
        last = s.insertEvent.runValues(valuesOf(row, INSERTED_COLUMNS)).lastInsertRowid;
      }
      return last;
    },

    /** The first `limit` events after `after`, by id. */
    firstEvents(query: EventQuery): EventRow[] {
      return s.firstEvents.all<EventRow>(query);
    },

    /** The last `limit` events after `after`, by id. */
    lastEvents(query: EventQuery): EventRow[] {
      return s.lastEvents.all<EventRow>(query).reverse();
    },

    /** The id of the last event ever recorded, pruned or not (0: none yet). */
    lastEventId(): number {
      const row = s.lastEventId.get<{ seq: number }>();
      return row === undefined ? 0 : Number(row.seq);
    },

    /** How many events are stored. */
    countEvents(): number {
      return Number(s.countEvents.get<{ n: number }>()?.n ?? 0);
    },

    /** Deletes up to `limit` events older than `cutoff` (ISO time); returns how many. */
    pruneEventsBefore(cutoff: string, limit: number): number {
      return s.pruneEventsBefore.run({ cutoff, limit }).changes;
    },

    /** Deletes up to `limit` of the oldest events beyond the newest `keep`; returns how many. */
    pruneEventsBeyond(keep: number, limit: number): number {
      return s.pruneEventsBeyond.run({ keep, limit }).changes;
    },
  };
}

/** The event methods of the store. */
export type EventStatements = ReturnType<typeof eventStatements>;
