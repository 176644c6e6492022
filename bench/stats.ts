/** Small numeric and formatting helpers shared by the figures. */

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** The p-th percentile (0..100) by the nearest-rank method; NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The median (the 50th percentile, nearest rank). */
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
