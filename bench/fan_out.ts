/**
 * Figure 5, fan-out: one `launcher serve` process, no engine, N simulated agents long-polling it
 * (fan_out_client.ts, a process of its own); one manifest with one container per simulated host;
 * the time until every simulated agent has its new list, and the server's memory. Both processes
 * start under a raised open-file limit, as each held long-poll holds a socket.
 */
import { LauncherClient } from "../src/client/client.ts";
import { type Cleanup, killPid, removeDirSync } from "./cleanup.ts";
import {
  FAN_OUT_ARGS_ENV,
  type FanOutClientArgs,
  type FanOutClientResult,
} from "./fan_out_client.ts";
import { pollUntil } from "../tests/poll_until.ts";
import { freePort } from "../tests/processes.ts";
import { mb, ms, verdict } from "./stats.ts";

/** How the figure runs. */
export interface FanOutOptions {
  agents: number;
  log: (line: string) => void;
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const CLIENT = new URL("./fan_out_client.ts", import.meta.url).pathname;
const PASSWORD = "bench-password";
const FD_LIMIT = 65_536;
const CLIENT_TIMEOUT_MS = 120_000;
const TARGET_MS = 1_000;
const TARGET_RSS = 300 * 1024 * 1024;

/**
 * `sh` raises the open-file limit (to the hard limit when FD_LIMIT is above it and cannot be
 * raised), sends output to a log file, and execs, so the child's pid is the program's own.
 */
function spawnWithFdLimit(
  log: string,
  command: string,
  args: string[],
  stdout: "piped" | "null",
  env: Record<string, string> = {},
) {
  const script = `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ` +
    (stdout === "piped" ? `exec "$@" 2>>"$0"` : `exec "$@" >>"$0" 2>&1`);
  return new Deno.Command("sh", {
    args: ["-c", script, log, command, ...args],
    stdin: "null",
    stdout,
    stderr: "null",
    env,
  }).spawn();
}

/** Runs the figure: starts the server and the client, and stops both again. */
export async function fanOut(cleanup: Cleanup, opts: FanOutOptions): Promise<FanOutClientResult> {
  const dir = await Deno.makeTempDir({ prefix: "launcher-bench-fanout-" });
  const removeDir = cleanup.add({
    name: "fan-out work dir",
    run: () => Deno.remove(dir, { recursive: true }),
    emergency: () => removeDirSync(dir),
  });
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawnWithFdLimit(`${dir}/server.log`, Deno.execPath(), [
    "run",
    "-A",
    MAIN,
    "serve",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--data-dir",
    `${dir}/data`,
    "--token-pass",
    PASSWORD,
  ], "null");
  const stopServer = cleanup.add({
    name: "fan-out server",
    run: async () => {
      killPid(server.pid, "SIGTERM");
      const timer = setTimeout(() => killPid(server.pid), 10_000);
      await server.status;
      clearTimeout(timer);
    },
    emergency: () => killPid(server.pid),
  });
  try {
    await pollUntil("the fan-out server to answer", async () => {
      await new LauncherClient(url).healthz();
      return true;
    }, { timeoutMs: 20_000, everyMs: 20 });
    const token = await new LauncherClient(url).createToken(PASSWORD);
    const args: FanOutClientArgs = {
      url,
      token,
      agents: opts.agents,
      serverPid: server.pid,
      waitSeconds: 60,
    };
    opts.log(`  fan-out: ${opts.agents} simulated agents against one server (pid ${server.pid})`);
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
    for (const line of clientLog.split("\n").filter(Boolean)) opts.log(line);
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
      opts.log(`  fan-out: ${count} simulated agents failed: ${failure}`);
    }
    const serverLog = (await Deno.readTextFile(`${dir}/server.log`).catch(() => "")).trim();
    const serverLines = serverLog.split("\n").filter((l) => !l.includes("listening on"));
    for (const line of serverLines.filter(Boolean).slice(-5)) opts.log(`  fan-out server: ${line}`);
    return result;
  } finally {
    await stopServer();
    await removeDir();
  }
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
