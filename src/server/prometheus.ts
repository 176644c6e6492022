/**
 * Prometheus' text exposition format (version 0.0.4), written by hand: metric families of
 * counters, gauges and histograms, each series named by its labels. prom-client would do the same,
 * but its default Node metrics break under Deno, and the format is a few lines.
 */

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The label names and values of one series. */
export type Labels = Readonly<Record<string, string>>;

/** One line of a family: its value, its labels, and the suffix of a histogram's parts. */
export interface Sample {
  labels: Labels;
  value: number;
  /** `_bucket`, `_sum` or `_count` of a histogram; none for counters and gauges. */
  suffix?: string;
}

/** The kinds of metric this server exposes. */
export type MetricType = "counter" | "gauge" | "histogram";

/** A label value with backslash, double quote and newline escaped, as the format asks. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** A number as the format writes it: `+Inf`, `-Inf`, `NaN`, or Go's float syntax. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([name, value]) =>
    `${name}="${escapeLabelValue(value)}"`
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** Appends one family to `out`: its HELP and TYPE lines, then a line per sample. */
export function writeFamily(
  out: string[],
  name: string,
  type: MetricType,
  help: string,
  samples: readonly Sample[],
): void {
  out.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
  out.push(`# TYPE ${name} ${type}`);
  for (const s of samples) {
    out.push(`${name}${s.suffix ?? ""}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
}

/** A key that names a series by its labels, whatever order they were given in. */
function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

/** The series of one counter family, by labels; in key order, so that the output is stable. */
export class CounterSeries {
  readonly #series = new Map<string, { labels: Labels; value: number }>();

  /** Adds `by` (default 1) to the series of `labels`, creating it at 0. */
  inc(labels: Labels, by = 1): void {
    const key = seriesKey(labels);
    const series = this.#series.get(key);
    if (series === undefined) this.#series.set(key, { labels, value: by });
    else series.value += by;
  }

  /** Every series' current value. */
  samples(): Sample[] {
    return [...this.#series.entries()].sort(([a], [b]) => a < b ? -1 : 1)
      .map(([, s]) => ({ labels: s.labels, value: s.value }));
  }
}

/** The series of one histogram family, by labels, over fixed upper bounds (seconds, bytes, ...). */
export class HistogramSeries {
  readonly #bounds: readonly number[];
  readonly #series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();

  /** `bounds`: the buckets' upper bounds, ascending; `+Inf` is added. */
  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
  }

  /** Records one observation in the series of `labels`. */
  observe(labels: Labels, value: number): void {
    const key = seriesKey(labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { labels, counts: this.#bounds.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    // Per bucket, not cumulative: the text is cumulative, summed when it is written.
    const bucket = this.#bounds.findIndex((bound) => value <= bound);
    if (bucket >= 0) series.counts[bucket]++;
    series.sum += value;
    series.count++;
  }

  /** Every series' buckets (cumulative, `le` last), sum and count. */
  samples(): Sample[] {
    const out: Sample[] = [];
    const entries = [...this.#series.entries()].sort(([a], [b]) => a < b ? -1 : 1);
    for (const [, series] of entries) {
      const total = series.count;
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += series.counts[i];
        out.push({
          suffix: "_bucket",
          labels: { ...series.labels, le: formatValue(bound) },
          value: cumulative,
        });
      });
      out.push({ suffix: "_bucket", labels: { ...series.labels, le: "+Inf" }, value: total });
      out.push({ suffix: "_sum", labels: series.labels, value: series.sum });
      out.push({ suffix: "_count", labels: series.labels, value: total });
    }
    return out;
  }
}
