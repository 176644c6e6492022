/**
 * The embedded store: one SQLite file (`<dataDir>/launcher.db`, WAL) holding manifests,
 * containers, host indexes and token hashes. Only the planner and the token auth use it.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { join } from "node:path";
import { LauncherError } from "../../errors.ts";
import { parseStoredSpec } from "../../manifest/spec.ts";

/** One stored container: its spec (as JSON), where it runs, what is desired and observed. */
export interface ContainerRow {
  manifest: string;
  name: string;
  host: string;
  spec: string;
  /** The spec as parsed at the door (JSON of a `NormalizedSpec`). */
  normalized: string;
  spec_hash: string;
  desired: string;
  state: string;
  container_id: string | null;
  exit_code: number | null;
  error: string | null;
  health: string | null;
  generation: number;
  restart_generation: number;
  created_at: string;
  updated_at: string;
}

/**
 * What the server knows of one host beyond its index: what its agent registered (null until it
 * does), when it was last seen, and whether it is draining.
 */
export interface HostRow {
  name: string;
  engine_version: string | null;
  os: string | null;
  arch: string | null;
  cpus: number | null;
  memory: number | null;
  agent_version: string | null;
  /** A JSON object of label keys to values. */
  labels: string;
  interval_ms: number | null;
  registered_at: string | null;
  last_seen: string | null;
  /** 1 while draining. */
  draining: number;
}

/** Containers placed on one host: how many are running (as last reported), and how many in all. */
export interface HostCountRow {
  host: string;
  running: number;
  total: number;
}

const HOST_INFO_COLUMNS = "name, engine_version, os, arch, cpus, memory, agent_version, labels, " +
  "interval_ms, registered_at, last_seen, draining";

