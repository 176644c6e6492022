/**
 * What the store's statement groups need of node:sqlite: statements prepared once that hand back
 * plain objects and report a full disk as `StorageFullError`, and column lists taken from the row
 * types.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { StorageFullError } from "../../api/errors.ts";

/** `SQLITE_FULL`; extended result codes keep the primary code in their low byte. */
const SQLITE_FULL = 13;
/**
 * `SQLITE_IOERR_SHMSIZE`: the unix VFS could not grow the WAL's `-shm` file. On a full disk this
 * is how opening the store fails, and how a growing WAL fails once its index needs more room.
 */
const SQLITE_IOERR_SHMSIZE = 4874;
/** What SQLite says for `SQLITE_FULL` (`sqlite3_errstr`). */
const FULL_MESSAGE = "database or disk is full";

/**
 * Whether a node:sqlite error says the disk is full. Statements' errors carry SQLite's result code
 * in `errcode`; those of `DatabaseSync.exec` carry only the message.
 */
export function isDiskFull(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { errcode } = error as { errcode?: unknown };
  if (typeof errcode === "number") {
    return (errcode & 0xff) === SQLITE_FULL || errcode === SQLITE_IOERR_SHMSIZE;
  }
  return error.message.includes(FULL_MESSAGE);
}

/** A full disk as the contract's `StorageFullError`; any other error as it is. */
export function storageError(error: unknown, dataDir: string): unknown {
  return isDiskFull(error) ? new StorageFullError(dataDir) : error;
}

/** What a write did: rows changed, and the rowid of the last insert. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/**
 * One prepared statement. Parameters are bound by `$name` from an object's keys (node:sqlite
 * refuses keys the statement does not name), or, for the wide inserts made once per container,
 * by position (`runValues`); rows come back as plain objects, since node:sqlite's have a null
 * prototype that deep comparisons and spreads into typed rows trip over. A full disk throws
 * `StorageFullError` naming `dataDir`, whichever statement hits it.
 */
export class Statement {
  readonly #stmt: StatementSync;
  readonly #dataDir: string;

  constructor(db: DatabaseSync, sql: string, dataDir: string) {
    this.#stmt = db.prepare(sql);
    this.#dataDir = dataDir;
  }

  /** Runs a write. */
  run(params?: object): RunResult {
    const result = this.#guard(() =>
      params === undefined ? this.#stmt.run() : this.#stmt.run(bind(params))
    );
    return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) };
  }

  /**
   * Runs a write whose parameters are `?`, binding `values` in order: node:sqlite looks each
   * `$name` up on every run, which for a wide row costs as much as the insert itself.
   */
  runValues(values: SQLInputValue[]): RunResult {
    const result = this.#guard(() => this.#stmt.run(...values));
    return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) };
  }

  /** The first row, if any. */
  get<Row>(params?: object): Row | undefined {
    const row = this.#guard(() =>
      params === undefined ? this.#stmt.get() : this.#stmt.get(bind(params))
    );
    return row === undefined ? undefined : { ...row } as Row;
  }

  /** Every row. */
  all<Row>(params?: object): Row[] {
    const rows = this.#guard(() =>
      params === undefined ? this.#stmt.all() : this.#stmt.all(bind(params))
    );
    return rows.map((row) => ({ ...row }) as Row);
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw storageError(error, this.#dataDir);
    }
  }
}

/** Prepares a statement on the store's database. */
export type Prepare = (sql: string) => Statement;

/** Row types are interfaces, which TypeScript does not let pass as string-keyed records. */
function bind(params: object): Record<string, SQLInputValue> {
  return params as Record<string, SQLInputValue>;
}

/** `$a, $b`: the parameters of an insert of `cols`. */
export function params(cols: string[]): string {
  return cols.map((col) => `$${col}`).join(", ");
}

/** `?, ?`: the parameters of an insert of `cols` bound by position (`runValues`). */
export function placeholders(cols: string[]): string {
  return cols.map(() => "?").join(", ");
}

/** The values of `cols` in `row`, in order, for `runValues`. */
export function valuesOf<Row extends object>(row: Row, cols: string[]): SQLInputValue[] {
  return cols.map((col) => (row as Record<string, SQLInputValue>)[col]);
}

/** `a = $a, b = $b`: an update's assignments of `cols`. */
export function assignments(cols: string[]): string {
  return cols.map((col) => `${col} = $${col}`).join(", ");
}
