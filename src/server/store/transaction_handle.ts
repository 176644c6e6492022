/**
 * What every store's transaction handles share: a handle joins its own transaction, keeps what
 * waits for the commit, skips nothing in `bestEffort`, and refuses to be used once its transaction
 * is over. Each store's subclass adds the statements, on its prototype. Also what every store
 * does outside its transactions with `onCommit` and `bestEffort`.
 */
import { StorageFullError } from "../../api/errors.ts";
import type { Store, StoreStatements } from "./store.ts";
import { type ScopedTransaction, TransactionMisuseError } from "./transaction_scope.ts";
import type { Migrated } from "./versions.ts";

/** The handle of one transaction of `store`, open until `end`. */
export abstract class TransactionHandle implements Store, ScopedTransaction {
  #open = true;
  readonly #store: Store;
  readonly #onCommit: (() => void)[] = [];

  constructor(store: Store) {
    this.#store = store;
  }

  get location(): string {
    return this.#store.location;
  }

  get migrated(): Migrated {
    return this.#store.migrated;
  }

  get open(): boolean {
    return this.#open;
  }

  clusterId(): string {
    return this.#store.clusterId();
  }

  /** Joins this transaction. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (!this.#open) return Promise.reject(this.ended("transaction"));
    return fn(this);
  }

  onCommit(fn: () => void): void {
    if (!this.#open) throw this.ended("onCommit");
    this.#onCommit.push(fn);
  }

  /** Inside a transaction nothing is skipped: a failed write fails the transaction. */
  async bestEffort(write: () => Promise<unknown>): Promise<boolean> {
    await write();
    return true;
  }

  close(): Promise<void> {
    return Promise.reject(new TransactionMisuseError("close was called on a transaction"));
  }

  /** Ends the handle: anything asked of it afterwards is refused. */
  end(): void {
    this.#open = false;
  }

  /** Runs what waited for the commit, in the order it was registered. */
  committed(): void {
    for (const fn of this.#onCommit.splice(0)) fn();
  }

  /** The error of `what` asked of a handle whose transaction is over. */
  protected ended(what: string): TransactionMisuseError {
    return new TransactionMisuseError(`${what} was called on a transaction that is over`);
  }
}

// The statements are on each subclass's prototype.
export interface TransactionHandle extends StoreStatements {}

/** `onCommit` asked of a store outside any transaction: refused. */
export function refuseOnCommit(): never {
  throw new TransactionMisuseError("onCommit was called on the store outside a transaction");
}

/** `bestEffort` of a store outside a transaction: the write is skipped on a full disk. */
export async function skipWhenFull(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (error instanceof StorageFullError) return false;
    throw error;
  }
}
