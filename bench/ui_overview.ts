/**
 * The web UI figure (issue 11): the overview page's server time with 1,000 containers on 100
 * hosts, in-process (`app.request` of `/` with a signed-in session's cookie). The store (SQLite in
 * a temp dir) is filled through the API as agents and users fill it: 100 hosts register and poll
 * once (so they are online), one manifest pins 10 containers to each, and their agents report 970
 * running and 30 failed. Each request renders the whole page: the reads, the counts and the HTML.
 */
import { createApp } from "../src/server/http/app.ts";
import { Planner } from "../src/server/planner.ts";
import { openStore } from "../src/server/store/store.ts";
import { TEST_IMAGE } from "../tests/e2e/engines.ts";
import { type Cleanup, removeDirSync } from "./cleanup.ts";
import { median, ms, now, percentile, verdict } from "./stats.ts";

/** How the figure runs. */
export interface UiOverviewOptions {
  hosts: number;
  containers: number;
  /** Timed requests, after `WARMUP` untimed ones. */
  requests: number;
  log: (line: string) => void;
}

/** The size and target. */
export const UI_HOSTS = 100;
export const UI_CONTAINERS = 1_000;
const TARGET_MS = 50;
const WARMUP = 5;
const FAILED_EVERY = 33;
const PASSWORD = "bench-ui";

/** What the figure measured. */
export interface UiOverviewResult {
  hosts: number;
  containers: number;
  /** Server time of each timed request, from sending to the whole body read. */
  timesMs: number[];
  /** The size of the page. */
  bytes: number;
}

/** One manifest pinning `perHost` sleepers to each host. */
function manifest(hosts: string[], perHost: number): string {
  const lines = ["name: fleet", "containers:"];
  for (const host of hosts) {
    for (let i = 0; i < perHost; i++) {
      lines.push(`  - name: c-${host}-${i}`, `    host: ${host}`, `    image: ${TEST_IMAGE}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Fills a fresh store through the API and times the overview page. */
export async function uiOverview(
  cleanup: Cleanup,
  opts: UiOverviewOptions,
): Promise<UiOverviewResult> {
  const dir = await Deno.makeTempDir({ prefix: "launcher-bench-ui-" });
  const removeDir = cleanup.add({
    name: "the UI bench's data dir",
    run: () => Deno.remove(dir, { recursive: true }),
    emergency: () => removeDirSync(dir),
  });
  const planner = await Planner.open(await openStore(dir));
  const closePlanner = cleanup.add({ name: "the UI bench's store", run: () => planner.close() });
  try {
    return await measure(planner, opts);
  } finally {
    await closePlanner();
    await removeDir();
  }
}

/** Fills the store through the API, signs in and times the overview. */
async function measure(planner: Planner, opts: UiOverviewOptions): Promise<UiOverviewResult> {
  const app = createApp({ planner, password: PASSWORD });
  const api = async (method: string, path: string, body: unknown, token?: string) => {
    const res = await app.request(`/api/v1${path}`, {
      method,
      headers: {
        "content-type": typeof body === "string" ? "application/x-yaml" : "application/json",
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : await res.json();
  };
  const { token } = await api("POST", "/token", { password: PASSWORD }) as { token: string };

  const hosts = Array.from({ length: opts.hosts }, (_, i) => `host-${String(i).padStart(3, "0")}`);
  for (const host of hosts) {
    await api("POST", "/hosts/register", {
      host,
      engineVersion: "27.5.1",
      os: "linux",
      arch: "x86_64",
      cpus: 8,
      memory: 32 * 1024 ** 3,
      agentVersion: "bench",
      labels: { zone: `z${host.slice(-1)}` },
      intervalMs: 600_000,
    }, token);
    // A poll marks the host seen: online for three of its intervals.
    const res = await app.request(`/api/v1/container?host=${host}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await res.body?.cancel();
  }
  const perHost = Math.ceil(opts.containers / opts.hosts);
  await api("POST", "/manifest/up", manifest(hosts, perHost), token);
  let n = 0;
  const reports = hosts.flatMap((host) =>
    Array.from({ length: perHost }, (_, i) => {
      const failed = n++ % FAILED_EVERY === 0;
      return {
        host,
        name: `c-${host}-${i}`,
        manifest: "fleet",
        state: failed ? "failed" : "running",
        containerId: crypto.randomUUID().replaceAll("-", ""),
        ...(failed ? { exitCode: 1, error: "exited with code 1" } : {}),
      };
    })
  );
  await api("POST", "/state", reports, token);

  const login = await app.request("/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, next: "/" }).toString(),
  });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
  if (login.status !== 303 || cookie === "") throw new Error(`sign-in failed: ${login.status}`);

  const timesMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < WARMUP + opts.requests; i++) {
    const started = now();
    const res = await app.request("/", { headers: { cookie } });
    const page = await res.text();
    const took = now() - started;
    if (res.status !== 200 || !page.includes('data-manifest="fleet"')) {
      throw new Error(`the overview answered ${res.status} without the manifest`);
    }
    bytes = page.length;
    if (i >= WARMUP) timesMs.push(took);
  }
  opts.log(`ui-overview: ${timesMs.length} requests, page ${bytes} bytes`);
  return { hosts: opts.hosts, containers: perHost * opts.hosts, timesMs, bytes };
}

/** The figure's summary line. */
export function uiOverviewLine(r: UiOverviewResult): string {
  const p50 = median(r.timesMs);
  const p95 = percentile(r.timesMs, 95);
  return `${
    "ui-overview".padEnd(12)
  } overview page with ${r.containers} containers on ${r.hosts} ` +
    `hosts: p50 ${ms(p50)}, p95 ${ms(p95)} server time (target p95 under ${TARGET_MS} ms) ` +
    verdict(p95 < TARGET_MS);
}