/** The key in `meta` holding the global index counter. */
const INDEX_COUNTER = "index";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS manifests (
  name TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS containers (
  manifest TEXT NOT NULL REFERENCES manifests(name),
  name TEXT NOT NULL,
  host TEXT NOT NULL,
  spec TEXT NOT NULL,
  normalized TEXT NOT NULL DEFAULT '',
  spec_hash TEXT NOT NULL,
  desired TEXT NOT NULL,
  state TEXT NOT NULL,
  container_id TEXT,
  exit_code INTEGER,
  error TEXT,
  health TEXT,
  generation INTEGER NOT NULL,
  restart_generation INTEGER NOT NULL,
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
`;

/** One issued token: its SHA-256 `hash` (hex), never the token itself. */
export interface TokenRow {
  /** Short and public: names the token in lists and revocations. */
  id: string;
  hash: string;
  role: string;
  /** The host of an agent token. */
  host: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  /** 1 once revoked. */
  revoked: number;
}

const TOKEN_COLUMNS = "id, hash, created_at, role, host, expires_at, last_used_at, revoked";

/** Columns added to `tokens` by scoped tokens, as a data dir made before them lacks them. */
const TOKEN_SCOPE_COLUMNS: Record<string, string> = {
  role: "TEXT NOT NULL DEFAULT 'admin'",
  host: "TEXT",
  expires_at: "TEXT",
  last_used_at: "TEXT",
  revoked: "INTEGER NOT NULL DEFAULT 0",
};

/**
 * Brings a `tokens` table from before scoped tokens up to date: its tokens become admin tokens
 * (what they could do before), and their UUID ids become short ones like new tokens have.
 */
function migrateTokens(db: DatabaseSync): void {
  const columns = () =>
    new Set(db.prepare("PRAGMA table_info(tokens)").all().map((row) => String(row.name)));
  const before = columns();
  if (Object.keys(TOKEN_SCOPE_COLUMNS).every((name) => before.has(name))) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    const present = columns();
    for (const [name, type] of Object.entries(TOKEN_SCOPE_COLUMNS)) {
      if (!present.has(name)) db.exec(`ALTER TABLE tokens ADD COLUMN ${name} ${type}`);
    }
    if (!present.has("role")) db.exec("UPDATE tokens SET id = lower(hex(randomblob(6)))");
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/**
 * Fills `containers.normalized` where it is empty: a data dir from before specs were parsed once
 * at the door gets the column, and each stored spec is parsed, once, when the store opens.
 */
function migrateNormalized(db: DatabaseSync): void {
  const columns = new Set(
    db.prepare("PRAGMA table_info(containers)").all().map((row) => String(row.name)),
  );
  db.exec("BEGIN IMMEDIATE");
  try {
    if (!columns.has("normalized")) {
      db.exec("ALTER TABLE containers ADD COLUMN normalized TEXT NOT NULL DEFAULT ''");
    }
    const rows = db.prepare(
      "SELECT manifest, name, spec FROM containers WHERE normalized = ''",
    ).all();
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
      fill.run({ manifest, name, normalized: JSON.stringify(normalized) });
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** One stored manifest: its name and when it was first and last applied. */
export interface ManifestRow {
  name: string;
  created_at: string;
  updated_at: string;
}

/** One recorded event (`id` is never reused); `changes` holds a JSON list of field changes. */
export interface EventRow {
  id: number;
  at: string;
  kind: string;
  actor: string;
  manifest: string | null;
  host: string | null;
  container: string | null;
  action: string | null;
  old_state: string | null;
  new_state: string | null;
  changes: string | null;
  error: string | null;
}

/** Which events a query reads; null matches every manifest or host. */
export interface EventQuery {
  after: number;
  /** Events at or after this ISO time. */
  since: string;
  manifest: string | null;
  host: string | null;
  limit: number;
}

const EVENT_COLUMNS =
  "id, at, kind, actor, manifest, host, container, action, old_state, new_state, changes, error";
const EVENT_FILTER = "WHERE id > $after AND at >= $since " +
  "AND ($manifest IS NULL OR manifest = $manifest) AND ($host IS NULL OR host = $host)";

const CONTAINER_COLUMNS =
  "manifest, name, host, spec, normalized, spec_hash, desired, state, container_id, exit_code, " +
  "error, health, generation, restart_generation, created_at, updated_at";

/** Copies a row out of node:sqlite's null-prototype object. */
function toContainer(row: Record<string, unknown>): ContainerRow {
  return { ...row } as unknown as ContainerRow;
}

/** Prepares every statement the store runs, once per open database. */
function prepareStatements(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    manifestExists: p("SELECT 1 AS one FROM manifests WHERE name = $name"),
    upsertManifest: p(
      "INSERT INTO manifests (name, created_at, updated_at) VALUES ($name, $now, $now) " +
        "ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at",
    ),
    deleteManifestIfEmpty: p(
      "DELETE FROM manifests WHERE name = $name " +
        "AND NOT EXISTS (SELECT 1 FROM containers WHERE manifest = $name)",
    ),
    containersOfManifest: p(
      `SELECT ${CONTAINER_COLUMNS} FROM containers WHERE manifest = $manifest ORDER BY name`,
    ),
    allContainers: p(`SELECT ${CONTAINER_COLUMNS} FROM containers ORDER BY manifest, name`),
    containersOfHost: p(
      `SELECT ${CONTAINER_COLUMNS} FROM containers WHERE host = $host ORDER BY manifest, name`,
    ),
    containersByHostAndName: p(
      `SELECT ${CONTAINER_COLUMNS} FROM containers WHERE host = $host AND name = $name ` +
        "ORDER BY manifest",
    ),
    container: p(
      `SELECT ${CONTAINER_COLUMNS} FROM containers WHERE manifest = $manifest AND name = $name`,
    ),
    insertContainer: p(
      `INSERT INTO containers (${CONTAINER_COLUMNS}) VALUES ($manifest, $name, $host, $spec, ` +
        "$normalized, $spec_hash, $desired, $state, $container_id, $exit_code, $error, $health, " +
        "$generation, $restart_generation, $created_at, $updated_at)",
    ),
    updateContainer: p(
      "UPDATE containers SET host = $host, spec = $spec, normalized = $normalized, " +
        "spec_hash = $spec_hash, desired = $desired, state = $state, " +
        "container_id = $container_id, " +
        "exit_code = $exit_code, error = $error, health = $health, generation = $generation, " +
        "restart_generation = $restart_generation, updated_at = $updated_at " +
        "WHERE manifest = $manifest AND name = $name",
    ),
    deleteContainer: p("DELETE FROM containers WHERE manifest = $manifest AND name = $name"),
    hostIndex: p("SELECT idx FROM hosts WHERE name = $name"),
    setHostIndex: p(
      "INSERT INTO hosts (name, idx) VALUES ($name, $idx) " +
        "ON CONFLICT (name) DO UPDATE SET idx = excluded.idx",
    ),
    hostInfo: p(`SELECT ${HOST_INFO_COLUMNS} FROM host_info WHERE name = $name`),
    allHostInfo: p(`SELECT ${HOST_INFO_COLUMNS} FROM host_info ORDER BY name`),
    upsertHostInfo: p(
      `INSERT INTO host_info (${HOST_INFO_COLUMNS}) VALUES ($name, $engine_version, $os, $arch, ` +
        "$cpus, $memory, $agent_version, $labels, $interval_ms, $registered_at, $last_seen, " +
        "$draining) ON CONFLICT (name) DO UPDATE SET engine_version = excluded.engine_version, " +
        "os = excluded.os, arch = excluded.arch, cpus = excluded.cpus, memory = excluded.memory, " +
        "agent_version = excluded.agent_version, labels = excluded.labels, " +
        "interval_ms = excluded.interval_ms, registered_at = excluded.registered_at, " +
        "last_seen = excluded.last_seen, draining = excluded.draining",
    ),
    touchHostInfo: p("UPDATE host_info SET last_seen = $now WHERE name = $name"),
    deleteHostInfo: p("DELETE FROM host_info WHERE name = $name"),
    hostCounts: p(
      "SELECT host, sum(state = 'running') AS running, count(*) AS total FROM containers " +
        "GROUP BY host ORDER BY host",
    ),
    insertEvent: p(
      `INSERT INTO events (${EVENT_COLUMNS.replace("id, ", "")}) VALUES ($at, $kind, $actor, ` +
        "$manifest, $host, $container, $action, $old_state, $new_state, $changes, $error)",
    ),
    firstEvents: p(`SELECT ${EVENT_COLUMNS} FROM events ${EVENT_FILTER} ORDER BY id LIMIT $limit`),
    lastEvents: p(
      `SELECT ${EVENT_COLUMNS} FROM events ${EVENT_FILTER} ORDER BY id DESC LIMIT $limit`,
    ),
    lastEventId: p("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
    countEvents: p("SELECT count(*) AS n FROM events"),
    pruneEventsBefore: p(
      "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < $cutoff LIMIT $limit)",
    ),
    pruneEventsBeyond: p(
      "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id " +
        "LIMIT max(0, min($limit, (SELECT count(*) FROM events) - $keep)))",
    ),
    allManifests: p("SELECT name, created_at, updated_at FROM manifests ORDER BY name"),
    getMeta: p("SELECT value FROM meta WHERE key = $key"),
    setMeta: p(
      "INSERT INTO meta (key, value) VALUES ($key, $value) " +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
    insertToken: p(
      `INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES ($id, $hash, $created_at, $role, $host, ` +
        "$expires_at, $last_used_at, $revoked)",
    ),
    tokenByHash: p(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = $hash`),
    allTokens: p(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, rowid`),
    touchToken: p("UPDATE tokens SET last_used_at = $now WHERE id = $id"),
    revokeToken: p("UPDATE tokens SET revoked = 1 WHERE id = $id"),
  };
}

/** Typed access to the SQLite file; every statement is prepared once. */
export class Store {
  readonly path: string;
  readonly #db: DatabaseSync;
  #depth = 0;
  readonly #stmt: ReturnType<typeof prepareStatements>;

  /** Opens (or creates) `<dataDir>/launcher.db`; `dataDir` must exist. */
  constructor(dataDir: string) {
    this.path = join(dataDir, "launcher.db");
    this.#db = new DatabaseSync(this.path);
    this.#db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; " +
        "PRAGMA foreign_keys = ON;",
    );
    this.#db.exec(SCHEMA);
    migrateTokens(this.#db);
    migrateNormalized(this.#db);
    this.#stmt = prepareStatements(this.#db);
  }

  /**
   * Runs `fn` inside `BEGIN IMMEDIATE` / `COMMIT`, rolling back when it throws. Nested calls
   * join the outer transaction, so helpers can be composed.
   */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.#db.exec("BEGIN IMMEDIATE");
    this.#depth++;
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    } finally {
      this.#depth--;
    }
  }

  /** Whether a manifest row exists. */
  hasManifest(name: string): boolean {
    return this.#stmt.manifestExists.get({ name }) !== undefined;
  }

  /** Creates a manifest row, or refreshes its `updated_at`. */
  upsertManifest(name: string, now: string): void {
    this.#stmt.upsertManifest.run({ name, now });
  }

  /** Deletes a manifest row once none of its containers is left. */
  deleteManifestIfEmpty(name: string): void {
    this.#stmt.deleteManifestIfEmpty.run({ name });
  }

  /** Containers of one manifest, by name. */
  containersOfManifest(manifest: string): ContainerRow[] {
    return this.#stmt.containersOfManifest.all({ manifest }).map(toContainer);
  }

  /** Every container, by manifest then name. */
  allContainers(): ContainerRow[] {
    return this.#stmt.allContainers.all().map(toContainer);
  }

  /** Containers placed on one host, by manifest then name. */
  containersOfHost(host: string): ContainerRow[] {
    return this.#stmt.containersOfHost.all({ host }).map(toContainer);
  }

  /** Containers with one name on one host, across manifests. */
  containersByHostAndName(host: string, name: string): ContainerRow[] {
    return this.#stmt.containersByHostAndName.all({ host, name }).map(toContainer);
  }

  /** One container by its key. */
  container(manifest: string, name: string): ContainerRow | undefined {
    const row = this.#stmt.container.get({ manifest, name });
    return row === undefined ? undefined : toContainer(row);
  }

  /** Inserts a new container row. */
  insertContainer(row: ContainerRow): void {
    this.#stmt.insertContainer.run(row as unknown as Record<string, SQLInputValue>);
  }

  /** Writes every column of an existing container row but its key and `created_at`. */
  updateContainer(row: ContainerRow): void {
    const { created_at: _created, ...values } = row;
    this.#stmt.updateContainer.run(values as unknown as Record<string, SQLInputValue>);
  }

  /** Deletes one container row. */
  deleteContainer(manifest: string, name: string): void {
    this.#stmt.deleteContainer.run({ manifest, name });
  }

  /** A host's index; 0 for a host nothing was ever planned on. */
  hostIndex(host: string): number {
    const row = this.#stmt.hostIndex.get({ name: host });
    return row === undefined ? 0 : Number(row.idx);
  }

  /** Sets a host's index to the next value of the global counter and returns it. */
  bumpHostIndex(host: string): number {
    const row = this.#stmt.getMeta.get({ key: INDEX_COUNTER });
    const next = (row === undefined ? 0 : Number(row.value)) + 1;
    this.#stmt.setMeta.run({ key: INDEX_COUNTER, value: String(next) });
    this.#stmt.setHostIndex.run({ name: host, idx: next });
    return next;
  }

  /** Stores a new token (its hash, never the token). */
  insertToken(row: TokenRow): void {
    this.#stmt.insertToken.run({ ...row });
  }

  /** The token with this hash, revoked or expired ones included. */
  tokenByHash(hash: string): TokenRow | undefined {
    const row = this.#stmt.tokenByHash.get({ hash });
    return row === undefined ? undefined : { ...row } as unknown as TokenRow;
  }

  /** Every token, oldest first. */
  allTokens(): TokenRow[] {
    return this.#stmt.allTokens.all().map((row) => ({ ...row }) as unknown as TokenRow);
  }

  /** Records when a token was last used. */
  touchToken(id: string, now: string): void {
    this.#stmt.touchToken.run({ id, now });
  }

  /** Marks a token revoked; false when no token has this id. */
  revokeToken(id: string): boolean {
    return Number(this.#stmt.revokeToken.run({ id }).changes) > 0;
  }

  /** Every manifest row, by name. */
  allManifests(): ManifestRow[] {
    return this.#stmt.allManifests.all().map((row) => ({ ...row }) as unknown as ManifestRow);
  }

  /** Records an event and returns its id. */
  insertEvent(row: Omit<EventRow, "id">): number {
    const { lastInsertRowid } = this.#stmt.insertEvent.run({ ...row });
    return Number(lastInsertRowid);
  }

  /** The first `limit` events after `after`, by id. */
  firstEvents(query: EventQuery): EventRow[] {
    return this.#stmt.firstEvents.all({ ...query }).map((row) =>
      ({ ...row }) as unknown as EventRow
    );
  }

  /** The last `limit` events after `after`, by id. */
  lastEvents(query: EventQuery): EventRow[] {
    return this.#stmt.lastEvents.all({ ...query }).map((row) => ({ ...row }) as unknown as EventRow)
      .reverse();
  }

  /** The id of the last event ever recorded, pruned or not (0: none yet). */
  lastEventId(): number {
    const row = this.#stmt.lastEventId.get();
    return row === undefined ? 0 : Number(row.seq);
  }

  /** How many events are stored. */
  countEvents(): number {
    return Number(this.#stmt.countEvents.get()?.n ?? 0);
  }

  /** Deletes up to `limit` events older than `cutoff` (ISO time); returns how many. */
  pruneEventsBefore(cutoff: string, limit: number): number {
    return Number(this.#stmt.pruneEventsBefore.run({ cutoff, limit }).changes);
  }

  /** Deletes up to `limit` of the oldest events beyond the newest `keep`; returns how many. */
  pruneEventsBeyond(keep: number, limit: number): number {
    return Number(this.#stmt.pruneEventsBeyond.run({ keep, limit }).changes);
  }

  /** What is known of one host beyond its index, if anything. */
  hostInfo(name: string): HostRow | undefined {
    const row = this.#stmt.hostInfo.get({ name });
    return row === undefined ? undefined : { ...row } as unknown as HostRow;
  }

  /** Every host with a `host_info` row, by name. */
  allHostInfo(): HostRow[] {
    return this.#stmt.allHostInfo.all().map((row) => ({ ...row }) as unknown as HostRow);
  }

  /** Writes every column of a host's row, creating it when missing. */
  upsertHostInfo(row: HostRow): void {
    this.#stmt.upsertHostInfo.run({ ...row });
  }

  /** Records when a host's agent was last seen; nothing happens for a host without a row. */
  touchHostInfo(name: string, now: string): void {
    this.#stmt.touchHostInfo.run({ name, now });
  }

  /** Forgets a host's row (its index, in `hosts`, is kept so it never goes back). */
  deleteHostInfo(name: string): void {
    this.#stmt.deleteHostInfo.run({ name });
  }

  /** Per host with containers: how many are running and how many there are. */
  hostCounts(): HostCountRow[] {
    return this.#stmt.hostCounts.all().map((row) => ({
      host: String(row.host),
      running: Number(row.running),
      total: Number(row.total),
    }));
  }

  /** Closes the database file; the store is unusable afterwards. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
