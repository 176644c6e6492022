/**
 * The tls figure: what serving over HTTPS costs, HTTP and HTTPS side by side in one run, each on a
 * `launcher serve` of its own (bench_server.ts; the HTTPS one with a CA made as `tls init` makes
 * one, ECDSA P-256). Two measures:
 *
 * - API throughput: `CONCURRENCY` clients in this process GET one host's desired list
 *   (`GET /api/v1/container?host=H`, 10 containers) for `WINDOW_MS`, over kept-alive connections
 *   (what the agent and the CLI do) and over a new connection per request (a TLS handshake each).
 * - Fan-out: 2,000 simulated agents holding long-polls over HTTP and over TLS (fan_out.ts), the
 *   time until all have their new list and the server's memory.
 */
import type { Cleanup } from "./cleanup.ts";
import { type BenchServer, startBenchServer } from "./bench_server.ts";
import { fanOut } from "./fan_out.ts";
import type { FanOutClientResult } from "./fan_out_client.ts";
import { delay, mb, median, ms, now, verdict } from "./stats.ts";
import { TEST_IMAGE } from "../tests/e2e/engines.ts";

/** How the figure runs. */
export interface TlsOptions {
  agents: number;
  log: (line: string) => void;
}

/** Requests per second of each way of connecting. */
export interface Throughput {
  /** Kept-alive connections as fetch picks them: over TLS, HTTP/2 (ALPN), as agents and the CLI. */
  keepAlive: number;
  /** Kept-alive HTTP/1.1 connections, one per client loop. */
  keepAliveHttp1: number;
  newConnection: number;
  /** Median time of one request after another on a kept-alive connection, ms. */
  sequentialMs: number;
  /** Median time from sending a restart to the held long-poll's answer, ms: propagation. */
  wakeMs: number;
}

/** Both protocols' figures. */
export interface TlsResult {
  agents: number;
  http: { api: Throughput; fanOut: FanOutClientResult };
  https: { api: Throughput; fanOut: FanOutClientResult };
}

const CONCURRENCY = 16;
const SEQUENTIAL = 50;
const WAKES = 20;
const MANIFEST = "tls-bench";
const WINDOW_MS = 5_000;
const HOST = "bench-host";
/** HTTPS fan-out must meet the fan-out figure's own target. */
const TARGET_MS = 1_000;
const TARGET_RSS = 300 * 1024 * 1024;

/** Requests per second of `CONCURRENCY` loops GETting the host's list through `client`. */
async function rate(server: BenchServer, client: Deno.HttpClient): Promise<number> {
  const url = `${server.url}/api/v1/container?host=${HOST}`;
  const init = { headers: { authorization: `Bearer ${server.token}` }, client };
  const get = async () => {
    const res = await fetch(url, init);
    if (!res.ok) throw new Error(`GET /container answered ${res.status}`);
    await res.arrayBuffer();
  };
  // Warm: the route has run, and keep-alive has its connections.
  await Promise.all(Array.from({ length: CONCURRENCY }, get));
  let count = 0;
  const end = now() + WINDOW_MS;
  const t0 = now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (now() < end) {
      await get();
      count++;
    }
  }));
  return count / ((now() - t0) / 1000);
}

/** The median time of `SEQUENTIAL` requests sent one after another through `client`, ms. */
async function sequential(server: BenchServer, client: Deno.HttpClient): Promise<number> {
  const url = `${server.url}/api/v1/container?host=${HOST}`;
  const init = { headers: { authorization: `Bearer ${server.token}` }, client };
  const times: number[] = [];
  for (let i = 0; i <= SEQUENTIAL; i++) {
    const t0 = now();
    await (await fetch(url, init)).arrayBuffer();
    if (i > 0) times.push(now() - t0); // the first one opens the connection
  }
  return median(times);
}

/**
 * The median time from sending `POST /container/action` (a restart on the host) until the host's
 * held long-poll, on the same kept-alive client as an agent's, has its answer: `WAKES` times.
 */
async function wake(server: BenchServer, client: Deno.HttpClient): Promise<number> {
  const headers = { authorization: `Bearer ${server.token}` };
  const poll = async (index: number, waitMs: number) => {
    const query = new URLSearchParams({ host: HOST, index: String(index), wait: `${waitMs}ms` });
    const res = await fetch(`${server.url}/api/v1/container?${query}`, { headers, client });
    if (!res.ok) throw new Error(`the long-poll answered ${res.status}`);
    return ((await res.json()) as { index: number }).index;
  };
  let index = await poll(0, 0);
  const times: number[] = [];
  for (let i = 0; i < WAKES; i++) {
    const held = poll(index, 30_000);
    await delay(50);
    const t0 = now();
    const action = await fetch(`${server.url}/api/v1/container/action`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ action: "restart", host: HOST, container: "c0", manifest: MANIFEST }),
      client,
    });
    if (!action.ok) throw new Error(`the restart answered ${action.status}`);
    await action.body?.cancel();
    index = await held;
    times.push(now() - t0);
  }
  return median(times);
}

