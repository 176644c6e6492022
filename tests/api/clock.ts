/** A clock that stands still until a test moves it, firing the timers that fall due. */
import type { Clock, TimerHandle } from "../../src/server/clock.ts";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** A `Clock` for tests: `advance` moves time on and runs due timers in order. */
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

  /** How far ahead each pending timer is, soonest first. */
  pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }
}
