/**
 * The simulated agents of figure 5, as a process of their own (so that their sockets and memory
 * are not the bench's): N plain long-polls `GET /api/v1/container?host=sim-I&index=0&wait=60s`,
 * one TCP connection each, written by hand so that nothing pools or limits them. Once they are
 * all held, one manifest with one container per simulated host is applied, and the time until
 * every simulated agent has received its new list is measured.
 *
 * Run by fan_out.ts with FanOutClientArgs as JSON in FAN_OUT_ARGS_ENV (the token stays off the
 * command line); prints one JSON line
 * (FanOutClientResult) on stdout and progress on stderr.
 */
import { TEST_IMAGE } from "../tests/e2e/engines.ts";
import { clockTicksPerSecond, cpuTicks, rssBytes, statusBytes } from "./proc_stats.ts";
import { delay, now, percentile } from "./stats.ts";

/** The environment variable that carries FanOutClientArgs. */
export const FAN_OUT_ARGS_ENV = "LAUNCHER_BENCH_FAN_OUT";

/** What the client is told. */
export interface FanOutClientArgs {
  url: string;
  token: string;
  agents: number;
  serverPid: number;
  /** The `wait` of each long-poll, seconds. */
  waitSeconds: number;
  /** The servers serve HTTPS with a certificate this CA (PEM) signed: every poll is over TLS. */
  ca?: string;
  /**
   * More servers on the same store: the simulated agents are spread over all of them in turn
   * (agent I on server I mod N, the first being `url`); the manifest still goes to `url`.
   */
  more?: FanOutTarget[];
}

/** One server the simulated agents poll. */
export interface FanOutTarget {
  url: string;
  token: string;
  pid: number;
}

/** One server's memory and CPU during the figure. */
export interface FanOutServerFigures {
  pid: number;
  /** Simulated agents that held their poll on this server. */
  agents: number;
  rssIdle: number;
  rssHeld: number;
  rssAfter: number;
  rssPeak: number;
  cpuSeconds: number;
  fdLimit: string;
}

/** What the client found; times in milliseconds from sending `manifest up`. */
export interface FanOutClientResult {
  agents: number;
  /** Connections opened and requests written. */
  connected: number;
  /** Long-polls that were answered before the manifest was applied (not held). */
  answeredEarly: number;
  /** Simulated agents that received a list holding their new container. */
  updated: number;
  /** Failures by message, with counts. */
  failures: Record<string, number>;
  upMs: number;
  /** Until the last simulated agent had its list; null when some never did. */
  allMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  serverRssIdle: number;
  serverRssHeld: number;
  serverRssAfter: number;
  serverRssPeak: number;
  /** Server CPU seconds from the manifest to the last answer. */
  serverCpuSeconds: number;
  /** The server's `Max open files` soft limit. */
  serverFdLimit: string;
  /** Every server, the first being the one above. */
  servers: FanOutServerFigures[];
}

const CONNECT_BATCH = 200;
const SETTLE_MS = 1_500;
const ANSWER_TIMEOUT_MS = 30_000;

interface Sim {
  /** The server it polls. */
  target: FanOutTarget;
  host: string;
  container: string;
  /** When the answer was complete. */
  done?: number;
  status?: number;
  body?: string;
  error?: string;
}

