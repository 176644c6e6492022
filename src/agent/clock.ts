/**
 * The agent's clock: every wait the agent makes (backoff, retries, deadlines, the periodic check)
 * goes through it, so unit tests move time by hand instead of sleeping.
 */
import { sleep } from "../sleep.ts";

/** Time as the agent reads and waits for it. */
export interface Clock {
  /** Unix milliseconds. */
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now(), sleep };
