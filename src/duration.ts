/** Durations as people write them: `500ms`, `30s`, `2m`, `1h`, `7d`, or plain seconds. */
import { LauncherError } from "./errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration that could not be read. */
export class DurationError extends LauncherError {
  override readonly status = 400;

  constructor(text: string) {
    super("invalid_duration", `"${text}" is not a duration such as 500ms, 30s, 2m or 1h`);
  }
}

/** Parses a duration into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new DurationError(text);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? "s"]);
}
