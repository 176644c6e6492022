/**
 * The figures of several servers on one PostgreSQL store (issue 10, docs/ha.md), without engines:
 * a throwaway PostgreSQL (tests/pg_cluster.ts) and two `launcher serve --store URL`, A and B.
 *
 * - Cross-server propagation: a simulated agent holds its long-poll on A; the clock starts when
 *   `manifest up` is sent to B and stops when the poll held on A has answered with the new list,
 *   which is when a real agent acts. The same with the `up` sent to A is the comparison (the
 *   wake-up inside one server), in the same run, the two alternating which goes first.
 * - Fan-out over two servers: N simulated agents (fan_out_client.ts), half polling A and half B;
 *   one `manifest up` through A with one container per simulated host; the time until every one
 *   has its new list, and each server's peak RSS.
 */
import type { Cleanup } from "./cleanup.ts";
import { type BenchServer, serverLogTail, startBenchServer } from "./bench_server.ts";
import { runFanOutClient } from "./fan_out.ts";
import type { FanOutClientResult } from "./fan_out_client.ts";
import { mb, ms, now, percentile, verdict } from "./stats.ts";
import { TEST_IMAGE } from "../tests/e2e/engines.ts";
import { startPostgres } from "../tests/pg_cluster.ts";

const PROPAGATION_TARGET_MS = 50;
const FAN_OUT_TARGET_MS = 1_000;
const FAN_OUT_TARGET_RSS = 300 * 1024 * 1024;
/** Time for a long-poll to reach the server and be held before the `up` is sent. */
const HOLD_MS = 100;
const POLL_WAIT = "30s";

/** Two servers on one fresh PostgreSQL database, all registered with the cleanup. */
interface HaPair {
  a: BenchServer;
  b: BenchServer;
  stop(): Promise<void>;
}