/** Opens one connection, writes the long-poll, and reads the answer to its end. */
async function longPoll(sim: Sim, args: FanOutClientArgs, opened: () => void): Promise<void> {
  const url = new URL(sim.target.url);
  let conn: Deno.Conn | undefined;
  try {
    const address = { hostname: url.hostname, port: Number(url.port) };
    conn = args.ca === undefined
      ? await Deno.connect(address)
      : await Deno.connectTls({ ...address, caCerts: [args.ca] });
    const query = new URLSearchParams({ host: sim.host, index: "0", wait: `${args.waitSeconds}s` });
    const request = `GET /api/v1/container?${query} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      `Authorization: Bearer ${sim.target.token}\r\nConnection: close\r\n\r\n`;
    await writeAll(conn, new TextEncoder().encode(request));
    opened();
    const answer = await readAnswer(conn);
    sim.done = now();
    sim.status = answer.status;
    sim.body = answer.body;
  } catch (error) {
    sim.error = error instanceof Error ? error.message : String(error);
  } finally {
    try {
      conn?.close();
    } catch {
      // Closed by the peer already.
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** Reads one HTTP/1.1 answer: until Content-Length is satisfied, or to the end of the stream. */
async function readAnswer(conn: Deno.Conn): Promise<{ status: number; body: string }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let headerEnd = -1;
  let length: number | undefined;
  let status = 0;
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
    size += n;
    if (headerEnd === -1) {
      const text = new TextDecoder().decode(concat(chunks, size));
      headerEnd = text.indexOf("\r\n\r\n");
      if (headerEnd !== -1) {
        const head = text.slice(0, headerEnd);
        status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
        const match = /^content-length:\s*(\d+)\s*$/im.exec(head);
        if (match) length = Number(match[1]);
        headerEnd += 4;
      }
    }
    if (headerEnd !== -1 && length !== undefined && size - headerEnd >= length) break;
  }
  if (headerEnd === -1) throw new Error("connection closed before an answer");
  const all = concat(chunks, size);
  return { status, body: new TextDecoder().decode(all.subarray(headerEnd)) };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/** Whether an answer holds the simulated host's new container. */
function hasNewList(sim: Sim): boolean {
  if (sim.status !== 200 || sim.body === undefined) return false;
  try {
    const parsed = JSON.parse(sim.body) as { containers?: { config?: { name?: string } }[] };
    return parsed.containers?.some((c) => c.config?.name === sim.container) ?? false;
  } catch {
    return false;
  }
}

/**
 * Applies a manifest with one container per simulated host, one flow mapping a line: no engine
 * runs them, and the short form keeps 10,000 hosts under the server's 1 MiB body limit.
 */
async function manifestUp(args: FanOutClientArgs, name: string, sims: Sim[]): Promise<void> {
  const lines = [`name: ${name}`, "containers:"];
  for (const sim of sims) {
    lines.push(`  - {name: ${sim.container}, host: ${sim.host}, image: ${TEST_IMAGE}}`);
  }
  const client = args.ca === undefined ? undefined : Deno.createHttpClient({ caCerts: [args.ca] });
  const up = await fetch(`${args.url}/api/v1/manifest/up`, {
    method: "POST",
    headers: { authorization: `Bearer ${args.token}`, "content-type": "application/x-yaml" },
    body: lines.join("\n") + "\n",
    ...(client ? { client } : {}),
  });
  const text = await up.text();
  client?.close();
  if (!up.ok) throw new Error(`manifest up failed with ${up.status}: ${text.slice(0, 300)}`);
}

function fdLimit(pid: number): string {
  try {
    const limits = Deno.readTextFileSync(`/proc/${pid}/limits`);
    return /^Max open files\s+(\S+)/m.exec(limits)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

async function main(args: FanOutClientArgs): Promise<FanOutClientResult> {
  const log = (line: string) => console.error(`  fan-out ${line}`);
  const targets: FanOutTarget[] = [
    { url: args.url, token: args.token, pid: args.serverPid },
    ...(args.more ?? []),
  ];
  const sims: Sim[] = Array.from({ length: args.agents }, (_, i) => ({
    target: targets[i % targets.length],
    host: `sim-${i}`,
    container: `s${i}`,
  }));
  // Warm servers, as in production: the paths of `manifest up` and of the long-poll have run.
  const warm = Array.from({ length: 20 * targets.length }, (_, i) => ({
    target: targets[i % targets.length],
    host: `warm-${i}`,
    container: `w${i}`,
  }));
  await manifestUp(args, "warm", warm);
  await Promise.all(warm.map((sim) => longPoll(sim, { ...args, waitSeconds: 0 }, () => {})));
  const rssIdle = targets.map((t) => rssBytes(t.pid));
  const serverRssIdle = rssIdle[0];

  // Connecting in batches keeps the listen backlog from overflowing (dropped SYNs wait 1 s).
  let connected = 0;
  const polls: Promise<void>[] = [];
  for (let at = 0; at < sims.length; at += CONNECT_BATCH) {
    const batch = sims.slice(at, at + CONNECT_BATCH);
    const opened = batch.map((sim) =>
      new Promise<void>((resolve) => {
        polls.push(
          longPoll(sim, args, () => {
            connected++;
            resolve();
          }).finally(resolve),
        );
      })
    );
    await Promise.all(opened);
  }
  log(`${connected} of ${sims.length} long-polls sent; letting the server settle`);
  await delay(SETTLE_MS);
  const answeredEarly = sims.filter((s) => s.done !== undefined || s.error !== undefined).length;
  const rssHeld = targets.map((t) => rssBytes(t.pid));
  const serverRssHeld = rssHeld[0];

  const ticksPerSecond = await clockTicksPerSecond();
  const ticks0 = targets.map((t) => cpuTicks(t.pid));
  const t0 = now();
  await manifestUp(args, "fanout", sims);
  const upMs = now() - t0;

  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(polls),
    new Promise<void>((resolve) => timer = setTimeout(resolve, ANSWER_TIMEOUT_MS)),
  ]);
  clearTimeout(timer);
  const cpuSeconds = targets.map((t, i) => (cpuTicks(t.pid) - ticks0[i]) / ticksPerSecond);
  const rssAfter = targets.map((t) => rssBytes(t.pid));
  const servers = targets.map((t, i): FanOutServerFigures => ({
    pid: t.pid,
    agents: sims.filter((sim) => sim.target === t).length,
    rssIdle: rssIdle[i],
    rssHeld: rssHeld[i],
    rssAfter: rssAfter[i],
    rssPeak: statusBytes(t.pid, "VmHWM"),
    cpuSeconds: cpuSeconds[i],
    fdLimit: fdLimit(t.pid),
  }));

  const failures: Record<string, number> = {};
  const times: number[] = [];
  for (const sim of sims) {
    let failure: string | undefined;
    if (sim.error !== undefined) failure = sim.error;
    else if (sim.done === undefined) failure = `no answer within ${ANSWER_TIMEOUT_MS} ms`;
    else if (sim.done < t0) failure = `answered before the manifest (status ${sim.status})`;
    else if (!hasNewList(sim)) {
      const code = sim.status === 200
        ? ""
        : ` ${/"code"\s*:\s*"([^"]+)"/.exec(sim.body ?? "")?.[1]}`;
      failure = `answer without the new container (status ${sim.status}${code})`;
    }
    if (failure === undefined) times.push(sim.done! - t0);
    else failures[failure] = (failures[failure] ?? 0) + 1;
  }
  return {
    agents: args.agents,
    connected,
    answeredEarly,
    updated: times.length,
    failures,
    upMs,
    allMs: times.length === sims.length ? Math.max(...times) : null,
    p50Ms: times.length > 0 ? percentile(times, 50) : null,
    p99Ms: times.length > 0 ? percentile(times, 99) : null,
    serverRssIdle,
    serverRssHeld,
    serverRssAfter: servers[0].rssAfter,
    serverRssPeak: servers[0].rssPeak,
    serverCpuSeconds: servers[0].cpuSeconds,
    serverFdLimit: servers[0].fdLimit,
    servers,
  };
}

if (import.meta.main) {
  const args = JSON.parse(Deno.env.get(FAN_OUT_ARGS_ENV) ?? "{}") as FanOutClientArgs;
  try {
    console.log(JSON.stringify(await main(args)));
  } catch (error) {
    console.log(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    Deno.exit(1);
  }
  // Connections of answers that never came would keep the process alive.
  Deno.exit(0);
}
