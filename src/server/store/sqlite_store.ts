/**
 * The embedded store: one SQLite file (`<dataDir>/launcher.db`, WAL) on one node:sqlite
 * connection, whose statements (one file per concern) run synchronously. The `Store` contract is
 * asynchronous, and a transaction's `fn` awaits between its statements: another request's
 * statements could then run on the same connection, inside that transaction. So transactions take
 * turns (a promise chain), and a statement outside a transaction waits for the one in progress,
 * if any; with none in progress it runs at once.
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { errorMessage } from "../../errors.ts";
import { containerStatements } from "./containers.ts";
import { copyStatements } from "./copying.ts";
import { eventStatements } from "./events.ts";
import { hostStatements } from "./hosts.ts";
import { indexStatements } from "./indexes.ts";
import { migrate } from "./migrate.ts";
import { StoreOpenError } from "./open_error.ts";
import { rolloutStatements } from "./rollouts.ts";
import { revisionStatements } from "./revisions.ts";
import { secretStatements } from "./secrets.ts";
import { sessionStatements } from "./sessions.ts";
import { isDiskFull, Statement } from "./sqlite.ts";
import type { Store, StoreStatements } from "./store.ts";
import { tokenStatements } from "./tokens.ts";
import { refuseOnCommit, skipWhenFull, TransactionHandle } from "./transaction_handle.ts";
import { TransactionScope } from "./transaction_scope.ts";
import { type StoreOptions, timed } from "./transaction_timing.ts";
import { type Migrated, StoreTooNewError } from "./versions.ts";

/** How every connection is set up: WAL, so that readers never wait for the writer. */
const PRAGMAS = [
  "journal_mode = WAL",
  "synchronous = NORMAL",
  "busy_timeout = 5000",
  "foreign_keys = ON",
];

/** Why a SQLite file could not be opened, for `StoreOpenError`. */
function openFailure(cause: unknown): string {
  return isDiskFull(cause)
    ? "the disk is full; free space and start the server again"
    : errorMessage(cause);
}

/** The contract's statements as SQLite runs them: the same methods, answering at once. */
type Synchronous<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;
};

/** Runs a synchronous statement as a settled promise: its value, or what it threw. */
function settled<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The statements by name, each as a plain function. */
function syncMethods(
  statements: Synchronous<StoreStatements>,
): [string, (...args: unknown[]) => unknown][] {
  return Object.entries(statements).map(([name, method]) => [
    name,
    method as (...args: unknown[]) => unknown,
  ]);
}

/** Turns on the one connection, first come first served. */
class Turns {
  #last: Promise<unknown> = Promise.resolve();
  /** Turns taken and not yet over. */
  #pending = 0;

  /** Whether nobody holds or waits for a turn. */
  get idle(): boolean {
    return this.#pending === 0;
  }

  /** Runs `fn` once every earlier turn is over; the turn lasts until its promise settles. */
  take<T>(fn: () => T | Promise<T>): Promise<T> {
    this.#pending++;
    const over = () => void this.#pending--;
    const result = this.#last.then(fn);
    this.#last = result.then(over, over);
    return result;
  }
}

/** The SQLite implementation of `Store`; every statement is prepared once. */
export class SqliteStore implements Store {
  /** The SQLite file. */
  readonly location: string;
  readonly migrated: Migrated;
  readonly #db: DatabaseSync;
  readonly #begin: Statement;
  readonly #commit: Statement;
  /** The class of this store's transaction handles: its prototype holds the statements. */
  readonly #Transaction: new (store: Store) => SqliteTransaction;
  readonly #cluster: string;
  readonly #turns = new Turns();
  readonly #scope = new TransactionScope();
  readonly #options: StoreOptions;

