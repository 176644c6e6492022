/**
 * The PostgreSQL store, for several servers on one database: a `pg` Pool, each transaction on one
 * connection of it (`BEGIN ISOLATION LEVEL REPEATABLE READ` ... `COMMIT`), statements with `$1`
 * parameters (`postgres_statements.ts`).
 *
 * Writers take turns across servers, as SQLite's do within one: a transaction that writes holds
 * `LOCK TABLE write_lock IN EXCLUSIVE MODE` from its start to its end. The lock statement takes no
 * snapshot, so the transaction's snapshot comes after the lock, and it reads everything the writer
 * before it committed; with no writer beside it, no write can fail to serialise. Readers take no
 * lock: a transaction that only reads does so in its REPEATABLE READ snapshot, beside the writer.
 * A transaction does not say whether it will write, so it starts without the lock; its first write
 * takes the lock when nothing was read yet, and otherwise ends the attempt: it is rolled back and
 * `fn` runs again from the start with the lock, on a fresh handle (its `onCommit` callbacks go
 * with the attempt). A statement outside a transaction that writes is a transaction of its own.
 *
 * A database that cannot be reached fails the statement or transaction with
 * `StoreUnavailableError` (nothing is kept: PostgreSQL rolls back what a lost connection left
 * open); the pool makes new connections once it is back.
 */
import pg from "pg";
import { StorageFullError, StoreUnavailableError } from "../../api/errors.ts";
import { errorMessage, LauncherError } from "../../errors.ts";
import { StoreOpenError } from "./open_error.ts";
import { migratePostgres } from "./postgres_migrate.ts";
import { WRITE_LOCK_TABLE } from "./postgres_schema.ts";
import { CLUSTER_ID, PG_STATEMENTS, type PgStatement } from "./postgres_statements.ts";
import { redactUrl } from "./postgres_url.ts";
import type { Store, StoreStatements } from "./store.ts";
import { refuseOnCommit, skipWhenFull, TransactionHandle } from "./transaction_handle.ts";
import { TransactionScope } from "./transaction_scope.ts";
import { type StoreOptions, timed } from "./transaction_timing.ts";
import { type Migrated, StoreTooNewError } from "./versions.ts";

const BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ";
const LOCK = `LOCK TABLE ${WRITE_LOCK_TABLE} IN EXCLUSIVE MODE`;
/** Both in one round trip (the simple protocol takes several statements). */
const BEGIN_LOCKED = `${BEGIN}; ${LOCK}`;

/** How the pool reaches the database. */
const POOL_OPTIONS = {
  /** Connections per server; a transaction holds one from BEGIN to COMMIT. */
  max: 10,
  /** A connection not made in this time (or none free) fails the request with a 503. */
  connectionTimeoutMillis: 10_000,
  /** TCP keepalives, so that a connection to a host that vanished ends. */
  keepAlive: true,
  /**
   * A server that stops in the middle of a transaction (frozen, cut off) would hold the write lock
   * for every server: PostgreSQL ends such a session after this long.
   */
  idle_in_transaction_session_timeout: 60_000,
  /** How the connections show in `pg_stat_activity`, unless the URL names them. */
  fallback_application_name: "launcher",
} as const;

