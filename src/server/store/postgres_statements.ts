/**
 * The PostgreSQL store's statements: each statement of the contract as one query with `$1`
 * parameters, with what it binds and how its result answers. Each says whether it writes, since
 * the store runs writes under its write lock (`postgres_store.ts`); the store names each query
 * after its statement, so that a connection prepares it once. Row columns and lists come back as
 * SQLite's do (`rows.ts`), in the same orders.
 */
import type pg from "pg";
import {
  CONTAINER_COLUMNS,
  type ContainerRow,
  EVENT_COLUMNS,
  type EventRow,
  HOST_COLUMNS,
  type HostCountRow,
  type HostRow,
  type ManifestRow,
  REVISION_COLUMNS,
  type RevisionEntryRow,
  type RevisionRow,
  ROLLOUT_COLUMNS,
  type RolloutRow,
  TOKEN_COLUMNS,
  type TokenRow,
} from "./rows.ts";
import type { StoreStatements } from "./store.ts";

/** One statement: its query, whether it writes, what it binds and what it answers. */
export interface PgStatement<A extends unknown[], R> {
  write: boolean;
  text: string;
  values(...args: A): unknown[];
  answer(result: pg.QueryResult): R;
}

/** Every statement of the contract, each with its parameters and answer. */
export type PgStatements = {
  [K in keyof StoreStatements]: StoreStatements[K] extends (...args: infer A) => Promise<infer R>
    ? PgStatement<A, R>
    : never;
};

/** `$1, $2, ...`: the parameters of an insert of `cols`. */
function params(cols: string[], from = 1): string {
  return cols.map((_, i) => `$${i + from}`).join(", ");
}

/** The values of `cols` in `row`, in order. */
function valuesOf<Row extends object>(row: Row, cols: string[]): unknown[] {
  return cols.map((col) => (row as Record<string, unknown>)[col]);
}

/** `INSERT INTO table (cols) VALUES ($1, ...)`. */
function insert(table: string, cols: string[]): string {
  return `INSERT INTO ${table} (${cols.join(", ")}) VALUES (${params(cols)})`;
}

/** An insert of every column of a row, or an overwrite of all but the key (`cols[0]`). */
function upsert(table: string, cols: string[]): string {
  const overwrite = cols.slice(1).map((col) => `${col} = excluded.${col}`).join(", ");
  return `${insert(table, cols)} ON CONFLICT (${cols[0]}) DO UPDATE SET ${overwrite}`;
}

const all = (result: pg.QueryResult) => result.rows;
const first = (result: pg.QueryResult) => result.rows[0];
const found = (result: pg.QueryResult) => result.rows.length > 0;
const changed = (result: pg.QueryResult) => (result.rowCount ?? 0) > 0;
const nothing = () => {};
/** The first row's `n`, a count. */
const count = (result: pg.QueryResult) => Number(result.rows[0].n);

const CONTAINERS = `SELECT ${CONTAINER_COLUMNS.join(", ")} FROM containers`;
/** An update writes every column but the key and the creation time. */
const UPDATED_COLUMNS = CONTAINER_COLUMNS.filter((col) =>
  !["manifest", "name", "created_at"].includes(col)
);
const HOSTS = `SELECT ${HOST_COLUMNS.join(", ")} FROM host_info`;
const TOKENS = `SELECT ${TOKEN_COLUMNS.join(", ")} FROM tokens`;
const ROLLOUTS = `SELECT ${ROLLOUT_COLUMNS.join(", ")} FROM rollouts`;
/** PostgreSQL gives each event its id. */
const INSERTED_EVENT_COLUMNS = EVENT_COLUMNS.filter((col) => col !== "id");
const EVENTS = `SELECT ${EVENT_COLUMNS.join(", ")} FROM events WHERE id > $1 AND at >= $2 ` +
  "AND ($3::text IS NULL OR manifest = $3) AND ($4::text IS NULL OR host = $4)";

