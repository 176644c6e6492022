/** The error of a manifest that cannot be read or does not validate. */
import { type ErrorDetail, LauncherError } from "../errors.ts";

/** The most details an error lists; the message still counts them all. */
export const MAX_DETAILS = 100;

/** A manifest that cannot be read or does not validate; `details` holds every problem found. */
export class ManifestError extends LauncherError {
  override readonly status = 400;

  constructor(details: ErrorDetail[]) {
    const sorted = ordered(details);
    // The first problems are what a person fixes first; thousands would only bloat the answer.
    super("invalid_manifest", summarize(sorted), sorted.slice(0, MAX_DETAILS));
  }
}

/** Details in text order (those without a position last), each problem once. */
function ordered(details: ErrorDetail[]): ErrorDetail[] {
  const seen = new Set<string>();
  const unique = details.filter((detail) => {
    const key = `${detail.path}\n${detail.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const rank = (detail: ErrorDetail) => [detail.line ?? Infinity, detail.column ?? Infinity];
  return unique.sort((a, b) => rank(a)[0] - rank(b)[0] || rank(a)[1] - rank(b)[1]);
}

/** The first detail with its place, and how many more there are. */
function summarize(details: readonly ErrorDetail[]): string {
  const [first] = details;
  if (!first) return "manifest is invalid";
  const where = first.line === undefined
    ? undefined
    : first.column === undefined
    ? `line ${first.line}`
    : `line ${first.line}, column ${first.column}`;
  const at = first.path && where ? `${first.path} (${where})` : first.path ?? where;
  const more = details.length - 1;
  const tail = more === 0 ? "" : ` (and ${more} more problem${more === 1 ? "" : "s"})`;
  return `${at ? `${at}: ` : ""}${first.message}${tail}`;
}