  /**
   * Opens (or creates) `<dataDir>/launcher.db`; `dataDir` must exist. Throws `StoreTooNewError`
   * when a newer launcher wrote it, and `StoreOpenError` when it cannot be opened or migrated.
   */
  constructor(dataDir: string, options: StoreOptions = {}) {
    this.#options = options;
    this.location = join(dataDir, "launcher.db");
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(this.location);
      // Statements rather than `exec`, whose errors lack the result code that tells a full disk.
      for (const pragma of PRAGMAS) db.prepare(`PRAGMA ${pragma}`).get();
      this.migrated = migrate(db);
    } catch (error) {
      if (db?.isOpen) db.close();
      // Its message already names the file and says what to do.
      if (error instanceof StoreTooNewError) throw error;
      throw new StoreOpenError(this.location, openFailure(error));
    }
    this.#db = db;
    const prepare = (sql: string) => new Statement(db, sql, dataDir);
    this.#begin = prepare("BEGIN IMMEDIATE");
    this.#commit = prepare("COMMIT");
    const { clusterId, ...indexes } = indexStatements(prepare);
    this.#cluster = clusterId();
    // Each statement checks against the contract here: same name, parameters and answer.
    const statements: Synchronous<StoreStatements> = {
      ...containerStatements(prepare),
      ...indexes,
      ...hostStatements(prepare),
      ...eventStatements(prepare),
      ...tokenStatements(prepare),
      ...rolloutStatements(prepare),
      ...revisionStatements(prepare),
      ...secretStatements(prepare),
      ...sessionStatements(prepare),
      ...copyStatements(prepare),
    };
    this.#Transaction = SqliteTransaction.over(statements);
    for (const [name, method] of syncMethods(statements)) {
      Object.defineProperty(this, name, {
        value: (...args: unknown[]) => this.#outside(() => method(...args)),
      });
    }
  }

  clusterId(): string {
    return this.#cluster;
  }

  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    const misuse = this.#scope.misuse("transaction");
    if (misuse !== undefined) return Promise.reject(misuse);
    return timed(this.#options, () => this.#turns.take(() => this.#run(fn)));
  }

  onCommit(): void {
    refuseOnCommit();
  }

  bestEffort(write: () => Promise<unknown>): Promise<boolean> {
    return skipWhenFull(write);
  }

  close(): Promise<void> {
    const misuse = this.#scope.misuse("close");
    if (misuse !== undefined) return Promise.reject(misuse);
    return this.#turns.take(() => {
      if (this.#db.isOpen) this.#db.close();
    });
  }

  /** A statement outside a transaction: at once when the connection is free, else in turn. */
  #outside<T>(statement: () => T): Promise<T> {
    const misuse = this.#scope.misuse("a statement");
    if (misuse !== undefined) return Promise.reject(misuse);
    return this.#turns.idle ? settled(statement) : this.#turns.take(statement);
  }

  /**
   * One transaction, in its turn: `BEGIN IMMEDIATE`, `fn`, then `COMMIT`, or a rollback when
   * either throws; what they threw is rethrown (`StorageFullError` on a full disk).
   */
  async #run<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    // A ROLLBACK that failed may have left a transaction open, and BEGIN would then fail forever.
    this.#rollback();
    this.#begin.run();
    const tx = new this.#Transaction(this);
    try {
      const result = await this.#scope.run(tx, () => fn(tx));
      this.#commit.run();
      tx.end();
      tx.committed();
      return result;
    } catch (error) {
      this.#rollback();
      throw error;
    } finally {
      tx.end();
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
}

// Its statements are set in the constructor, from the statement groups.
export interface SqliteStore extends StoreStatements {}

/**
 * The handle of one transaction: it holds the connection's turn while it is open. Handles are
 * made for every transaction, so their statements live on a prototype made once per store.
 */
class SqliteTransaction extends TransactionHandle {
  /** The class of the handles of one store's transactions, with its statements. */
  static over(
    statements: Synchronous<StoreStatements>,
  ): new (store: Store) => SqliteTransaction {
    const Transaction = class extends SqliteTransaction {};
    for (const [name, method] of syncMethods(statements)) {
      Object.defineProperty(Transaction.prototype, name, {
        value(this: SqliteTransaction, ...args: unknown[]) {
          return this.#inside(() => method(...args));
        },
      });
    }
    return Transaction;
  }

  #inside<T>(statement: () => T): Promise<T> {
    if (!this.open) return Promise.reject(this.ended("a statement"));
    return settled(statement);
  }
}
