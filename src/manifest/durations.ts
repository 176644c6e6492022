/**
 * Durations of a manifest in the units their readers take: health check timings in nanoseconds
 * and the stop timeout in whole seconds (the engine's), rollout and rescheduling times in
 * milliseconds (the server's). The grammar itself is launcher's one (`src/duration.ts`).
 */
import { quote } from "./describe.ts";
import { DurationError, durationNanoseconds } from "../duration.ts";
import { malformed, ValueError } from "./value_error.ts";

/** The engine refuses health check durations below a millisecond (0 would mean its default). */
const MINIMUM_NANOSECONDS = 1e6;

/**
 * A health check duration (`10s`, `1m30s`, `500ms`, `7d`, or a number of seconds) in whole
 * nanoseconds of at least one millisecond.
 */
export function healthNanoseconds(value: string | number): number {
  const text = String(value);
  const nanoseconds = wholeNanoseconds(text);
  if (nanoseconds < MINIMUM_NANOSECONDS) {
    throw new ValueError(`has value ${quote(text)} below the engine's minimum of 1ms`);
  }
  return nanoseconds;
}

/**
 * A stop timeout, a number of seconds (`30`, `"30"`) or a duration (`"1m"`, `"90s"`), in the
 * whole seconds the engine takes.
 */
export function stopTimeoutSeconds(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ValueError(`has value ${value}: expected a whole number of seconds, 0 or more`);
    }
    return value;
  }
  // Whole seconds are taken as written, without the float arithmetic of units.
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const seconds = wholeNanoseconds(value) / 1e9;
  if (!Number.isInteger(seconds)) {
    throw malformed(value, "the engine takes whole seconds, such as 30s or 2m");
  }
  return seconds;
}

/**
 * A rollout or rescheduling duration (`10s`, `5m`, `7d`, or a number of seconds) in whole
 * milliseconds, 0 or more.
 */
export function wholeMilliseconds(value: string | number): number {
  return Math.round(wholeNanoseconds(String(value)) / 1e6);
}

/** The same, at least one millisecond: a deadline or a grace period of 0 would pass at once. */
export function positiveMilliseconds(value: string | number): number {
  const milliseconds = wholeMilliseconds(value);
  if (milliseconds < 1) {
    throw new ValueError(`has value ${quote(String(value))}: expected at least 1ms`);
  }
  return milliseconds;
}

/** A duration in whole nanoseconds, which must fit the integers a number holds exactly. */
function wholeNanoseconds(text: string): number {
  let nanoseconds: number;
  try {
    nanoseconds = Math.round(durationNanoseconds(text));
  } catch (error) {
    if (error instanceof DurationError) throw new ValueError(error.message);
    throw error;
  }
  if (!Number.isSafeInteger(nanoseconds)) throw malformed(text, "the duration is too long");
  return nanoseconds;
}