/** bigint (int8) columns as JS numbers, as node:sqlite reads SQLite's integers. */
const TYPES = {
  getTypeParser:
    ((oid: number, format?: string) =>
      oid === pg.types.builtins.INT8
        ? (text: string) => Number(text)
        : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/** Connection errors of node's sockets. */
const SOCKET_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
/**
 * PostgreSQL's codes for a connection that is gone or refused: class 08, the server shutting down
 * or starting (57P01-57P03), no connection slot left (53300), a session ended for idling in a
 * transaction (25P03).
 */
const SERVER_GONE = /^(08...|57P0[123]|53300|25P03)$/;
/** What `pg` says when a connection ends under it, or none came in time. */
const DRIVER_GONE = /Connection terminated|not queryable|timeout exceeded when trying to connect/;
/** PostgreSQL's `disk_full`. */
const DISK_FULL = "53100";

/** Why the database cannot be reached, when `error` says it cannot; else undefined. */
export function unreachable(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const gone = typeof code === "string" && (SOCKET_ERRORS.has(code) || SERVER_GONE.test(code));
  if (!gone && !DRIVER_GONE.test(error.message)) return undefined;
  // A connection tried on several addresses fails with an AggregateError without a message.
  const inner = error instanceof AggregateError ? error.errors[0] : undefined;
  return error.message || (inner instanceof Error ? inner.message : String(code));
}

/** An error of the database as the contract's: unreachable, a full disk, or as it is. */
function storeError(error: unknown, location: string): unknown {
  if (error instanceof LauncherError) return error;
  const reason = unreachable(error);
  if (reason !== undefined) return new StoreUnavailableError(reason);
  if ((error as { code?: unknown }).code === DISK_FULL) {
    return new StorageFullError(location, `the database's disk is full (${location})`);
  }
  return error;
}

/** Why a database could not be opened, for `StoreOpenError`. */
function openFailure(error: unknown): string {
  const reason = unreachable(error);
  return reason === undefined ? errorMessage(error) : `the database is unreachable: ${reason}`;
}

/** A write came after reads in a transaction without the write lock: it runs again with it. */
class LockNeeded extends Error {
  constructor() {
    super("a write after reads without the write lock: the transaction runs again with it");
  }
}

type AnyStatement = PgStatement<unknown[], unknown>;
const STATEMENTS = Object.entries(PG_STATEMENTS) as [string, AnyStatement][];

/** Runs one statement on a connection, named so that the connection prepares it once. */
async function run(
  db: pg.Pool | pg.PoolClient,
  name: string,
  statement: AnyStatement,
  args: unknown[],
): Promise<unknown> {
  const values = statement.values(...args);
  return statement.answer(
    await db.query({ name: `launcher_${name}`, text: statement.text, values }),
  );
}

/** The PostgreSQL implementation of `Store`. */
export class PostgresStore implements Store {
  /** The database's URL without its password. */
  readonly location: string;
  readonly migrated: Migrated;
  readonly #pool: pg.Pool;
  readonly #cluster: string;
  readonly #scope = new TransactionScope();
  /** Transactions and statements in progress, which `close` waits for. */
  readonly #pending = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;
  readonly #options: StoreOptions;

  private constructor(
    location: string,
    pool: pg.Pool,
    migrated: Migrated,
    cluster: string,
    options: StoreOptions,
  ) {
    this.#options = options;
    this.location = location;
    this.#pool = pool;
    this.migrated = migrated;
    this.#cluster = cluster;
  }

  /**
   * Connects to the database at `url`, brings its schema up to date and reads the installation's
   * id. Throws `StoreTooNewError` when a newer launcher wrote it, and `StoreOpenError` (naming the
   * URL without its password) when it cannot be reached, entered or migrated.
   */
  static async open(url: string, options: StoreOptions = {}): Promise<PostgresStore> {
    const location = redactUrl(url);
    const pool = new pg.Pool({ connectionString: url, types: TYPES, ...POOL_OPTIONS });
    // Unheard, a connection error ends the process. An idle connection's error reaches the pool,
    // which drops the connection; one in use also fails its query, which is where it is handled.
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    try {
      const client = await pool.connect();
      try {
        const migrated = await migratePostgres(client, location);
        const { rows } = await client.query<{ value: string }>(CLUSTER_ID);
        return new PostgresStore(location, pool, migrated, rows[0].value, options);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => {});
      if (error instanceof StoreTooNewError) throw error;
      throw new StoreOpenError(location, openFailure(error));
    }
  }

  static {
    for (const [name, statement] of STATEMENTS) {
      Object.defineProperty(this.prototype, name, {
        value(this: PostgresStore, ...args: unknown[]) {
          return this.#statement(name, statement, args);
        },
      });
    }
  }

  clusterId(): string {
    return this.#cluster;
  }

  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    const refused = this.#refuse("transaction");
    if (refused !== undefined) return Promise.reject(refused);
    return timed(this.#options, () => this.#track(this.#run(fn)));
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
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#pending]);
      await this.#pool.end();
    })();
    return this.#closing;
  }

  /** Why the store refuses `what` now: inside one of its transactions, or closed. */
  #refuse(what: string): Error | undefined {
    return this.#scope.misuse(what) ??
      (this.#closing === undefined
        ? undefined
        : new LauncherError("store_closed", "the store is closed"));
  }

  /** Keeps `work` among what `close` waits for until it settles. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    const settled = () => void this.#pending.delete(work);
    work.then(settled, settled);
    return work;
  }

  /** A statement outside a transaction: a read on any connection, a write in a transaction. */
  #statement(name: string, statement: AnyStatement, args: unknown[]): Promise<unknown> {
    const refused = this.#refuse("a statement");
    if (refused !== undefined) return Promise.reject(refused);
    if (statement.write) {
      // Not through `transaction`: onTransaction hears transactions asked for, as on SQLite.
      return this.#track(
        this.#run((tx) => (tx as unknown as Record<string, Method>)[name](...args)),
      );
    }
    return this.#track(
      run(this.#pool, name, statement, args).catch((error) => {
        throw storeError(error, this.location);
      }),
    );
  }

  /**
   * Runs `fn` in a transaction: first without the write lock, and again from the start with it
   * when it writes after reading. Commits when `fn` resolves, rolls back when it rejects.
   */
  async #run<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    for (let locked = false;; locked = true) {
      const client = await this.#begin(locked);
      const tx = new PgTransaction(this, client, locked);
      let result: T | undefined;
      let failure: { error: unknown } | undefined;
      try {
        result = await this.#scope.run(tx, () => fn(tx));
      } catch (error) {
        failure = { error };
      }
      tx.end();
      if (tx.lockNeeded || failure !== undefined) {
        await this.#end(client, "ROLLBACK", tx.broken);
        if (tx.lockNeeded) continue;
        throw failure!.error;
      }
      await this.#end(client, "COMMIT", false);
      tx.committed();
      return result as T;
    }
  }

  /**
   * A connection with a transaction begun on it (and the write lock taken, when `locked`). The
   * pool has dropped the connections the database ended while they sat idle: their `error` event
   * comes first (a restart or a crash of the database ends them at once).
   */
  async #begin(locked: boolean): Promise<pg.PoolClient> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw storeError(error, this.location);
    }
    try {
      await client.query(locked ? BEGIN_LOCKED : BEGIN);
      return client;
    } catch (error) {
      client.release(true);
      throw storeError(error, this.location);
    }
  }

  /**
   * Commits or rolls back, and hands the connection back to the pool, or ends it when it broke:
   * a rollback that cannot be sent is made by the database when the connection ends. A commit
   * that fails is thrown (`StoreUnavailableError` when the connection broke: whether it was made
   * is then unknown).
   */
  async #end(client: pg.PoolClient, command: "COMMIT" | "ROLLBACK", broken: boolean) {
    if (broken) return client.release(true);
    try {
      await client.query(command);
      client.release();
    } catch (error) {
      client.release(true);
      if (command === "COMMIT") throw storeError(error, this.location);
    }
  }
}

