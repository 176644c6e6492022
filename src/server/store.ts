/**
 * The embedded store: one SQLite file (`<dataDir>/launcher.db`, WAL) holding manifests,
 * containers, host indexes and token hashes. Only the planner and the token auth use it.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { join } from "node:path";

/** One stored container: its spec (as JSON), where it runs, what is desired and observed. */
export interface ContainerRow {
  manifest: string;
  name: string;
  host: string;
  spec: string;
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
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
) STRICT;
`;

const CONTAINER_COLUMNS =
  "manifest, name, host, spec, spec_hash, desired, state, container_id, exit_code, error, " +
  "health, generation, restart_generation, created_at, updated_at";

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
        "$spec_hash, $desired, $state, $container_id, $exit_code, $error, $health, $generation, " +
        "$restart_generation, $created_at, $updated_at)",
    ),
    updateContainer: p(
      "UPDATE containers SET host = $host, spec = $spec, spec_hash = $spec_hash, " +
        "desired = $desired, state = $state, container_id = $container_id, " +
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
    getMeta: p("SELECT value FROM meta WHERE key = $key"),
    setMeta: p(
      "INSERT INTO meta (key, value) VALUES ($key, $value) " +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
    insertToken: p("INSERT INTO tokens (id, hash, created_at) VALUES ($id, $hash, $created_at)"),
    tokenByHash: p("SELECT id FROM tokens WHERE hash = $hash"),
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

  /** Stores a token hash under a new id. */
  insertToken(id: string, hash: string, createdAt: string): void {
    this.#stmt.insertToken.run({ id, hash, created_at: createdAt });
  }

  /** Whether a token with this hash was issued. */
  hasTokenHash(hash: string): boolean {
    return this.#stmt.tokenByHash.get({ hash }) !== undefined;
  }

  /** Closes the database file; the store is unusable afterwards. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
