/**
 * Figure 5, fan-out: one `launcher serve` process, no engine, N simulated agents long-polling it
 * (fan_out_client.ts, a process of its own); one manifest with one container per simulated host;
 * the time until every simulated agent has its new list, and the server's memory. Both processes
 * start under a raised open-file limit, as each held long-poll holds a socket.
 */
import { type Cleanup, killPid } from "./cleanup.ts";
import { serverLogTail, spawnWithFdLimit, startBenchServer } from "./bench_server.ts";
import {
  FAN_OUT_ARGS_ENV,
  type FanOutClientArgs,
  type FanOutClientResult,
} from "./fan_out_client.ts";
import { mb, ms, verdict } from "./stats.ts";

/** How the figure runs. */
export interface FanOutOptions {
  agents: number;
  log: (line: string) => void;
  /** Serve HTTPS, and poll over TLS (the tls figure). */
  tls?: boolean;
}

const CLIENT = new URL("./fan_out_client.ts", import.meta.url).pathname;
const CLIENT_TIMEOUT_MS = 120_000;
const TARGET_MS = 1_000;
const TARGET_RSS = 300 * 1024 * 1024;

/** Runs the figure: starts the server and the client, and stops both again. */
export async function fanOut(cleanup: Cleanup, opts: FanOutOptions): Promise<FanOutClientResult> {
  const server = await startBenchServer(cleanup, "fan-out", [], undefined, opts.tls);
  const { dir } = server;
  try {
    const args: FanOutClientArgs = {
      url: server.url,
      token: server.token,
      agents: opts.agents,
      serverPid: server.pid,
      waitSeconds: 60,
      ...(server.ca === undefined ? {} : { ca: server.ca }),
    };
    opts.log(
      `  fan-out: ${opts.agents} simulated agents against one server (pid ${server.pid}, ${
        server.ca === undefined ? "HTTP" : "HTTPS"
      })`,
    );
    const result = await runFanOutClient(cleanup, dir, args, opts.log);
    for (const line of await serverLogTail(server, 5)) opts.log(`  fan-out server: ${line}`);
    return result;
  } finally {
    await server.stop();
  }
}

/**
 * Runs the simulated agents (fan_out_client.ts) as a process of their own under the raised
 * open-file limit, its progress in `dir`/client.log, and returns what it measured; `log` gets its
 * progress and its failures by kind.
 */
export async function runFanOutClient(
  cleanup: Cleanup,
  dir: string,
  args: FanOutClientArgs,
  log: (line: string) => void,
): Promise<FanOutClientResult> {
  const client = spawnWithFdLimit(
    `${dir}/client.log`,
    Deno.execPath(),
    [
      "run",
      "-A",
      CLIENT,
    ],
    "piped",
    { [FAN_OUT_ARGS_ENV]: JSON.stringify(args) },
  );
  const stopClient = cleanup.add({
    name: "fan-out client",
    run: async () => {
      killPid(client.pid);
      await client.status;
    },
    emergency: () => killPid(client.pid),
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const output = await Promise.race([
    Promise.all([new Response(client.stdout).text(), client.status]),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the fan-out client did not finish in ${CLIENT_TIMEOUT_MS} ms`)),
        CLIENT_TIMEOUT_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  await stopClient();
  const clientLog = await Deno.readTextFile(`${dir}/client.log`).catch(() => "");
  for (const line of clientLog.split("\n").filter(Boolean)) log(line);
  const [stdout, status] = output;
  if (!status.success) {
    let reason = `exit code ${status.code}`;
    try {
      reason = (JSON.parse(stdout) as { error: string }).error;
    } catch {
      // No answer on stdout: the exit code says all there is.
    }
    throw new Error(`the fan-out client failed: ${reason}`);
  }
  const result = JSON.parse(stdout) as FanOutClientResult;
  for (const [failure, count] of Object.entries(result.failures)) {
    log(`  fan-out: ${count} simulated agents failed: ${failure}`);
  }
  return result;
}

/** The figure's summary line. */
export function fanOutLine(r: FanOutClientResult): string {
  const met = r.allMs !== null && r.allMs < TARGET_MS && r.serverRssPeak < TARGET_RSS;
  const all = r.allMs === null
    ? `only ${r.updated} of ${r.agents} got the new list`
    : `all had the new list after ${ms(r.allMs)}`;
  return `fan-out      agents=${r.agents}  ${all} (up answered ${ms(r.upMs)}, p50 ${
    ms(r.p50Ms ?? NaN)
  })  server rss idle ${mb(r.serverRssIdle)}, held ${mb(r.serverRssHeld)}, after ${
    mb(r.serverRssAfter)
  }, peak ${mb(r.serverRssPeak)}  (target < ${TARGET_MS / 1000} s, < ${
    TARGET_RSS / 1024 / 1024
  } MB)  ${verdict(met)}`;
}
