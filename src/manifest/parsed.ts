/**
 * A value of a spec as written beside what it parses to. The schema keeps both, so that a spec is
 * parsed once and can still be stored and shown in its author's words.
 */

/** A written value and its parsed form; never found in data read from YAML or JSON. */
export class Parsed<W, P> {
  constructor(readonly written: W, readonly value: P) {}
}

/** A copy of `value` with every {@link Parsed} replaced by what was written. */
export function writtenForm(value: unknown): unknown {
  if (value instanceof Parsed) return value.written;
  if (Array.isArray(value)) return value.map(writtenForm);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, writtenForm(v)]));
  }
  return value;
}
