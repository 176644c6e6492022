/**
 * Which transaction the running code is inside, for a store to refuse being used around it. Code
 * handed a transaction's `tx` must use it, not the store: on SQLite the store would wait for that
 * very transaction to end (a deadlock), on PostgreSQL it would take another connection and see
 * another state. The async context follows `await`s, so a helper called from inside `fn`, however
 * deep, is inside too; code that merely outlives the transaction (a timer it started) is not.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { LauncherError } from "../../errors.ts";

/** The store was used around one of its own transactions, or a transaction after its end. */
export class TransactionMisuseError extends LauncherError {
  constructor(message: string) {
    super("transaction_misuse", message);
  }
}

/** What a scope knows of a transaction: whether it is still open. */
export interface ScopedTransaction {
  readonly open: boolean;
}

/** The transactions of one store, as async contexts. */
export class TransactionScope {
  readonly #context = new AsyncLocalStorage<ScopedTransaction>();

  /** Runs `fn` (and everything it awaits) inside `tx`. */
  run<T>(tx: ScopedTransaction, fn: () => Promise<T>): Promise<T> {
    return this.#context.run(tx, fn);
  }

  /** The error to answer `what` with when it is called inside an open transaction of this store. */
  misuse(what: string): TransactionMisuseError | undefined {
    if (!this.#context.getStore()?.open) return undefined;
    return new TransactionMisuseError(
      `${what} was called on the store inside one of its transactions: use the transaction's tx`,
    );
  }
}
