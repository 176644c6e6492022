/**
 * The silent-clients figure (issue 12): a `launcher serve --idle-timeout 2s` of its own, N
 * connections opened to it that never send a byte, then how long the server takes to close all
 * of them (the idle sweep, not the clients, ends them), what they cost it while held, and how fast
 * `GET /healthz` answers before and while they are held.
 */
import type { Cleanup } from "./cleanup.ts";
import { startBenchServer } from "./bench_server.ts";
import { rssBytes } from "./proc_stats.ts";
import { mb, ms, now, percentile, secs, verdict } from "./stats.ts";

const IDLE_TIMEOUT_MS = 2_000;
/** All must be closed within the idle timeout plus this (two sweeps of a quarter each, and slack). */
const TARGET_SLACK_MS = 1_000;
/** The health check's median while the silent connections are held. */
const TARGET_HEALTHZ_P50_MS = 10;
const PROBES = 50;
/** The longest wait for the server to close them: past it, the ones still open count as missed. */
const WAIT_MS = 30_000;

/** What the figure measured. */
export interface SilentClientsResult {
  connections: number;
  /** From the last connection opened until the server had closed every one; null if it did not. */
  closedMs: number | null;
  stillOpen: number;
  healthzIdleP50: number;
  healthzHeldP50: number;
  healthzHeldP95: number;
  rssBefore: number;
  rssHeld: number;
}

/** `GET /healthz` `PROBES` times, one after another; the times in ms. */
async function probe(url: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const t0 = now();
    const res = await fetch(`${url}/api/v1/healthz`);
    await res.body?.cancel();
    if (!res.ok) throw new Error(`healthz answered ${res.status}`);
    times.push(now() - t0);
  }
  return times;
}

/** Resolves with the time the server closed `conn` (end of stream or reset). */
async function closedAt(conn: Deno.Conn): Promise<number> {
  const buffer = new Uint8Array(512);
  try {
    while (await conn.read(buffer) !== null) { /* nothing is expected */ }
  } catch {
    // Reset: closed too.
  }
  return now();
}

/** Runs the figure. */
export async function silentClients(
  cleanup: Cleanup,
  opts: { connections: number; log: (line: string) => void },
): Promise<SilentClientsResult> {
  const server = await startBenchServer(cleanup, "silent-clients", [
    "--idle-timeout",
    `${IDLE_TIMEOUT_MS}ms`,
  ]);
  const conns: Deno.Conn[] = [];
  try {
    const port = Number(new URL(server.url).port);
    const healthzIdle = await probe(server.url);
    const rssBefore = rssBytes(server.pid);
    const closes: Promise<number>[] = [];
    for (let i = 0; i < opts.connections; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      closes.push(closedAt(conn));
    }
    const opened = now();
    opts.log(`  silent-clients: ${opts.connections} connections open, sending nothing`);
    const healthzHeld = await probe(server.url);
    const rssHeld = rssBytes(server.pid);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const all = await Promise.race([
      Promise.all(closes),
      new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), WAIT_MS)),
    ]).finally(() => clearTimeout(timer));
    let stillOpen = 0;
    if (all === null) {
      const settled = await Promise.all(
        closes.map((c) => Promise.race([c, Promise.resolve(undefined)])),
      );
      stillOpen = settled.filter((t) => t === undefined).length;
    }
    return {
      connections: opts.connections,
      closedMs: all === null ? null : Math.max(...all) - opened,
      stillOpen,
      healthzIdleP50: percentile(healthzIdle, 50),
      healthzHeldP50: percentile(healthzHeld, 50),
      healthzHeldP95: percentile(healthzHeld, 95),
      rssBefore,
      rssHeld,
    };
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Closed by the server already.
      }
    }
    await server.stop();
  }
}

/** The figure's summary line. */
export function silentClientsLine(r: SilentClientsResult): string {
  const within = IDLE_TIMEOUT_MS + TARGET_SLACK_MS;
  const met = r.closedMs !== null && r.closedMs <= within &&
    r.healthzHeldP50 < TARGET_HEALTHZ_P50_MS;
  const closed = r.closedMs === null
    ? `${r.stillOpen} still open after ${secs(WAIT_MS)}`
    : `all closed by the server ${secs(r.closedMs)} after the last opened`;
  return `silent-clients connections=${r.connections}  ${closed} (idle timeout ${
    secs(IDLE_TIMEOUT_MS)
  })  healthz p50 ${ms(r.healthzIdleP50)} before, ${ms(r.healthzHeldP50)} (p95 ${
    ms(r.healthzHeldP95)
  }) while held  server rss ${mb(r.rssBefore)} before, ${mb(r.rssHeld)} held  (target <= ${
    secs(within)
  }, p50 < ${TARGET_HEALTHZ_P50_MS} ms)  ${verdict(met)}`;
}
