/**
 * The store's schema as an ordered list of migrations (`MIGRATIONS`), which `migrate.ts` runs. A
 * change of the schema is a new migration at the end of the list, never an edit of one that has
 * shipped: stores that ran it would not run it again.
 */
import type { DatabaseSync } from "node:sqlite";
import { LauncherError } from "../../errors.ts";
import { parseStoredSpec } from "../../manifest/spec.ts";

/**
 * One step of the schema: version N turns a store at version N - 1 into one at version N. Each is
 * small and named, so that the same list can be written again for another SQL database.
 */
export interface Migration {
  version: number;
  /** What the step does, in snake_case; stored beside the version. */
  name: string;
  up(db: DatabaseSync): void;
}

/**
 * The tables as they stood when versions began (migration 1). Frozen: a store at version 1 or
 * later has them, so changing them here would change nothing there.
 */
const BASELINE_TABLES = `
CREATE TABLE IF NOT EXISTS manifests (
  name TEXT PRIMARY KEY,
  policy TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS containers (
  manifest TEXT NOT NULL REFERENCES manifests(name),
  name TEXT NOT NULL,
  host TEXT NOT NULL,
  spec TEXT NOT NULL,
  spec_hash TEXT NOT NULL,
  desired TEXT NOT NULL,
  state TEXT NOT NULL,
  container_id TEXT,
  exit_code INTEGER,
  error TEXT,
  health TEXT,
  generation INTEGER NOT NULL,
  restart_generation INTEGER NOT NULL,
  force INTEGER NOT NULL DEFAULT 0,
  normalized TEXT NOT NULL DEFAULT '',
  template TEXT NOT NULL DEFAULT '',
  placement TEXT NOT NULL DEFAULT '',
  replaces TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (manifest, name)
) STRICT;
CREATE INDEX IF NOT EXISTS containers_by_host ON containers(host, name);
CREATE TABLE IF NOT EXISTS hosts (
  name TEXT PRIMARY KEY,
  idx INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS host_info (
  name TEXT PRIMARY KEY,
  engine_version TEXT,
  os TEXT,
  arch TEXT,
  cpus INTEGER,
  memory INTEGER,
  agent_version TEXT,
  labels TEXT NOT NULL DEFAULT '{}',
  interval_ms INTEGER,
  registered_at TEXT,
  last_seen TEXT,
  draining INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE IF NOT EXISTS rollouts (
  manifest TEXT PRIMARY KEY,
  revision INTEGER,
  status TEXT NOT NULL,
  batch INTEGER NOT NULL,
  batches INTEGER NOT NULL,
  plan TEXT NOT NULL,
  policy TEXT NOT NULL,
  started_at TEXT NOT NULL,
  batch_started_at TEXT,
  error TEXT,
  updated_at TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  manifest TEXT,
  host TEXT,
  container TEXT,
  action TEXT,
  old_state TEXT,
  new_state TEXT,
  changes TEXT,
  error TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS events_by_at ON events(at);
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'admin',
  host TEXT,
  expires_at TEXT,
  last_used_at TEXT,
  revoked INTEGER NOT NULL DEFAULT 0
) STRICT;
-- No foreign key to manifests: a manifest's history outlives its down.
CREATE TABLE IF NOT EXISTS revisions (
  manifest TEXT NOT NULL,
  number INTEGER NOT NULL,
  text TEXT NOT NULL,
  format TEXT NOT NULL,
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (manifest, number)
) STRICT;
`;

/**
 * Columns added to a table between its first release and the baseline, with their `ADD COLUMN`
 * types (a NOT NULL one needs a default): a table created before them lacks them, and
 * `CREATE TABLE IF NOT EXISTS` leaves such a table alone. Frozen, as the tables are.
 */
const ADDED_COLUMNS: Record<string, Record<string, string>> = {
  // `container rm` removes without a graceful stop.
  containers: {
    force: "INTEGER NOT NULL DEFAULT 0",
    // Specs parsed once at the door; older rows are filled by migration 1.
    normalized: "TEXT NOT NULL DEFAULT ''",
    // Placed instances (issue 9).
    template: "TEXT NOT NULL DEFAULT ''",
    placement: "TEXT NOT NULL DEFAULT ''",
    replaces: "TEXT NOT NULL DEFAULT ''",
  },
  // Update and reschedule policies (issue 9).
  manifests: { policy: "TEXT NOT NULL DEFAULT '{}'" },
  // Scoped tokens.
  tokens: {
    role: "TEXT NOT NULL DEFAULT 'admin'",
    host: "TEXT",
    expires_at: "TEXT",
    last_used_at: "TEXT",
    revoked: "INTEGER NOT NULL DEFAULT 0",
  },
};