// Its statements are set on its prototype, from PG_STATEMENTS.
export interface PostgresStore extends StoreStatements {}

type Method = (...args: unknown[]) => Promise<unknown>;

/** The handle of one attempt at a transaction, on its connection. */
class PgTransaction extends TransactionHandle {
  /** Whether the write lock is held (or asked for, ahead of every statement sent since). */
  #locked: boolean;
  /** Whether a statement was sent since BEGIN: the snapshot is taken, too late for the lock. */
  #sent = false;
  #lockNeeded = false;
  #broken = false;
  readonly #client: pg.PoolClient;

  constructor(store: PostgresStore, client: pg.PoolClient, locked: boolean) {
    super(store);
    this.#client = client;
    this.#locked = locked;
  }

  static {
    for (const [name, statement] of STATEMENTS) {
      Object.defineProperty(this.prototype, name, {
        value(this: PgTransaction, ...args: unknown[]) {
          return this.#statement(name, statement, args);
        },
      });
    }
  }

  /** Whether the attempt wrote after reading without the lock, and must run again with it. */
  get lockNeeded(): boolean {
    return this.#lockNeeded;
  }

  /** Whether its connection broke: nothing more can be sent on it. */
  get broken(): boolean {
    return this.#broken;
  }

  /**
   * Sends one statement. The first write takes the lock, ahead of it, when nothing was sent yet;
   * after a read it is too late, and the attempt is marked to run again (every later statement
   * of it fails too, in case `fn` catches the first failure).
   */
  #statement(name: string, statement: AnyStatement, args: unknown[]): Promise<unknown> {
    if (!this.open) return Promise.reject(this.ended("a statement"));
    let lock: Promise<unknown> | undefined;
    if (statement.write && !this.#locked) {
      if (this.#sent) this.#lockNeeded = true;
      else {
        this.#locked = true;
        lock = this.#client.query(LOCK);
      }
    }
    if (this.#lockNeeded) return Promise.reject(new LockNeeded());
    this.#sent = true;
    // After the lock, so that a lock that fails says why; statements called meanwhile queue behind.
    const sent = lock === undefined
      ? run(this.#client, name, statement, args)
      : lock.then(() => run(this.#client, name, statement, args));
    return sent.catch((error) => {
      if (unreachable(error) !== undefined) this.#broken = true;
      throw storeError(error, this.location);
    });
  }
}
