/**
 * The server's sense of time, injected so that tests move it instead of waiting: the current
 * time and one-shot timers. Production code uses `systemClock`.
 */

/** An opaque handle of a timer a clock started. */
export type TimerHandle = unknown;

/** The time and the timers of the server core. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Stops a timer that has not fired (a fired or stopped one is fine). */
  clearTimeout(handle: TimerHandle): void;
}

/** setTimeout fires at once beyond this delay (a signed 32-bit count of milliseconds). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The wall clock and the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(Math.max(ms, 0), MAX_TIMER_MS)),
  clearTimeout: (handle) => clearTimeout(handle as number),
};