/** The API throughput of one server, kept-alive and with a new connection per request. */
async function throughput(server: BenchServer): Promise<Throughput> {
  const caCerts = server.ca === undefined ? [] : [server.ca];
  const lines = [`name: ${MANIFEST}`, "containers:"];
  for (let i = 0; i < 10; i++) lines.push(`  - {name: c${i}, host: ${HOST}, image: ${TEST_IMAGE}}`);
  const pooled = Deno.createHttpClient({ caCerts });
  const http1 = Deno.createHttpClient({ caCerts, http2: false });
  const fresh = Deno.createHttpClient({ caCerts, poolMaxIdlePerHost: 0 });
  try {
    const up = await fetch(`${server.url}/api/v1/manifest/up`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/x-yaml" },
      body: `${lines.join("\n")}\n`,
      client: pooled,
    });
    if (!up.ok) throw new Error(`manifest up answered ${up.status}: ${await up.text()}`);
    await up.body?.cancel();
    return {
      sequentialMs: await sequential(server, pooled),
      wakeMs: await wake(server, pooled),
      keepAlive: await rate(server, pooled),
      keepAliveHttp1: await rate(server, http1),
      newConnection: await rate(server, fresh),
    };
  } finally {
    pooled.close();
    http1.close();
    fresh.close();
  }
}

/** Runs the figure: HTTP first, then HTTPS, each on a fresh server. */
export async function tlsCost(cleanup: Cleanup, opts: TlsOptions): Promise<TlsResult> {
  const measure = async (tls: boolean) => {
    const name = tls ? "https" : "http";
    const server = await startBenchServer(cleanup, `tls-${name}`, [], undefined, tls);
    let api: Throughput;
    try {
      api = await throughput(server);
    } finally {
      await server.stop();
    }
    opts.log(
      `  tls: ${name} API ${api.keepAlive.toFixed(0)} req/s kept alive, ` +
        `${api.keepAliveHttp1.toFixed(0)} req/s kept alive on HTTP/1.1, ` +
        `${api.newConnection.toFixed(0)} req/s on new connections; one request after another ` +
        `${ms(api.sequentialMs)} (median); a restart to the held poll's answer ${ms(api.wakeMs)}`,
    );
    return { api, fanOut: await fanOut(cleanup, { agents: opts.agents, log: opts.log, tls }) };
  };
  const http = await measure(false);
  const https = await measure(true);
  return { agents: opts.agents, http, https };
}

/** "12.3 ms" or the count that never got its list. */
function fanOutTime(r: FanOutClientResult): string {
  return r.allMs === null ? `only ${r.updated} of ${r.agents}` : ms(r.allMs);
}

/** The figure's summary line. */
export function tlsLine(r: TlsResult): string {
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  const { http, https } = r;
  const met = https.fanOut.allMs !== null && https.fanOut.allMs < TARGET_MS &&
    https.fanOut.serverRssPeak < TARGET_RSS;
  return `tls          API GET /container kept alive: http ${http.api.keepAlive.toFixed(0)} ` +
    `req/s, https ${https.api.keepAlive.toFixed(0)} req/s over HTTP/2 (x${
      ratio(http.api.keepAlive, https.api.keepAlive)
    }), ${https.api.keepAliveHttp1.toFixed(0)} over HTTP/1.1 (x${
      ratio(http.api.keepAliveHttp1, https.api.keepAliveHttp1)
    }); one after another http ${ms(http.api.sequentialMs)}, https ${
      ms(https.api.sequentialMs)
    } (median); restart to the held poll's answer http ${ms(http.api.wakeMs)}, https ${
      ms(https.api.wakeMs)
    } (median); new connection each: http ${http.api.newConnection.toFixed(0)}, https ${
      https.api.newConnection.toFixed(0)
    } req/s (x${ratio(http.api.newConnection, https.api.newConnection)})  fan-out ${r.agents}: ` +
    `http all after ${fanOutTime(http.fanOut)}, https ${fanOutTime(https.fanOut)}; server rss ` +
    `held http ${mb(http.fanOut.serverRssHeld)}, https ${mb(https.fanOut.serverRssHeld)}, peak ` +
    `http ${mb(http.fanOut.serverRssPeak)}, https ${mb(https.fanOut.serverRssPeak)}  (target ` +
    `https fan-out < ${TARGET_MS / 1000} s, < ${TARGET_RSS / 1024 / 1024} MB)  ${verdict(met)}`;
}
