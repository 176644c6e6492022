/**
 * What the store's statement groups need of node:sqlite: statements prepared once that hand back
 * plain objects, and column lists taken from the row types.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";

/** What a write did: rows changed, and the rowid of the last insert. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/**
 * One prepared statement. Parameters are bound by `$name` from an object's keys (node:sqlite
 * refuses keys the statement does not name); rows come back as plain objects, since node:sqlite's
 * have a null prototype that deep comparisons and spreads into typed rows trip over.
 */
export class Statement {
  readonly #stmt: StatementSync;

  constructor(db: DatabaseSync, sql: string) {
    this.#stmt = db.prepare(sql);
  }

  /** Runs a write. */
  run(params?: object): RunResult {
    const result = params === undefined ? this.#stmt.run() : this.#stmt.run(bind(params));
    return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) };
  }

  /** The first row, if any. */
  get<Row>(params?: object): Row | undefined {
    const row = params === undefined ? this.#stmt.get() : this.#stmt.get(bind(params));
    return row === undefined ? undefined : { ...row } as Row;
  }

  /** Every row. */
  all<Row>(params?: object): Row[] {
    const rows = params === undefined ? this.#stmt.all() : this.#stmt.all(bind(params));
    return rows.map((row) => ({ ...row }) as Row);
  }
}

/** Prepares a statement on the store's database. */
export type Prepare = (sql: string) => Statement;

/** Row types are interfaces, which TypeScript does not let pass as string-keyed records. */
function bind(params: object): Record<string, SQLInputValue> {
  return params as Record<string, SQLInputValue>;
}

/**
 * A table's column names, in order, from one entry per column of its row type: a column added to
 * the row type and not here fails to compile.
 */
export function columns<Row>(names: Record<keyof Row, true>): string[] {
  return Object.keys(names);
}

/** `$a, $b`: the parameters of an insert of `cols`. */
export function params(cols: string[]): string {
  return cols.map((col) => `$${col}`).join(", ");
}

/** `a = $a, b = $b`: an update's assignments of `cols`. */
export function assignments(cols: string[]): string {
  return cols.map((col) => `${col} = $${col}`).join(", ");
}
