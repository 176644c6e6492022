/**
 * Held requests, written once: the desired-list long-polls, the agents' log polls and event
 * follows all hold a request until something happens to what they wait on (a key), their time
 * runs out, their client leaves, or the server shuts down. A cap bounds how many are held, since
 * each holds a socket and memory.
 */
import { OverloadedError } from "../api/errors.ts";
import { type Clock, systemClock } from "../clock.ts";

/** Why a wait ended. */
export type WaitEnd = "woken" | "timeout" | "aborted" | "closed";

/** Options of a set of waiters. */
export interface WaitersOptions {
  /** How many waits may be held at once; beyond it `wait` rejects with `OverloadedError`. */
  max: number;
  /** Whose timers end waits (default the system clock). */
  clock?: Clock;
}

/** A keyed set of held waits. */
export class Waiters<K> {
  readonly #max: number;
  readonly #clock: Clock;
  readonly #byKey = new Map<K, Set<(end: WaitEnd) => void>>();
  #held = 0;
  #closed = false;

  constructor(options: WaitersOptions) {
    this.#max = options.max;
    this.#clock = options.clock ?? systemClock;
  }

  /** How many waits are held right now. */
  get held(): number {
    return this.#held;
  }

  /** Whether `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The keys that have waits held right now. */
  keys(): K[] {
    return [...this.#byKey.keys()];
  }

  /** How many waits on `key` are held right now. */
  count(key: K): number {
    return this.#byKey.get(key)?.size ?? 0;
  }

  /**
   * Holds until `wake(key)`, `timeoutMs`, `signal` or `close`, and says which. Answers at once
   * when closed, aborted or given no time; rejects with `OverloadedError` beyond the cap.
   */
  wait(key: K, timeoutMs: number, signal?: AbortSignal): Promise<WaitEnd> {
    if (this.#closed) return Promise.resolve("closed");
    if (signal?.aborted) return Promise.resolve("aborted");
    if (!(timeoutMs > 0)) return Promise.resolve("timeout");
    if (this.#held >= this.#max) return Promise.reject(new OverloadedError(this.#max));
    return new Promise((resolve) => {
      let set = this.#byKey.get(key);
      if (set === undefined) {
        set = new Set();
        this.#byKey.set(key, set);
      }
      const waiting = set;
      const end = (why: WaitEnd) => {
        if (!waiting.delete(end)) return;
        this.#held--;
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (waiting.size === 0 && this.#byKey.get(key) === waiting) this.#byKey.delete(key);
        resolve(why);
      };
      const onAbort = () => end("aborted");
      const timer = this.#clock.setTimeout(() => end("timeout"), timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      waiting.add(end);
      this.#held++;
    });
  }

  /** Ends every wait on `key` as woken; returns how many there were. */
  wake(key: K): number {
    const waiting = this.#byKey.get(key);
    if (waiting === undefined) return 0;
    const ends = [...waiting];
    for (const end of ends) end("woken");
    return ends.length;
  }

  /** Ends every held wait as woken. */
  wakeAll(): void {
    for (const key of [...this.#byKey.keys()]) this.wake(key);
  }

  /** Ends every held wait as closed, and answers new ones at once (server shutdown). */
  close(): void {
    this.#closed = true;
    for (const waiting of [...this.#byKey.values()]) {
      for (const end of [...waiting]) end("closed");
    }
  }
}
