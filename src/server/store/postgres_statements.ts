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
  CONTAINER_STATE_COLUMNS,
  EVENT_COLUMNS,
  type EventQuery,
  HOST_COLUMNS,
  REVISION_COLUMNS,
  ROLLOUT_COLUMNS,
  SECRET_COLUMNS,
  SESSION_COLUMNS,
  TOKEN_COLUMNS,
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
function params(cols: string[]): string {
  return cols.map((_, i) => `$${i + 1}`).join(", ");
}

/** The values of a row's `cols`, in order: what a statement writing the row binds. */
function rowValues(cols: string[]): (row: object) => unknown[] {
  return (row) => cols.map((col) => (row as Record<string, unknown>)[col]);
}

/** A row's `cols` alone, for a statement that reads rows from JSON (`json_populate_recordset`). */
function rowValuesObject(cols: string[]): (row: object) => Record<string, unknown> {
  return (row) =>
    Object.fromEntries(cols.map((col) => [col, (row as Record<string, unknown>)[col] ?? null]));
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

/** A statement's parameters when it binds its arguments as they come. */
const asGiven = (...args: unknown[]) => args;

/**
 * Statements that read (or write): `text`, bound to its arguments as they come (or to what
 * `values` makes of them), answered by `answer`.
 */
function statements(write: boolean) {
  return <A extends unknown[], R>(
    text: string,
    answer: (result: pg.QueryResult) => R,
    values: (...args: A) => unknown[] = asGiven,
  ): PgStatement<A, R> => ({ write, text, values, answer });
}
const read = statements(false);
const write = statements(true);

// Rows come back as plain objects with the columns' names (`any` to the driver's types).
const all = (result: pg.QueryResult) => result.rows;
const first = (result: pg.QueryResult) => result.rows[0];
const found = (result: pg.QueryResult) => result.rows.length > 0;
const changed = (result: pg.QueryResult) => (result.rowCount ?? 0) > 0;
const deleted = (result: pg.QueryResult) => result.rowCount ?? 0;
const nothing = () => {};
/** The first row's `n`, a count or a number. */
const number = (column: string) => (result: pg.QueryResult) =>
  Number(result.rows[0]?.[column] ?? 0);

const CONTAINERS = `SELECT ${CONTAINER_COLUMNS.join(", ")} FROM containers`;
/** An update writes every column but the key and the creation time. */
const UPDATED_COLUMNS = CONTAINER_COLUMNS.filter((col) =>
  !["manifest", "name", "created_at"].includes(col)
);
const HOSTS = `SELECT ${HOST_COLUMNS.join(", ")} FROM host_info`;
const SECRETS = `SELECT ${SECRET_COLUMNS.join(", ")} FROM secrets`;
const TOKENS = `SELECT ${TOKEN_COLUMNS.join(", ")} FROM tokens`;
const ROLLOUTS = `SELECT ${ROLLOUT_COLUMNS.join(", ")} FROM rollouts`;
const MANIFEST_COLUMNS = ["name", "policy", "created_at", "updated_at"];
const MANIFESTS = `SELECT ${MANIFEST_COLUMNS.join(", ")} FROM manifests`;
/** PostgreSQL gives each event its id. */
const INSERTED_EVENT_COLUMNS = EVENT_COLUMNS.filter((col) => col !== "id");
const EVENTS = `SELECT ${EVENT_COLUMNS.join(", ")} FROM events WHERE id > $1 AND at >= $2 ` +
  "AND ($3::text IS NULL OR manifest = $3) AND ($4::text IS NULL OR host = $4)";
const eventQuery = (q: EventQuery) => [q.after, q.since, q.manifest, q.host, q.limit];

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

/**
 * The statements, by the contract's names. Each binds its arguments in order unless it says
 * otherwise; rows are answered as the driver reads them (`bigint` as numbers: the store's pool
 * parses them so).
 */
export const PG_STATEMENTS: PgStatements = {
  // Manifests and containers.
  hasManifest: read("SELECT 1 FROM manifests WHERE name = $1", found),
  upsertManifest: write(
    "INSERT INTO manifests (name, policy, created_at, updated_at) VALUES ($1, $2, $3, $3) " +
      "ON CONFLICT (name) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at",
    nothing,
  ),
  manifest: read(`${MANIFESTS} WHERE name = $1`, first),
  deleteManifestIfEmpty: write(
    "DELETE FROM manifests WHERE name = $1 " +
      "AND NOT EXISTS (SELECT 1 FROM containers WHERE manifest = $1)",
    nothing,
  ),
  allManifests: read(`${MANIFESTS} ORDER BY name`, all),
  unplacedContainers: read(
    `${CONTAINERS} WHERE host = '' AND desired != 'removed' ORDER BY manifest, name`,
    all,
  ),
  placedContainers: read(`${CONTAINERS} WHERE template != '' ORDER BY manifest, name`, all),
  placedHosts: read(
    "SELECT DISTINCT host FROM containers " +
      "WHERE template != '' AND host != '' AND desired != 'removed' ORDER BY host",
    (result) => all(result).map((row) => String(row.host)),
  ),
  replacingContainers: read(`${CONTAINERS} WHERE replaces != '' ORDER BY manifest, name`, all),
  containersOfManifest: read(`${CONTAINERS} WHERE manifest = $1 ORDER BY name`, all),
  allContainers: read(`${CONTAINERS} ORDER BY manifest, name`, all),
  containerStates: read(
    `SELECT ${CONTAINER_STATE_COLUMNS.join(", ")} FROM containers ORDER BY manifest, name`,
    all,
  ),
  containersOfHost: read(`${CONTAINERS} WHERE host = $1 ORDER BY manifest, name`, all),
  containersOfHosts: read(
    `${CONTAINERS} WHERE host = ANY($1::text[]) ORDER BY host, manifest, name`,
    all,
    (hosts) => [[...hosts]],
  ),
  containersByHostAndName: read(
    `${CONTAINERS} WHERE host = $1 AND name = $2 ORDER BY manifest`,
    all,
  ),
  container: read(`${CONTAINERS} WHERE manifest = $1 AND name = $2`, first),
  insertContainer: write(
    insert("containers", CONTAINER_COLUMNS),
    nothing,
    rowValues(CONTAINER_COLUMNS),
  ),
  insertContainers: write(
    `INSERT INTO containers (${CONTAINER_COLUMNS.join(", ")}) ` +
      `SELECT ${
        CONTAINER_COLUMNS.join(", ")
      } FROM json_populate_recordset(null::containers, $1::json)`,
    nothing,
    (rows) => [JSON.stringify(rows.map(rowValuesObject(CONTAINER_COLUMNS)))],
  ),
  updateContainer: write(
    `UPDATE containers SET ${
      UPDATED_COLUMNS.map((col, i) => `${col} = $${i + 3}`).join(", ")
    } WHERE manifest = $1 AND name = $2`,
    nothing,
    rowValues(["manifest", "name", ...UPDATED_COLUMNS]),
  ),
  deleteContainer: write("DELETE FROM containers WHERE manifest = $1 AND name = $2", nothing),
  hostCounts: read(
    "SELECT host, count(*) FILTER (WHERE state = 'running') AS running, count(*) AS total " +
      "FROM containers GROUP BY host ORDER BY host",
    all,
  ),
  stateCounts: read(
    "SELECT host, state, count(*) AS count FROM containers GROUP BY host, state " +
      "ORDER BY host, state",
    all,
  ),

  // Host indexes: the global counter is a row of `meta`, moved in the statement that reads it.
  hostIndex: read("SELECT idx FROM hosts WHERE name = $1", number("idx")),
  hostIndexes: read(
    "SELECT name, idx FROM hosts WHERE name = ANY($1::text[]) ORDER BY name",
    all,
    (hosts) => [[...hosts]],
  ),
  bumpHostIndex: write(
    `WITH counter AS (
      INSERT INTO meta (key, value) VALUES ('index', '1')
      ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text
      RETURNING value::bigint AS idx
    )
    INSERT INTO hosts (name, idx) SELECT $1, idx FROM counter
    ON CONFLICT (name) DO UPDATE SET idx = excluded.idx
    RETURNING idx`,
    number("idx"),
  ),

  // Each host takes the next value in the order given: the counter moves by their number at once.
  bumpHostIndexes: write(
    `WITH counter AS (
      INSERT INTO meta (key, value) VALUES ('index', cardinality($1::text[])::text)
      ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + cardinality($1::text[]))::text
      RETURNING value::bigint AS top
    )
    INSERT INTO hosts (name, idx)
    SELECT h.name, counter.top - cardinality($1::text[]) + h.ord
    FROM unnest($1::text[]) WITH ORDINALITY AS h(name, ord), counter
    ORDER BY h.ord
    ON CONFLICT (name) DO UPDATE SET idx = excluded.idx
    RETURNING name, idx`,
    (result) =>
      all(result).map((row) => ({ name: String(row.name), idx: Number(row.idx) }))
        .sort((a, b) => a.idx - b.idx),
    (hosts) => [[...new Set(hosts)]],
  ),

  // Hosts.
  hostInfo: read(`${HOSTS} WHERE name = $1`, first),
  hostInfos: read(`${HOSTS} WHERE name = ANY($1::text[]) ORDER BY name`, all, (names) => [
    [...names],
  ]),
  allHostInfo: read(`${HOSTS} ORDER BY name`, all),
  upsertHostInfo: write(upsert("host_info", HOST_COLUMNS), nothing, rowValues(HOST_COLUMNS)),
  touchHostInfo: write("UPDATE host_info SET last_seen = $2 WHERE name = $1", nothing),
  touchHostInfos: write(
    "UPDATE host_info SET last_seen = $2 WHERE name = ANY($1::text[])",
    nothing,
    (names, now) => [[...names], now],
  ),
  deleteHostInfo: write("DELETE FROM host_info WHERE name = $1", nothing),

  // Events.
  insertEvent: write(
    `${insert("events", INSERTED_EVENT_COLUMNS)} RETURNING id`,
    number("id"),
    rowValues(INSERTED_EVENT_COLUMNS),
  ),
  insertEvents: write(
    `WITH inserted AS (
      INSERT INTO events (${INSERTED_EVENT_COLUMNS.join(", ")})
      SELECT ${INSERTED_EVENT_COLUMNS.join(", ")}
      FROM json_populate_recordset(null::events, $1::json) WITH ORDINALITY AS r
      ORDER BY r.ordinality
      RETURNING id
    )
    SELECT coalesce(max(id), 0) AS id FROM inserted`,
    number("id"),
    (rows) => [JSON.stringify(rows.map(rowValuesObject(INSERTED_EVENT_COLUMNS)))],
  ),
  firstEvents: read(`${EVENTS} ORDER BY id LIMIT $5`, all, eventQuery),
  lastEvents: read(
    `${EVENTS} ORDER BY id DESC LIMIT $5`,
    (result) => all(result).reverse(),
    eventQuery,
  ),
  lastEventId: read(
    "SELECT greatest((SELECT max(id) FROM events), " +
      "(SELECT value::bigint FROM meta WHERE key = 'events_pruned'), 0) AS id",
    number("id"),
  ),
  countEvents: read("SELECT count(*) AS n FROM events", number("n")),
  pruneEventsBefore: write(
    pruneEvents("SELECT id FROM events WHERE at < $1 ORDER BY id LIMIT $2"),
    number("n"),
  ),
  pruneEventsBeyond: write(
    pruneEvents(
      "SELECT id FROM events ORDER BY id " +
        "LIMIT greatest(0, least($2::bigint, (SELECT count(*) FROM events) - $1::bigint))",
    ),
    number("n"),
  ),

  // Tokens: `seq` keeps the order they were inserted in, as SQLite's rowid does.
  insertToken: write(insert("tokens", TOKEN_COLUMNS), nothing, rowValues(TOKEN_COLUMNS)),
  tokenByHash: read(`${TOKENS} WHERE hash = $1`, first),
  tokenById: read(`${TOKENS} WHERE id = $1`, first),
  allTokens: read(`${TOKENS} ORDER BY created_at, seq`, all),
  touchToken: write("UPDATE tokens SET last_used_at = $2 WHERE id = $1", nothing),
  revokeToken: write("UPDATE tokens SET revoked = 1 WHERE id = $1", changed),

  // Rollouts.
  rollout: read(`${ROLLOUTS} WHERE manifest = $1`, first),
  activeRollouts: read(`${ROLLOUTS} WHERE status = 'running' ORDER BY manifest`, all),
  allRollouts: read(`${ROLLOUTS} ORDER BY manifest`, all),
  putRollout: write(upsert("rollouts", ROLLOUT_COLUMNS), nothing, rowValues(ROLLOUT_COLUMNS)),

  // Revisions.
  insertRevision: write(
    insert("revisions", REVISION_COLUMNS),
    nothing,
    rowValues(REVISION_COLUMNS),
  ),
  latestRevision: read(
    "SELECT coalesce(max(number), 0) AS number FROM revisions WHERE manifest = $1",
    number("number"),
  ),
  revisionsOf: read(
    "SELECT number, actor, at FROM revisions WHERE manifest = $1 ORDER BY number DESC",
    all,
  ),
  revision: read(
    `SELECT ${REVISION_COLUMNS.join(", ")} FROM revisions WHERE manifest = $1 AND number = $2`,
    first,
  ),

  // Secrets; the check value of their key is a row of `meta`.
  allSecrets: read(`${SECRETS} ORDER BY name`, all),
  secret: read(`${SECRETS} WHERE name = $1`, first),
  putSecret: write(
    `${insert("secrets", SECRET_COLUMNS)} ON CONFLICT (name) DO UPDATE SET ${
      SECRET_COLUMNS.filter((col) => col !== "name" && col !== "created_at")
        .map((col) => `${col} = excluded.${col}`).join(", ")
    }`,
    nothing,
    rowValues(SECRET_COLUMNS),
  ),
  deleteSecret: write("DELETE FROM secrets WHERE name = $1", changed),
  secretKeyCheck: read(
    "SELECT value FROM meta WHERE key = 'secret_key_check'",
    (result) => result.rows[0]?.value,
  ),
  setSecretKeyCheck: write(
    "INSERT INTO meta (key, value) VALUES ('secret_key_check', $1) ON CONFLICT (key) DO NOTHING",
    nothing,
  ),

  // Web UI sessions, by the hash of their cookie's id.
  insertSession: write(
    insert("ui_sessions", SESSION_COLUMNS),
    nothing,
    rowValues(SESSION_COLUMNS),
  ),
  sessionByHash: read(
    `SELECT ${SESSION_COLUMNS.join(", ")} FROM ui_sessions WHERE id_hash = $1`,
    first,
  ),
  touchSession: write("UPDATE ui_sessions SET last_used_at = $2 WHERE id_hash = $1", nothing),
  deleteSession: write("DELETE FROM ui_sessions WHERE id_hash = $1", changed),
  deleteSessionsOfToken: write("DELETE FROM ui_sessions WHERE token_id = $1", deleted),
  pruneSessions: write(
    "DELETE FROM ui_sessions WHERE last_used_at <= $1 OR created_at <= $2 " +
      "OR token_id IN (SELECT id FROM tokens WHERE revoked != 0 " +
      "OR (expires_at IS NOT NULL AND expires_at <= $3))",
    deleted,
  ),
  pruneSessionsBeyond: write(
    "DELETE FROM ui_sessions WHERE id_hash IN (SELECT id_hash FROM ui_sessions " +
      "ORDER BY last_used_at, created_at, id_hash " +
      "LIMIT greatest(0, (SELECT count(*) FROM ui_sessions) - $1::bigint))",
    deleted,
  ),

  // Copying (`launcher store copy`): what no other statement lists, and rows as they are.
  allHostIndexes: read("SELECT name, idx FROM hosts ORDER BY name", all),
  indexCounter: read(
    "SELECT coalesce((SELECT value::bigint FROM meta WHERE key = 'index'), 0) AS n",
    number("n"),
  ),
  allRevisions: read(
    `SELECT ${REVISION_COLUMNS.join(", ")} FROM revisions ORDER BY manifest, number`,
    all,
  ),
  copyManifest: write(
    insert("manifests", MANIFEST_COLUMNS),
    nothing,
    rowValues(MANIFEST_COLUMNS),
  ),
  copyHostIndex: write(insert("hosts", ["name", "idx"]), nothing, rowValues(["name", "idx"])),
  copyIndexCounter: write(
    "INSERT INTO meta (key, value) VALUES ('index', $1::bigint::text) ON CONFLICT (key) " +
      "DO UPDATE SET value = greatest(meta.value::bigint, excluded.value::bigint)::text",
    nothing,
  ),
  copyClusterId: write("UPDATE meta SET value = $1 WHERE key = 'cluster'", nothing),
  copyEvent: write(
    `INSERT INTO events (${EVENT_COLUMNS.join(", ")}) OVERRIDING SYSTEM VALUE ` +
      `VALUES (${params(EVENT_COLUMNS)})`,
    nothing,
    rowValues(EVENT_COLUMNS),
  ),
  // `lastEventId` reads `events_pruned` beside the rows; the identity sequence goes on after it
  // (`setval` is not undone by a rollback: a failed copy leaves gaps, which ids may have).
  copyLastEventId: write(
    `WITH mark AS (
      INSERT INTO meta (key, value) VALUES ('events_pruned', $1::bigint::text)
      ON CONFLICT (key) DO UPDATE
      SET value = greatest(meta.value::bigint, excluded.value::bigint)::text
    ),
    seq AS (SELECT pg_get_serial_sequence('events', 'id') AS name),
    last AS (
      SELECT greatest($1::bigint, coalesce((SELECT max(id) FROM events), 0),
        coalesce(pg_sequence_last_value(name::regclass), 0)) AS id FROM seq
    )
    SELECT setval(name, greatest(id, 1), id > 0) FROM seq, last`,
    nothing,
  ),
};

/** The statement that reads the installation's id, once, when the store opens. */
export const CLUSTER_ID = "SELECT value FROM meta WHERE key = 'cluster'";
