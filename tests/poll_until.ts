/** The one poll-until helper of the tests and the bench. */

/** How long `pollUntil` tries and how often. */
export interface PollOptions {
  /** Give up after this long; 20 s unless given. */
  timeoutMs?: number;
  /** Pause between checks; 50 ms unless given. */
  everyMs?: number;
}

/**
 * Calls `check` until it returns a value other than undefined or false, and resolves with it;
 * throws after `timeoutMs`. Errors from `check` count as "not yet", and the last one goes into
 * the timeout message. `what` may be a function, for a message that says what was last seen.
 */
export async function pollUntil<T>(
  what: string | (() => string),
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 20_000, everyMs = 50 }: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const reason = last === undefined
        ? ""
        : `: ${last instanceof Error ? last.message : String(last)}`;
      const subject = typeof what === "string" ? what : what();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${subject}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