/** The columns of ADDED_COLUMNS that each table lacks, for tables that lack any. */
function missingColumns(db: DatabaseSync): Map<string, string[]> {
  const missing = new Map<string, string[]>();
  for (const [table, added] of Object.entries(ADDED_COLUMNS)) {
    const present = new Set(
      db.prepare(`PRAGMA table_info(${table})`).all().map((row) => String(row.name)),
    );
    const lacking = Object.keys(added).filter((name) => !present.has(name));
    if (lacking.length > 0) missing.set(table, lacking);
  }
  return missing;
}

/**
 * Migration 1: brings any store from before versions, whichever release made it, to the baseline,
 * and makes a new store. It creates missing tables and adds missing columns; tokens from before
 * scoped tokens become admin tokens (what they could do before), and their UUID ids become short
 * ones like new tokens have.
 */
function baseline(db: DatabaseSync): void {
  db.exec(BASELINE_TABLES);
  // The installation's id: made once, kept for the life of the data dir.
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('cluster', $id)")
    .run({ id: crypto.randomUUID() });
  const missing = missingColumns(db);
  for (const [table, names] of missing) {
    for (const name of names) {
      db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${ADDED_COLUMNS[table][name]}`);
    }
  }
  if (missing.get("tokens")?.includes("role")) {
    db.exec("UPDATE tokens SET id = lower(hex(randomblob(6)))");
  }
  fillNormalized(db);
}

/**
 * Fills `containers.normalized` where it is empty: a data dir from before specs were parsed once
 * at the door has each stored spec parsed, once. It parses with today's parser, not a frozen one:
 * the form it stores is the one today's code reads.
 */
function fillNormalized(db: DatabaseSync): void {
  const rows = db.prepare("SELECT manifest, name, spec FROM containers WHERE normalized = ''")
    .all();
  const fill = db.prepare(
    "UPDATE containers SET normalized = $normalized WHERE manifest = $manifest AND name = $name",
  );
  for (const { manifest, name, spec } of rows) {
    let normalized;
    try {
      normalized = parseStoredSpec(JSON.parse(String(spec))).normalized;
    } catch (error) {
      if (!(error instanceof LauncherError)) throw error;
      // Every stored spec passed a door at least as strict; say which one does not, loudly.
      throw new LauncherError(
        "invalid_stored_spec",
        `the stored spec of ${manifest}/${name} does not parse: ${error.message}`,
      );
    }
    fill.run({
      manifest: String(manifest),
      name: String(name),
      normalized: JSON.stringify(normalized),
    });
  }
}

/**
 * Migration 2: secrets, encrypted (`secrets`), and the secret an event names (`events.secret`).
 * The check value of their key is a row of `meta`, written when a server first starts with a key.
 */
function secrets(db: DatabaseSync): void {
  // Like the baseline's, a step that finds its table and column already there leaves them be.
  db.exec(`
CREATE TABLE IF NOT EXISTS secrets (
  name TEXT PRIMARY KEY,
  ciphertext TEXT NOT NULL,
  iv TEXT NOT NULL,
  digest TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
`);
  const events = db.prepare("PRAGMA table_info(events)").all().map((row) => String(row.name));
  if (!events.includes("secret")) db.exec("ALTER TABLE events ADD COLUMN secret TEXT");
}

/**
 * Migration 3: web UI sessions (`ui_sessions`), so that every server of a store honours them and a
 * restart keeps them. A row holds the SHA-256 of its cookie's id and its token's id, never either
 * secret; deleting a token deletes its sessions.
 */
function uiSessions(db: DatabaseSync): void {
  // Like the baseline's, a step that finds its table and indexes already there leaves them be.
  db.exec(`
CREATE TABLE IF NOT EXISTS ui_sessions (
  id_hash TEXT PRIMARY KEY,
  token_id TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
  csrf TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS ui_sessions_by_token ON ui_sessions(token_id);
CREATE INDEX IF NOT EXISTS ui_sessions_by_use ON ui_sessions(last_used_at);
`);
}

/** Every migration, in order; the last one's version is the schema this launcher writes. */
export const MIGRATIONS: Migration[] = [
  { version: 1, name: "baseline", up: baseline },
  { version: 2, name: "secrets", up: secrets },
  { version: 3, name: "ui_sessions", up: uiSessions },
];
