/**
 * The one duration grammar of launcher, for every flag, query, body and manifest field: Go-style
 * compound durations (`500ms`, `30s`, `1m30s`, `1.5h`, `7d`, `2h45m`) or a plain number of seconds.
 */
import { LauncherError } from "./errors.ts";

/** Nanoseconds per unit; `d` is 24 hours, as in `--events-retention 7d`. */
const NANOSECONDS: Record<string, number> = {
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
  d: 86_400e9,
};

/** Examples every duration message gives, so that one grammar reads the same everywhere. */
export const DURATION_EXAMPLES = "500ms, 30s, 1m30s, 2h or 7d";

const COMPOUND = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PLAIN_SECONDS = /^\d+(?:\.\d+)?$/;

/** A duration that could not be read; the message names the text and shows the grammar. */
export class DurationError extends LauncherError {
  override readonly status = 400;

  constructor(readonly text: string) {
    super(
      "invalid_duration",
      `${JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}...` : text)} is not a ` +
        `duration such as ${DURATION_EXAMPLES}`,
    );
  }
}

/**
 * Reads a duration into nanoseconds, not rounded: callers round to the unit they need, so that a
 * health check's `1.5ms` keeps its half millisecond. Throws {@link DurationError}.
 */
export function durationNanoseconds(text: string): number {
  const trimmed = text.trim();
  let total = 0;
  if (PLAIN_SECONDS.test(trimmed)) {
    total = Number(trimmed) * NANOSECONDS.s;
  } else if (COMPOUND.test(trimmed)) {
    // Summed in the order written: the spec hash of health checks depends on this arithmetic.
    for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
      total += Number(amount) * NANOSECONDS[unit];
    }
  } else {
    throw new DurationError(text);
  }
  // Hundreds of digits overflow to Infinity: no caller could wait that long anyway.
  if (!Number.isFinite(total)) throw new DurationError(text);
  return total;
}

/** Reads a duration into whole milliseconds. Throws {@link DurationError}. */
export function parseDuration(text: string): number {
  return Math.round(durationNanoseconds(text) / 1e6);
}
