/** Small numeric and formatting helpers shared by the figures. */

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The p-th percentile (0..100) by linear interpolation between the closest ranks: over the sorted
 * values x[0..n-1], the value at rank h = (p / 100) * (n - 1), that is x[floor(h)] plus the
 * fraction of h times the step to the next value (NumPy's default, Excel's PERCENTILE.INC). So
 * the 50th of an even count is the mean of the two middle values. NaN for an empty list. Infinity
 * (a run that never finished) stays Infinity wherever it weighs in, rather than turning into NaN.
 */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const low = sorted[Math.floor(rank)];
  const high = sorted[Math.ceil(rank)];
  const fraction = rank - Math.floor(rank);
  // Spelled out: 0 * Infinity and Infinity - Infinity are NaN.
  if (fraction === 0 || low === high) return low;
  if (high === Infinity) return Infinity;
  return low + fraction * (high - low);
}

/** The median: the middle value, or the mean of the two middle values of an even count. */
export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Milliseconds as `12.3 ms`. */
export function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(1)} ms` : "n/a";
}

/** Milliseconds as seconds, `3.10s`. */
export function secs(valueMs: number): string {
  return Number.isFinite(valueMs) ? `${(valueMs / 1000).toFixed(2)}s` : "n/a";
}

/** Bytes as `48.2 MB` (MiB, as /proc counts kB of 1024 bytes). */
export function mb(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : "n/a";
}

/** A share of one core as `0.42%`. */
export function pct(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}%` : "n/a";
}

/** `met` or `MISSED`, for the end of a figure's line. */
export function verdict(met: boolean): string {
  return met ? "met" : "MISSED";
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
