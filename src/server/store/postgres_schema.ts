/**
 * The PostgreSQL store's schema as an ordered list of migrations (`PG_MIGRATIONS`), which
 * `postgres_migrate.ts` runs: the same versions and names as SQLite's `MIGRATIONS`, each written
 * for PostgreSQL. A change of the schema is a new migration at the end of both lists, never an
 * edit of one that has shipped.
 *
 * Columns keep SQLite's names and meaning, so that both stores answer the same rows: every
 * INTEGER is a `bigint` (SQLite's are 64-bit; the store reads them back as JS numbers, as
 * node:sqlite does), times are ISO text as the server writes them, and every text column
 * compares and sorts by byte (`COLLATE "C"`, SQLite's BINARY) whatever the database's locale.
 */
import type pg from "pg";
import type { NamedMigration } from "./versions.ts";

/** One step of the schema, run on the connection of the migrating transaction. */
export interface PgMigration extends NamedMigration {
  up(client: pg.ClientBase): Promise<void>;
}

/** The table whose lock serialises the store's writers (see `postgres_store.ts`). */
export const WRITE_LOCK_TABLE = "write_lock";

/** Text that sorts and compares by byte, as SQLite's does. */
const TEXT = 'TEXT COLLATE "C"';

/**
 * The tables as they stood when versions began (migration 1), as SQLite's baseline makes them,
 * with three differences of PostgreSQL's: events take their ids from an identity column, tokens
 * keep their insertion order in one (`seq`, SQLite's rowid), and the empty `write_lock` table is
 * what writers lock. Frozen, as SQLite's baseline is.
 */
const BASELINE_TABLES = `
CREATE TABLE manifests (
  name ${TEXT} PRIMARY KEY,
  policy ${TEXT} NOT NULL DEFAULT '{}',
  created_at ${TEXT} NOT NULL,
  updated_at ${TEXT} NOT NULL
);
CREATE TABLE containers (
  manifest ${TEXT} NOT NULL REFERENCES manifests(name),
  name ${TEXT} NOT NULL,
  host ${TEXT} NOT NULL,
  spec ${TEXT} NOT NULL,
  spec_hash ${TEXT} NOT NULL,
  desired ${TEXT} NOT NULL,
  state ${TEXT} NOT NULL,
  container_id ${TEXT},
  exit_code BIGINT,
  error ${TEXT},
  health ${TEXT},
  generation BIGINT NOT NULL,
  restart_generation BIGINT NOT NULL,
  force BIGINT NOT NULL DEFAULT 0,
  normalized ${TEXT} NOT NULL DEFAULT '',
  template ${TEXT} NOT NULL DEFAULT '',
  placement ${TEXT} NOT NULL DEFAULT '',
  replaces ${TEXT} NOT NULL DEFAULT '',
  created_at ${TEXT} NOT NULL,
  updated_at ${TEXT} NOT NULL,
  PRIMARY KEY (manifest, name)
);
CREATE INDEX containers_by_host ON containers(host, name);
CREATE TABLE hosts (
  name ${TEXT} PRIMARY KEY,
  idx BIGINT NOT NULL
);
CREATE TABLE host_info (
  name ${TEXT} PRIMARY KEY,
  engine_version ${TEXT},
  os ${TEXT},
  arch ${TEXT},
  cpus BIGINT,
  memory BIGINT,
  agent_version ${TEXT},
  labels ${TEXT} NOT NULL DEFAULT '{}',
  interval_ms BIGINT,
  registered_at ${TEXT},
  last_seen ${TEXT},
  draining BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE rollouts (
  manifest ${TEXT} PRIMARY KEY,
  revision BIGINT,
  status ${TEXT} NOT NULL,
  batch BIGINT NOT NULL,
  batches BIGINT NOT NULL,
  plan ${TEXT} NOT NULL,
  policy ${TEXT} NOT NULL,
  started_at ${TEXT} NOT NULL,
  batch_started_at ${TEXT},
  error ${TEXT},
  updated_at ${TEXT} NOT NULL
);
CREATE TABLE meta (
  key ${TEXT} PRIMARY KEY,
  value ${TEXT} NOT NULL
);
CREATE TABLE events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at ${TEXT} NOT NULL,
  kind ${TEXT} NOT NULL,
  actor ${TEXT} NOT NULL,
  manifest ${TEXT},
  host ${TEXT},
  container ${TEXT},
  action ${TEXT},
  old_state ${TEXT},
  new_state ${TEXT},
  changes ${TEXT},
  error ${TEXT}
);
CREATE INDEX events_by_at ON events(at);
CREATE TABLE tokens (
  id ${TEXT} PRIMARY KEY,
  hash ${TEXT} NOT NULL UNIQUE,
  created_at ${TEXT} NOT NULL,
  role ${TEXT} NOT NULL DEFAULT 'admin',
  host ${TEXT},
  expires_at ${TEXT},
  last_used_at ${TEXT},
  revoked BIGINT NOT NULL DEFAULT 0,
  seq BIGINT GENERATED ALWAYS AS IDENTITY
);
-- No foreign key to manifests: a manifest's history outlives its down.
CREATE TABLE revisions (
  manifest ${TEXT} NOT NULL,
  number BIGINT NOT NULL,
  text ${TEXT} NOT NULL,
  format ${TEXT} NOT NULL,
  actor ${TEXT} NOT NULL,
  at ${TEXT} NOT NULL,
  PRIMARY KEY (manifest, number)
);
CREATE TABLE ${WRITE_LOCK_TABLE} ();
COMMENT ON TABLE ${WRITE_LOCK_TABLE} IS
  'Empty: launcher servers lock it (EXCLUSIVE) to write one at a time';
`;

/** Migration 1: a new database gets the baseline's tables and its installation id. */
async function baseline(client: pg.ClientBase): Promise<void> {
  await client.query(BASELINE_TABLES);
  await client.query("INSERT INTO meta (key, value) VALUES ('cluster', $1)", [
    crypto.randomUUID(),
  ]);
}

/** Migration 2: secrets, encrypted, and the secret an event names; as SQLite's `secrets`. */
async function secrets(client: pg.ClientBase): Promise<void> {
  await client.query(`
CREATE TABLE secrets (
  name ${TEXT} PRIMARY KEY,
  ciphertext ${TEXT} NOT NULL,
  iv ${TEXT} NOT NULL,
  digest ${TEXT} NOT NULL,
  created_at ${TEXT} NOT NULL,
  updated_at ${TEXT} NOT NULL
);
ALTER TABLE events ADD COLUMN secret ${TEXT};
`);
}

/** Migration 3: web UI sessions; as SQLite's `ui_sessions`. */
async function uiSessions(client: pg.ClientBase): Promise<void> {
  await client.query(`
CREATE TABLE ui_sessions (
  id_hash ${TEXT} PRIMARY KEY,
  token_id ${TEXT} NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
  csrf ${TEXT} NOT NULL,
  created_at ${TEXT} NOT NULL,
  last_used_at ${TEXT} NOT NULL
);
CREATE INDEX ui_sessions_by_token ON ui_sessions(token_id);
CREATE INDEX ui_sessions_by_use ON ui_sessions(last_used_at);
`);
}

/** Every migration, in order: the versions and names of SQLite's `MIGRATIONS`. */
export const PG_MIGRATIONS: PgMigration[] = [
  { version: 1, name: "baseline", up: baseline },
  { version: 2, name: "secrets", up: secrets },
  { version: 3, name: "ui_sessions", up: uiSessions },
];
