/** A clock that moves only when a test says so; waits of 0 ms end on the next macrotask. */
import type { Clock } from "../../../src/agent/clock.ts";

interface Sleeper {
  at: number;
  wake: () => void;
}

/** Time that tests move by hand. */
export class ManualClock implements Clock {
  #now: number;
  readonly #sleepers = new Set<Sleeper>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      if (ms <= 0) {
        const timer = setTimeout(resolve, 0);
        signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
        return;
      }
      const sleeper: Sleeper = {
        at: this.#now + ms,
        wake: () => {
          this.#sleepers.delete(sleeper);
          signal?.removeEventListener("abort", sleeper.wake);
          resolve();
        },
      };
      signal?.addEventListener("abort", sleeper.wake, { once: true });
      this.#sleepers.add(sleeper);
    });
  }

  /** How many waits are pending. */
  get pending(): number {
    return this.#sleepers.size;
  }

  /** Moves time forward, waking each wait in order and letting what it starts run. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      const next = [...this.#sleepers].filter((s) => s.at <= target).sort((a, b) => a.at - b.at)[0];
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.at);
      next.wake();
      await turns(5);
    }
    this.#now = target;
    await turns(5);
  }
}

/** Lets `n` macrotasks (and every microtask between them) run. */
export async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Lets the event loop run until `check` holds; fails after `maxTurns` macrotasks. Nothing in a
 * fake takes real time, so this waits on work, never on the wall clock.
 */
export async function settle(
  what: string,
  check: () => boolean,
  maxTurns = 5000,
): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (check()) return;
    await turns();
  }
  throw new Error(`never settled: ${what}`);
}