/**
 * Deletes the events `ids` selects and answers how many (`n`), keeping the highest id it deleted
 * in `meta` (`events_pruned`): the last event id outlives its event. Identity values are not
 * transactional and may belong to a transaction still open, so the last id is read from the rows
 * (`lastEventId`), never from the sequence.
 */
function pruneEvents(ids: string): string {
  return `WITH gone AS (DELETE FROM events WHERE id IN (${ids}) RETURNING id),
  mark AS (
    INSERT INTO meta (key, value)
    SELECT 'events_pruned', max(id)::text FROM gone HAVING count(*) > 0
    ON CONFLICT (key) DO UPDATE
    SET value = greatest(meta.value::bigint, excluded.value::bigint)::text
  )
  SELECT count(*) AS n FROM gone`;
}

/** The statements, by the contract's names. */
export const PG_STATEMENTS: PgStatements = {
  // Manifests and containers.
  hasManifest: {
    write: false,
    text: "SELECT 1 FROM manifests WHERE name = $1",
    values: (name) => [name],
    answer: found,
  },
  upsertManifest: {
    write: true,
    text: "INSERT INTO manifests (name, policy, created_at, updated_at) VALUES ($1, $2, $3, $3) " +
      "ON CONFLICT (name) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at",
    values: (name, policy, now) => [name, policy, now],
    answer: nothing,
  },
  manifest: {
    write: false,
    text: "SELECT name, policy, created_at, updated_at FROM manifests WHERE name = $1",
    values: (name) => [name],
    answer: (result) => first(result) as ManifestRow | undefined,
  },
  deleteManifestIfEmpty: {
    write: true,
    text: "DELETE FROM manifests WHERE name = $1 " +
      "AND NOT EXISTS (SELECT 1 FROM containers WHERE manifest = $1)",
    values: (name) => [name],
    answer: nothing,
  },
  allManifests: {
    write: false,
    text: "SELECT name, policy, created_at, updated_at FROM manifests ORDER BY name",
    values: () => [],
    answer: (result) => all(result) as ManifestRow[],
  },
  unplacedContainers: {
    write: false,
    text: `${CONTAINERS} WHERE host = '' AND desired != 'removed' ORDER BY manifest, name`,
    values: () => [],
    answer: (result) => all(result) as ContainerRow[],
  },
  placedContainers: {
    write: false,
    text: `${CONTAINERS} WHERE template != '' ORDER BY manifest, name`,
    values: () => [],
    answer: (result) => all(result) as ContainerRow[],
  },
  placedHosts: {
    write: false,
    text: "SELECT DISTINCT host FROM containers " +
      "WHERE template != '' AND host != '' AND desired != 'removed' ORDER BY host",
    values: () => [],
    answer: (result) => all(result).map((row) => String(row.host)),
  },
  replacingContainers: {
    write: false,
    text: `${CONTAINERS} WHERE replaces != '' ORDER BY manifest, name`,
    values: () => [],
    answer: (result) => all(result) as ContainerRow[],
  },
  containersOfManifest: {
    write: false,
    text: `${CONTAINERS} WHERE manifest = $1 ORDER BY name`,
    values: (manifest) => [manifest],
    answer: (result) => all(result) as ContainerRow[],
  },
  allContainers: {
    write: false,
    text: `${CONTAINERS} ORDER BY manifest, name`,
    values: () => [],
    answer: (result) => all(result) as ContainerRow[],
  },
  containersOfHost: {
    write: false,
    text: `${CONTAINERS} WHERE host = $1 ORDER BY manifest, name`,
    values: (host) => [host],
    answer: (result) => all(result) as ContainerRow[],
  },
  containersByHostAndName: {
    write: false,
    text: `${CONTAINERS} WHERE host = $1 AND name = $2 ORDER BY manifest`,
    values: (host, name) => [host, name],
    answer: (result) => all(result) as ContainerRow[],
  },
  container: {
    write: false,
    text: `${CONTAINERS} WHERE manifest = $1 AND name = $2`,
    values: (manifest, name) => [manifest, name],
    answer: (result) => first(result) as ContainerRow | undefined,
  },
  insertContainer: {
    write: true,
    text: insert("containers", CONTAINER_COLUMNS),
    values: (row) => valuesOf(row, CONTAINER_COLUMNS),
    answer: nothing,
  },
  updateContainer: {
    write: true,
    text: `UPDATE containers SET ${
      UPDATED_COLUMNS.map((col, i) => `${col} = $${i + 3}`).join(", ")
    } WHERE manifest = $1 AND name = $2`,
    values: (row) => valuesOf(row, ["manifest", "name", ...UPDATED_COLUMNS]),
    answer: nothing,
  },
  deleteContainer: {
    write: true,
    text: "DELETE FROM containers WHERE manifest = $1 AND name = $2",
    values: (manifest, name) => [manifest, name],
    answer: nothing,
  },
  hostCounts: {
    write: false,
    text: "SELECT host, count(*) FILTER (WHERE state = 'running') AS running, count(*) AS total " +
      "FROM containers GROUP BY host ORDER BY host",
    values: () => [],
    answer: (result) => all(result) as HostCountRow[],
  },

  // Host indexes: the global counter is a row of `meta`, moved in the statement that reads it.
  hostIndex: {
    write: false,
    text: "SELECT idx FROM hosts WHERE name = $1",
    values: (host) => [host],
    answer: (result) => Number(first(result)?.idx ?? 0),
  },
  bumpHostIndex: {
    write: true,
    text: `WITH counter AS (
      INSERT INTO meta (key, value) VALUES ('index', '1')
      ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text
      RETURNING value::bigint AS idx
    )
    INSERT INTO hosts (name, idx) SELECT $1, idx FROM counter
    ON CONFLICT (name) DO UPDATE SET idx = excluded.idx
    RETURNING idx`,
    values: (host) => [host],
    answer: (result) => Number(first(result).idx),
  },

  // Hosts.
  hostInfo: {
    write: false,
    text: `${HOSTS} WHERE name = $1`,
    values: (name) => [name],
    answer: (result) => first(result) as HostRow | undefined,
  },
  allHostInfo: {
    write: false,
    text: `${HOSTS} ORDER BY name`,
    values: () => [],
    answer: (result) => all(result) as HostRow[],
  },
  upsertHostInfo: {
    write: true,
    text: upsert("host_info", HOST_COLUMNS),
    values: (row) => valuesOf(row, HOST_COLUMNS),
    answer: nothing,
  },
  touchHostInfo: {
    write: true,
    text: "UPDATE host_info SET last_seen = $2 WHERE name = $1",
    values: (name, now) => [name, now],
    answer: nothing,
  },
  deleteHostInfo: {
    write: true,
    text: "DELETE FROM host_info WHERE name = $1",
    values: (name) => [name],
    answer: nothing,
  },

  // Events.
  insertEvent: {
    write: true,
    text: `${insert("events", INSERTED_EVENT_COLUMNS)} RETURNING id`,
    values: (row) => valuesOf(row, INSERTED_EVENT_COLUMNS),
    answer: (result) => Number(first(result).id),
  },
  firstEvents: {
    write: false,
    text: `${EVENTS} ORDER BY id LIMIT $5`,
    values: (q) => [q.after, q.since, q.manifest, q.host, q.limit],
    answer: (result) => all(result) as EventRow[],
  },
  lastEvents: {
    write: false,
    text: `${EVENTS} ORDER BY id DESC LIMIT $5`,
    values: (q) => [q.after, q.since, q.manifest, q.host, q.limit],
    answer: (result) => (all(result) as EventRow[]).reverse(),
  },
  lastEventId: {
    write: false,
    text: "SELECT greatest((SELECT max(id) FROM events), " +
      "(SELECT value::bigint FROM meta WHERE key = 'events_pruned'), 0) AS id",
    values: () => [],
    answer: (result) => Number(first(result).id),
  },
  countEvents: {
    write: false,
    text: "SELECT count(*) AS n FROM events",
    values: () => [],
    answer: count,
  },
  pruneEventsBefore: {
    write: true,
    text: pruneEvents("SELECT id FROM events WHERE at < $1 ORDER BY id LIMIT $2"),
    values: (cutoff, limit) => [cutoff, limit],
    answer: count,
  },
  pruneEventsBeyond: {
    write: true,
    text: pruneEvents(
      "SELECT id FROM events ORDER BY id " +
        "LIMIT greatest(0, least($2::bigint, (SELECT count(*) FROM events) - $1::bigint))",
    ),
    values: (keep, limit) => [keep, limit],
    answer: count,
  },

  // Tokens: `seq` keeps the order they were inserted in, as SQLite's rowid does.
  insertToken: {
    write: true,
    text: insert("tokens", TOKEN_COLUMNS),
    values: (row) => valuesOf(row, TOKEN_COLUMNS),
    answer: nothing,
  },
  tokenByHash: {
    write: false,
    text: `${TOKENS} WHERE hash = $1`,
    values: (hash) => [hash],
    answer: (result) => first(result) as TokenRow | undefined,
  },
  allTokens: {
    write: false,
    text: `${TOKENS} ORDER BY created_at, seq`,
    values: () => [],
    answer: (result) => all(result) as TokenRow[],
  },
  touchToken: {
    write: true,
    text: "UPDATE tokens SET last_used_at = $2 WHERE id = $1",
    values: (id, now) => [id, now],
    answer: nothing,
  },
  revokeToken: {
    write: true,
    text: "UPDATE tokens SET revoked = 1 WHERE id = $1",
    values: (id) => [id],
    answer: changed,
  },

  // Rollouts.
  rollout: {
    write: false,
    text: `${ROLLOUTS} WHERE manifest = $1`,
    values: (manifest) => [manifest],
    answer: (result) => first(result) as RolloutRow | undefined,
  },
  activeRollouts: {
    write: false,
    text: `${ROLLOUTS} WHERE status = 'running' ORDER BY manifest`,
    values: () => [],
    answer: (result) => all(result) as RolloutRow[],
  },
  allRollouts: {
    write: false,
    text: `${ROLLOUTS} ORDER BY manifest`,
    values: () => [],
    answer: (result) => all(result) as RolloutRow[],
  },
  putRollout: {
    write: true,
    text: upsert("rollouts", ROLLOUT_COLUMNS),
    values: (row) => valuesOf(row, ROLLOUT_COLUMNS),
    answer: nothing,
  },

  // Revisions.
  insertRevision: {
    write: true,
    text: insert("revisions", REVISION_COLUMNS),
    values: (row) => valuesOf(row, REVISION_COLUMNS),
    answer: nothing,
  },
  latestRevision: {
    write: false,
    text: "SELECT coalesce(max(number), 0) AS number FROM revisions WHERE manifest = $1",
    values: (manifest) => [manifest],
    answer: (result) => Number(first(result).number),
  },
  revisionsOf: {
    write: false,
    text: "SELECT number, actor, at FROM revisions WHERE manifest = $1 ORDER BY number DESC",
    values: (manifest) => [manifest],
    answer: (result) => all(result) as RevisionEntryRow[],
  },
  revision: {
    write: false,
    text: `SELECT ${
      REVISION_COLUMNS.join(", ")
    } FROM revisions WHERE manifest = $1 AND number = $2`,
    values: (manifest, number) => [manifest, number],
    answer: (result) => first(result) as RevisionRow | undefined,
  },
};

/** The statement that reads the installation's id, once, when the store opens. */
export const CLUSTER_ID = "SELECT value FROM meta WHERE key = 'cluster'";
