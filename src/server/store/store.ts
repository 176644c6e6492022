/**
 * The embedded store: one SQLite file (`<dataDir>/launcher.db`, WAL) holding manifests,
 * containers, host indexes and hosts, events, token hashes and manifest revisions. `Store` is the
 * one entry point; its statements live in one file per concern and their methods are the store's
 * own. Opening it brings its schema up to date (`migrate.ts`).
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { StorageFullError } from "../../api/errors.ts";
import { LauncherError } from "../../errors.ts";
import { type ContainerStatements, containerStatements } from "./containers.ts";
import { type EventStatements, eventStatements } from "./events.ts";
import { type HostStatements, hostStatements } from "./hosts.ts";
import { type IndexStatements, indexStatements } from "./indexes.ts";
import { migrate, type Migrated, StoreTooNewError } from "./migrate.ts";
import { type RolloutStatements, rolloutStatements } from "./rollouts.ts";
import { type RevisionStatements, revisionStatements } from "./revisions.ts";
import { isDiskFull, Statement } from "./sqlite.ts";
import { type TokenStatements, tokenStatements } from "./tokens.ts";

export type {
  ContainerRow,
  EventRow,
  HostCountRow,
  HostRow,
  ManifestRow,
  RevisionRow,
  RolloutRow,
  TokenRow,
} from "./rows.ts";
export type { EventQuery } from "./events.ts";
export type { RevisionEntryRow } from "./revisions.ts";

/** The store's methods beyond transactions: those of every statement group. */
export interface Store
  extends
    ContainerStatements,
    IndexStatements,
    HostStatements,
    EventStatements,
    TokenStatements,
    RolloutStatements,
    RevisionStatements {}

/** How every connection is set up: WAL, so that readers never wait for the writer. */
const PRAGMAS = [
  "journal_mode = WAL",
  "synchronous = NORMAL",
  "busy_timeout = 5000",
  "foreign_keys = ON",
];

/** The store could not be opened or brought up to date; the server cannot start. */
export class StoreOpenError extends LauncherError {
  constructor(path: string, cause: unknown) {
    const reason = isDiskFull(cause)
      ? "the disk is full; free space and start the server again"
      : cause instanceof Error
      ? cause.message
      : String(cause);
    super("store_open", `cannot open the store ${path}: ${reason}`);
  }
}

/** Typed access to the SQLite file; every statement is prepared once. */
export class Store {
  readonly path: string;
  /** What opening did to the schema: the version found and the one now. */
  readonly migrated: Migrated;
  readonly #db: DatabaseSync;
  readonly #begin: Statement;
  readonly #commit: Statement;
  #depth = 0;

  /**
   * Opens (or creates) `<dataDir>/launcher.db`; `dataDir` must exist. Throws `StoreTooNewError`
   * when a newer launcher wrote it, and `StoreOpenError` when it cannot be opened or migrated.
   */
  constructor(dataDir: string) {
    this.path = join(dataDir, "launcher.db");
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(this.path);
      // Statements rather than `exec`, whose errors lack the result code that tells a full disk.
      for (const pragma of PRAGMAS) db.prepare(`PRAGMA ${pragma}`).get();
      this.migrated = migrate(db);
    } catch (error) {
      if (db?.isOpen) db.close();
      // Its message already names the file and says what to do.
      if (error instanceof StoreTooNewError) throw error;
      throw new StoreOpenError(this.path, error);
    }
    this.#db = db;
    const prepare = (sql: string) => new Statement(db, sql, dataDir);
    this.#begin = prepare("BEGIN IMMEDIATE");
    this.#commit = prepare("COMMIT");
    // Plain object methods, closed over their statements: copying them keeps them working.
    Object.assign(
      this,
      containerStatements(prepare),
      indexStatements(prepare),
      hostStatements(prepare),
      eventStatements(prepare),
      tokenStatements(prepare),
      rolloutStatements(prepare),
      revisionStatements(prepare),
    );
  }

  /**
   * Runs `fn` inside `BEGIN IMMEDIATE` / `COMMIT`, rolling back when it throws, and rethrows what
   * `fn` or `COMMIT` threw (`StorageFullError` on a full disk). Nested calls join the outer
   * transaction, so helpers can be composed.
   */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    // A ROLLBACK that failed may have left a transaction open, and BEGIN would then fail forever.
    this.#rollback();
    this.#begin.run();
    this.#depth++;
    try {
      const result = fn();
      this.#commit.run();
      return result;
    } catch (error) {
      this.#rollback();
      throw error;
    } finally {
      this.#depth--;
    }
  }

  /**
   * Runs a bookkeeping write that reads make on the side (a last-seen or last-used time): on a
   * full disk it is skipped, and false says so, since a read must not fail for it. Inside a
   * transaction nothing is skipped: SQLite may have rolled the whole transaction back, and the
   * writes after it would then be applied alone.
   */
  bestEffort(write: () => void): boolean {
    try {
      write();
      return true;
    } catch (error) {
      if (error instanceof StorageFullError && this.#depth === 0) return false;
      throw error;
    }
  }

  /**
   * Ends the open transaction, if any. On some errors (a full disk at COMMIT) SQLite has already
   * rolled back, and a ROLLBACK would fail with an error that hides the one that says why.
   */
  #rollback(): void {
    if (!this.#db.isTransaction) return;
    try {
      this.#db.exec("ROLLBACK");
    } catch {
      // The caller's error is the one worth reporting; the next transaction tries again.
    }
  }

  /** Closes the database file; the store is unusable afterwards. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
