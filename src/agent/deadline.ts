/** Deadlines on engine calls: a hung engine fails one container's step, never the agent. */
import { LauncherError } from "../errors.ts";
import type { Clock } from "../clock.ts";

/** The default deadline of a non-streaming engine call. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 30_000;

/** An engine call that did not answer within its deadline. */
export class EngineTimeoutError extends LauncherError {
  constructor(call: string, ms: number) {
    super(
      "engine_timeout",
      `the engine did not answer ${call} within ${ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`}`,
    );
  }
}

/**
 * Runs `call` with a signal that aborts after `ms` (the engine adapter closes the request on
 * it) and rejects with `EngineTimeoutError` naming `what` at that moment, whether or not the
 * call itself gives up.
 */
export async function withDeadline<T>(
  clock: Clock,
  ms: number,
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = new AbortController();
  const expired = new Promise<never>((_, reject) => {
    void clock.sleep(ms, timer.signal).then(() => {
      if (timer.signal.aborted) return;
      controller.abort(new EngineTimeoutError(what, ms));
      reject(controller.signal.reason);
    });
  });
  try {
    return await Promise.race([call(controller.signal), expired]);
  } catch (error) {
    // An adapter that gives up on the abort throws the abort's own reason or an AbortError.
    if (controller.signal.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    timer.abort();
  }
}