async function startPair(cleanup: Cleanup, name: string): Promise<HaPair> {
  const pg = await startPostgres();
  const stopPg = cleanup.add({ name: `${name} PostgreSQL`, run: () => pg.stop() });
  const servers: BenchServer[] = [];
  const stop = async () => {
    for (const server of servers.reverse()) await server.stop();
    await stopPg();
  };
  try {
    const url = await pg.createDatabase();
    // One after the other: the first creates the schema.
    servers.push(await startBenchServer(cleanup, `${name}-a`, [], url));
    servers.push(await startBenchServer(cleanup, `${name}-b`, [], url));
    return { a: servers[0], b: servers[1], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** How the propagation figure runs. */
export interface HaPropagationOptions {
  runs: number;
  log: (line: string) => void;
}

/** One propagation run: from sending `up` to the held poll's answer, and to the `up` answer. */
interface Run {
  answerMs: number;
  upMs: number;
}

/** What the propagation figure found, in milliseconds. */
export interface HaPropagationResult {
  runs: number;
  /** `up` sent to B, poll held on A. */
  cross: Run[];
  /** `up` sent to A, poll held on A. */
  same: Run[];
}

const HOST = "ha-host";

function manifest(round: number): string {
  return [
    "name: ha-propagation",
    "containers:",
    `  - {name: p, host: ${HOST}, image: ${TEST_IMAGE}, environment: {ROUND: "${round}"}}`,
    "",
  ].join("\n");
}

async function up(server: BenchServer, round: number): Promise<void> {
  const res = await fetch(`${server.url}/api/v1/manifest/up`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/x-yaml" },
    body: manifest(round),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`manifest up failed with ${res.status}: ${text.slice(0, 300)}`);
}

async function currentIndex(server: BenchServer): Promise<number> {
  const res = await fetch(`${server.url}/api/v1/container?host=${HOST}`, {
    headers: { authorization: `Bearer ${server.token}` },
  });
  await res.body?.cancel();
  const index = Number(res.headers.get("x-launcher-index"));
  if (!res.ok || !Number.isInteger(index)) throw new Error(`GET /container: ${res.status}`);
  return index;
}

/** One run: a poll held on `holder`, `up` sent to `via`. */
async function oneRun(holder: BenchServer, via: BenchServer, round: number): Promise<Run> {
  const index = await currentIndex(holder);
  const query = new URLSearchParams({ host: HOST, index: String(index), wait: POLL_WAIT });
  let answered = NaN;
  const poll = fetch(`${holder.url}/api/v1/container?${query}`, {
    headers: { authorization: `Bearer ${holder.token}` },
  }).then(async (res) => {
    const body = await res.json() as { containers?: { config?: { environment?: unknown } }[] };
    answered = now();
    const next = Number(res.headers.get("x-launcher-index"));
    if (!res.ok || !(next > index)) {
      throw new Error(`the held poll answered ${res.status} with index ${next} (was ${index})`);
    }
    if (!JSON.stringify(body).includes(`"ROUND":"${round}"`)) {
      throw new Error("the held poll answered without the new container");
    }
  });
  await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
  const t0 = now();
  await up(via, round);
  const upMs = now() - t0;
  await poll;
  return { answerMs: answered - t0, upMs };
}

/** Runs the propagation figure: a PostgreSQL, two servers, `runs` runs of each kind. */
export async function haPropagation(
  cleanup: Cleanup,
  opts: HaPropagationOptions,
): Promise<HaPropagationResult> {
  const pair = await startPair(cleanup, "ha-propagation");
  const { a, b } = pair;
  try {
    opts.log(`  ha-propagation: servers A (pid ${a.pid}) and B (pid ${b.pid}) on one PostgreSQL`);
    // Warm both: the paths of `up`, of the held poll and of the wake-up have run.
    let round = 0;
    await up(a, round++);
    for (let i = 0; i < 3; i++) {
      await oneRun(a, b, round++);
      await oneRun(a, a, round++);
    }
    const cross: Run[] = [];
    const same: Run[] = [];
    for (let run = 1; run <= opts.runs; run++) {
      // Odd runs cross-server first, even runs same-server first.
      const order = run % 2 === 1 ? ["cross", "same"] : ["same", "cross"];
      for (const kind of order) {
        const r = await oneRun(a, kind === "cross" ? b : a, round++);
        (kind === "cross" ? cross : same).push(r);
      }
      opts.log(
        `  ha-propagation run ${run}: up via B ${ms(cross.at(-1)!.answerMs)}, via A ${
          ms(same.at(-1)!.answerMs)
        }`,
      );
    }
    for (const server of [a, b]) {
      for (const line of await serverLogTail(server, 3)) opts.log(`  ha-propagation: ${line}`);
    }
    return { runs: opts.runs, cross, same };
  } finally {
    await pair.stop();
  }
}

/** The propagation figure's summary line. */
export function haPropagationLine(r: HaPropagationResult): string {
  const p = (runs: Run[], q: number, key: keyof Run) => percentile(runs.map((x) => x[key]), q);
  const p50 = p(r.cross, 50, "answerMs");
  return `ha-propagation runs=${r.runs}  up via B, poll held on A: p50 ${ms(p50)} p99 ${
    ms(p(r.cross, 99, "answerMs"))
  } (up answered p50 ${ms(p(r.cross, 50, "upMs"))})  same server (up via A): p50 ${
    ms(p(r.same, 50, "answerMs"))
  } p99 ${
    ms(p(r.same, 99, "answerMs"))
  }  (target p50 < ${PROPAGATION_TARGET_MS} ms from sending up to the held poll's answer)  ${
    verdict(p50 < PROPAGATION_TARGET_MS)
  }`;
}

/** How the fan-out figure runs. */
export interface HaFanOutOptions {
  agents: number;
  quick: boolean;
  log: (line: string) => void;
}

/** What the fan-out figure found. */
export interface HaFanOutResult extends FanOutClientResult {
  quick: boolean;
}

/** Runs the fan-out figure over two servers on one PostgreSQL. */
export async function haFanOut(cleanup: Cleanup, opts: HaFanOutOptions): Promise<HaFanOutResult> {
  const pair = await startPair(cleanup, "ha-fan-out");
  const { a, b } = pair;
  try {
    opts.log(
      `  ha-fan-out: ${opts.agents} simulated agents over servers A (pid ${a.pid}) and B (pid ${b.pid}) on one PostgreSQL; up through A`,
    );
    const result = await runFanOutClient(cleanup, a.dir, {
      url: a.url,
      token: a.token,
      agents: opts.agents,
      serverPid: a.pid,
      waitSeconds: 60,
      more: [{ url: b.url, token: b.token, pid: b.pid }],
    }, (line) => opts.log(line.replace("  fan-out", "  ha-fan-out")));
    for (const server of [a, b]) {
      for (const line of await serverLogTail(server, 3)) opts.log(`  ha-fan-out: ${line}`);
    }
    return { ...result, quick: opts.quick };
  } finally {
    await pair.stop();
  }
}

/** The fan-out figure's summary line. */
export function haFanOutLine(r: HaFanOutResult): string {
  const peaks = r.servers.map((s) => s.rssPeak);
  const met = r.allMs !== null && r.allMs < FAN_OUT_TARGET_MS &&
    peaks.every((peak) => peak < FAN_OUT_TARGET_RSS);
  const all = r.allMs === null
    ? `only ${r.updated} of ${r.agents} got the new list`
    : `all had the new list after ${ms(r.allMs)}`;
  const servers = r.servers.map((s, i) =>
    `${"AB"[i] ?? i} (${s.agents} agents) rss held ${mb(s.rssHeld)}, peak ${mb(s.rssPeak)}, cpu ${
      s.cpuSeconds.toFixed(2)
    }s`
  ).join("; ");
  return `ha-fan-out   agents=${r.agents}${
    r.quick ? " (--quick)" : ""
  } over 2 servers  ${all} (up through A answered ${ms(r.upMs)}, p50 ${ms(r.p50Ms ?? NaN)}, p99 ${
    ms(r.p99Ms ?? NaN)
  })  ${servers}  (target < ${FAN_OUT_TARGET_MS / 1000} s, each < ${
    FAN_OUT_TARGET_RSS / 1024 / 1024
  } MB)  ${verdict(met)}`;
}
