/**
 * Reads asked for at about the same time, served together: when one commit moves many hosts'
 * indexes, every long-poll held on them wakes at once, and each would take a connection of the
 * store's pool for its own transaction (PostgreSQL: 10 a server, and a request waits for one at
 * most 10 s). A batcher gathers the keys asked for within one turn of the event loop, and while
 * its batches are in flight, and answers them with one call each batch; each caller gets its own
 * key's answer. A batch starts after every call it serves was made, so what it reads is at least
 * as recent as what each caller's own read would have been.
 */

/** A caller waiting for its key's answer. */
interface Pending<V> {
  resolve: (value: V) => void;
  reject: (error: unknown) => void;
}

/** Options of a batcher. */
export interface BatcherOptions {
  /** The most keys one batch reads (default 1000). */
  maxBatch?: number;
  /** How many batches may be in flight at once (default 2); later keys wait for one to end. */
  maxInFlight?: number;
}

/** Gathers keys and reads them together with `read`, which answers each key it was given. */
export class Batcher<K, V> {
  readonly #read: (keys: K[]) => Promise<Map<K, V>>;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #pending = new Map<K, Pending<V>[]>();
  #scheduled = false;
  #inFlight = 0;

  constructor(read: (keys: K[]) => Promise<Map<K, V>>, options: BatcherOptions = {}) {
    this.#read = read;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#maxInFlight = options.maxInFlight ?? 2;
  }

  /** The answer for `key`, read in the next batch. */
  get(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const waiting = this.#pending.get(key);
      if (waiting === undefined) this.#pending.set(key, [{ resolve, reject }]);
      else waiting.push({ resolve, reject });
      this.#schedule();
    });
  }

  /** Starts a batch after the current turn, unless one is scheduled or the batches are full. */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#pending.size === 0) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      this.#flush();
    }, 0);
  }

  /** Starts batches of what is pending, as many as may be in flight. */
  #flush(): void {
    while (this.#pending.size > 0 && this.#inFlight < this.#maxInFlight) {
      const batch: [K, Pending<V>[]][] = [];
      for (const entry of this.#pending) {
        batch.push(entry);
        this.#pending.delete(entry[0]);
        if (batch.length >= this.#maxBatch) break;
      }
      this.#inFlight++;
      void this.#run(batch);
    }
  }

  async #run(batch: [K, Pending<V>[]][]): Promise<void> {
    try {
      const answers = await this.#read(batch.map(([key]) => key));
      for (const [key, waiting] of batch) {
        const answer = answers.get(key) as V;
        for (const { resolve } of waiting) resolve(answer);
      }
    } catch (error) {
      for (const [, waiting] of batch) for (const { reject } of waiting) reject(error);
    } finally {
      this.#inFlight--;
      this.#schedule();
    }
  }
}
