/**
 * Durations in a spec: health check timings in the engine's nanoseconds, and the stop timeout in
 * the engine's whole seconds.
 */
import { malformed, ValueError } from "./value_error.ts";

const NANOSECONDS: Record<string, number> = { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** The engine refuses health check durations below a millisecond (0 would mean its default). */
const MINIMUM_NANOSECONDS = 1e6;

/**
 * Parses a duration with units, Go style (`10s`, `500ms`, `1m30s`, `1.5h`), into nanoseconds of
 * at least one millisecond.
 */
export function parseNanoseconds(text: string): number {
  const nanoseconds = sum(text, "expected a duration such as 10s, 1m30s or 500ms");
  if (nanoseconds < MINIMUM_NANOSECONDS) {
    throw new ValueError(`has value ${JSON.stringify(text)} below the engine's minimum of 1ms`);
  }
  return nanoseconds;
}

/**
 * Parses a stop timeout, a number of seconds (`30`, `"30"`) or a duration (`"1m"`, `"90s"`),
 * into the whole seconds the engine takes.
 */
export function parseStopTimeout(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ValueError(`has value ${value}: expected a whole number of seconds, 0 or more`);
    }
    return value;
  }
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const seconds = sum(value, "expected a number of seconds or a duration such as 30s or 2m") / 1e9;
  if (!Number.isInteger(seconds)) {
    throw malformed(value, "the engine takes whole seconds, such as 30s or 2m");
  }
  return seconds;
}

/** The nanoseconds of a duration with units, or a malformed-value error naming `expected`. */
function sum(text: string, expected: string): number {
  if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(text)) throw malformed(text, expected);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(amount) * NANOSECONDS[unit];
  }
  const nanoseconds = Math.round(total);
  if (!Number.isSafeInteger(nanoseconds)) throw malformed(text, "the duration is too long");
  return nanoseconds;
}
