/** A clock that stands still until a test moves it, firing the timers that fall due. */
import { type Clock, sleepOn, type TimerHandle } from "../src/clock.ts";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A `Clock` for tests: `advance` moves time on and runs due timers in order; `pass` does the same
 * while letting the program work between timers (what a timer starts may set the next one).
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Moves time on by `ms`, running each timer that falls due at its own time, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    while (true) {
      let due: Timer | undefined;
      for (const timer of this.#timers.values()) {
        if (timer.at > target) continue;
        if (due === undefined || timer.at < due.at || (timer.at === due.at && timer.id < due.id)) {
          due = timer;
        }
      }
      if (due === undefined) break;
      this.#timers.delete(due.id);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = target;
  }

  /** Waits on the clock's timers; a wait of 0 ms ends on the next macrotask (it only yields). */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms > 0) return sleepOn(this, ms, signal);
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(resolve, 0);
      signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }

  /** Moves time on by `ms` one timer at a time, letting what each timer starts run. */
  async pass(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.values()].filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.advance(due.at - this.#now);
      await turns(5);
    }
    this.advance(target - this.#now);
    await turns(5);
  }

  /** How far ahead each pending timer is, soonest first. */
  pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }
}

/** Lets `n` macrotasks (and every microtask between them) run. */
async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
