/** How long store transactions take, told to whoever opened the store (the server's metrics). */

/** How a transaction ended. */
export type TransactionOutcome = "commit" | "rollback";

/** Options of a store. */
export interface StoreOptions {
  /**
   * Hears every transaction of `transaction()` (not the ones it joins): how long it took in
   * seconds, from the call until it settled (a wait for its turn or a connection included), and
   * whether it committed. Must not throw.
   */
  onTransaction?: (seconds: number, outcome: TransactionOutcome) => void;
}

/** Runs `work` (one transaction), telling `options.onTransaction` how long it took. */
export function timed<T>(options: StoreOptions, work: () => Promise<T>): Promise<T> {
  const hear = options.onTransaction;
  if (hear === undefined) return work();
  const start = performance.now();
  const result = work();
  const done = (outcome: TransactionOutcome) => () =>
    hear((performance.now() - start) / 1000, outcome);
  result.then(done("commit"), done("rollback"));
  return result;
}
