/**
 * Time, injected so that tests move it instead of waiting: the current time, one-shot timers, and
 * waits that a signal can cut short. Production code uses `systemClock`.
 */

/** An opaque handle of a timer a clock started. */
export type TimerHandle = unknown;

/** The time and the timers of the server and the agent. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Stops a timer that has not fired (a fired or stopped one is fine). */
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** setTimeout fires at once beyond this delay (a signed 32-bit count of milliseconds). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A wait on a clock's timers that `signal` cuts short. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clock.clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The wall clock and the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(Math.max(ms, 0), MAX_TIMER_MS)),
  clearTimeout: (handle) => clearTimeout(handle as number),
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};
