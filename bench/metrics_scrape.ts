/**
 * The `metrics` figure (issue 11): how long `GET /metrics` takes to answer on a server of its own
 * (no engine) holding 1,000 containers on 100 hosts. The hosts are registered through the API and
 * each kept online by a long-poll held as its agent holds one; one manifest pins 10 containers to
 * each host; every container is reported running and every host sends its agent's figures (so
 * that each host has its per-host series). Then `/metrics` is asked one request at a time, after
 * a few to warm up, each timed from sending to the whole text read. See docs/benchmarks.md.
 */
import { LauncherClient } from "../src/client/client.ts";
import { VERSION } from "../src/version.ts";
import { TEST_IMAGE } from "../tests/e2e/engines.ts";
import { type BenchServer, startBenchServer } from "./bench_server.ts";
import type { Cleanup } from "./cleanup.ts";
import { delay, ms, now, percentile, verdict } from "./stats.ts";

/** The issue's size: 1,000 containers on 100 hosts. */
const HOSTS = 100;
const PER_HOST = 10;
const WARMUP = 5;
const TARGET_MS = 20;
const WAIT_MS = 30_000;
const MANIFEST = "metrics";

/** How the figure runs. */
export interface MetricsScrapeOptions {
  /** Timed scrapes (after the warm-up). */
  runs: number;
  log: (line: string) => void;
}

/** What was measured. */
export interface MetricsScrapeResult {
  hosts: number;
  containers: number;
  /** Each timed scrape, from sending to the text read. */
  scrapeMs: number[];
  /** Lines and bytes of the last answer. */
  lines: number;
  bytes: number;
  /** What the last answer said: online hosts, running containers, held long-polls. */
  online: number;
  running: number;
  held: number;
}

/** The hosts' names, `m-000` on. */
function hostNames(): string[] {
  return Array.from({ length: HOSTS }, (_, i) => `m-${String(i).padStart(3, "0")}`);
}

/** One manifest pinning PER_HOST sleepers to each host. */
function manifest(hosts: string[]): string {
  const lines = [`name: ${MANIFEST}`, "containers:"];
  for (const host of hosts) {
    for (let i = 0; i < PER_HOST; i++) {
      lines.push(`  - name: ${host}-c${i}`, `    host: ${host}`, `    image: ${TEST_IMAGE}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** The value of one series of the text, or NaN. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

/** Keeps a long-poll held for `host` until `signal` aborts, as its agent would. */
async function holdPoll(client: LauncherClient, host: string, signal: AbortSignal) {
  let index = 0;
  while (!signal.aborted) {
    try {
      index = (await client.desired(host, index, WAIT_MS, signal)).index;
    } catch {
      if (signal.aborted) return;
      await delay(100);
    }
  }
}

/** Fills a fresh server, then times the scrapes. */
export async function metricsScrape(
  cleanup: Cleanup,
  opts: MetricsScrapeOptions,
): Promise<MetricsScrapeResult> {
  const server: BenchServer = await startBenchServer(cleanup, "metrics");
  const client = new LauncherClient(server.url, server.token);
  const polls = new AbortController();
  const hosts = hostNames();
  try {
    for (const host of hosts) {
      await client.registerHost({
        host,
        engineVersion: "none (simulated)",
        os: "linux",
        arch: Deno.build.arch,
        cpus: 8,
        memory: 32 * 1024 ** 3,
        agentVersion: VERSION,
        labels: {},
        intervalMs: 5000,
      });
      void holdPoll(client, host, polls.signal);
    }
    await client.up(manifest(hosts));
    for (const host of hosts) {
      await client.report({
        host,
        reports: Array.from({ length: PER_HOST }, (_, i) => ({
          host,
          manifest: MANIFEST,
          name: `${host}-c${i}`,
          state: "running" as const,
          containerId: `${host}-id-${i}`,
        })),
        agent: { reconcileSeconds: 0.01, engineErrors: 0 },
      });
    }
    const scrape = async () => {
      const res = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${server.token}` },
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text}`);
      return text;
    };
    let text = "";
    for (let i = 0; i < WARMUP; i++) text = await scrape();
    const scrapeMs: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const sent = now();
      text = await scrape();
      scrapeMs.push(now() - sent);
    }
    const result: MetricsScrapeResult = {
      hosts: HOSTS,
      containers: HOSTS * PER_HOST,
      scrapeMs,
      lines: text.split("\n").length - 1,
      bytes: new TextEncoder().encode(text).length,
      online: sample(text, 'launcher_hosts{status="online"}'),
      running: sample(text, 'launcher_containers{state="running"}'),
      held: sample(text, "launcher_long_polls_held"),
    };
    opts.log(
      `  metrics: ${result.lines} lines, ${result.bytes} bytes; online ${result.online}, ` +
        `running ${result.running}, held polls ${result.held}`,
    );
    return result;
  } finally {
    polls.abort();
    await server.stop();
  }
}

/** The figure's summary line: judged by the median, the p95 beside it. */
export function metricsScrapeLine(r: MetricsScrapeResult): string {
  const p50 = percentile(r.scrapeMs, 50);
  const complete = r.online === r.hosts && r.running === r.containers;
  return `metrics      GET /metrics with ${r.containers} containers on ${r.hosts} hosts ` +
    `(runs=${r.scrapeMs.length}): p50 ${ms(p50)} p95 ${ms(percentile(r.scrapeMs, 95))} max ${
      ms(Math.max(...r.scrapeMs))
    }, ${r.lines} lines${
      complete ? "" : ` (INCOMPLETE: ${r.online} hosts online, ${r.running} running)`
    }  (target p50 < ${TARGET_MS} ms)  ${verdict(complete && p50 < TARGET_MS)}`;
}
