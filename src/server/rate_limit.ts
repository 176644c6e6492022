/**
 * Failed-attempt limiting per client: after `maxFailures` failures within `windowMs`, a client
 * is refused until the oldest of them leaves the window. Kept in memory: a restart forgets it.
 */

/** How a limiter counts. */
export interface FailureLimiterOptions {
  /** Failures allowed within the window before the client is refused (default 5). */
  maxFailures?: number;
  /** The sliding window (default one minute). */
  windowMs?: number;
  /** Clients remembered at once; the least recently failing are forgotten first (default 10,000). */
  maxClients?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** Counts failures per client key (an address) in a sliding window. */
export class FailureLimiter {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #now: () => number;
  /** Failure times per client, oldest first; Map order is least recently failing first. */
  readonly #failures = new Map<string, number[]>();

  constructor(opts: FailureLimiterOptions = {}) {
    this.#maxFailures = opts.maxFailures ?? 5;
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#maxClients = opts.maxClients ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Milliseconds until `client` may try again; 0 when it may now. */
  retryAfterMs(client: string): number {
    const times = this.#recent(client);
    if (times.length < this.#maxFailures) return 0;
    return times[times.length - this.#maxFailures] + this.#windowMs - this.#now();
  }

  /** Records a failed attempt. */
  fail(client: string): void {
    const times = this.#recent(client);
    times.push(this.#now());
    // Re-inserting keeps the Map ordered by last failure, so the eviction below drops the stalest.
    this.#failures.delete(client);
    this.#failures.set(client, times.slice(-this.#maxFailures));
    for (const key of this.#failures.keys()) {
      if (this.#failures.size <= this.#maxClients) break;
      this.#failures.delete(key);
    }
  }

  /** Forgets a client's failures, as after a successful attempt. */
  succeed(client: string): void {
    this.#failures.delete(client);
  }

  /** A client's failures still inside the window (dropping the rest). */
  #recent(client: string): number[] {
    const times = this.#failures.get(client);
    if (times === undefined) return [];
    const since = this.#now() - this.#windowMs;
    const recent = times.filter((t) => t > since);
    if (recent.length === 0) this.#failures.delete(client);
    else if (recent.length < times.length) this.#failures.set(client, recent);
    return recent;
  }
}
