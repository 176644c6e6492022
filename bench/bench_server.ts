/**
 * One `launcher serve` of its own for a figure that needs no engine (fan-out, placement): the
 * real program as a subprocess on 127.0.0.1, a fresh store in a temporary folder, started under
 * a raised open-file limit (each held long-poll holds a socket), with an admin token. Stopping it
 * removes the folder; both are registered with the cleanup, so a failed run undoes them too.
 */
import { LauncherClient } from "../src/client/client.ts";
import { generateCa, signServer } from "../src/server/tls/generate.ts";
import { type Cleanup, killPid, removeDirSync } from "./cleanup.ts";
import { pollUntil } from "../tests/poll_until.ts";
import { freePort } from "../tests/processes.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const PASSWORD = "bench-password";
const FD_LIMIT = 65_536;

/** A running bench server. */
export interface BenchServer {
  url: string;
  pid: number;
  /** An admin token. */
  token: string;
  /** The temporary folder: the store is in `data`, the server's output in `server.log`. */
  dir: string;
  /** With `tls`: the CA (PEM) that signed the server's certificate, for clients to trust. */
  ca?: string;
  /** Stops the server (SIGTERM, SIGKILL after 10 s) and removes its folder. */
  stop(): Promise<void>;
}

/**
 * `sh` raises the open-file limit (to the hard limit when FD_LIMIT is above it and cannot be
 * raised), sends output to a log file, and execs, so the child's pid is the program's own.
 */
export function spawnWithFdLimit(
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

/**
 * Writes a fresh CA and a certificate for 127.0.0.1 into `dir` (as `tls init` does); answers the
 * `serve` flags that use them and the CA's PEM.
 */
async function tlsFiles(dir: string): Promise<{ args: string[]; ca: string }> {
  const ca = await generateCa();
  const server = await signServer(ca, { names: ["localhost"], ips: ["127.0.0.1"] });
  await Deno.writeTextFile(`${dir}/ca.pem`, ca.pem.cert);
  await Deno.writeTextFile(`${dir}/server.pem`, server.cert);
  await Deno.writeTextFile(`${dir}/server-key.pem`, server.key, { mode: 0o600 });
  return {
    args: ["--tls-cert", `${dir}/server.pem`, "--tls-key", `${dir}/server-key.pem`],
    ca: ca.pem.cert,
  };
}

/**
 * Starts `launcher serve` with `args` added (such as `--reschedule-after 2s`) and waits until it
 * answers; `name` names it in the cleanup's messages. With `store` (a `postgres://` URL) the store
 * is that database instead of a fresh SQLite one in the folder. With `tls` it serves HTTPS with a
 * CA of its own (`BenchServer.ca`).
 */
export async function startBenchServer(
  cleanup: Cleanup,
  name: string,
  args: string[] = [],
  store?: string,
  tls = false,
): Promise<BenchServer> {
  const dir = await Deno.makeTempDir({ prefix: `launcher-bench-${name}-` });
  const removeDir = cleanup.add({
    name: `${name} work dir`,
    run: () => Deno.remove(dir, { recursive: true }),
    emergency: () => removeDirSync(dir),
  });
  const port = freePort();
  const url = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  const secure = tls ? await tlsFiles(dir) : undefined;
  const server = spawnWithFdLimit(`${dir}/server.log`, Deno.execPath(), [
    "run",
    "-A",
    MAIN,
    "serve",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    ...(store === undefined ? ["--data-dir", `${dir}/data`] : ["--store", store]),
    "--token-pass",
    PASSWORD,
    ...(secure?.args ?? []),
    ...args,
  ], "null");
  const stopServer = cleanup.add({
    name: `${name} server`,
    run: async () => {
      killPid(server.pid, "SIGTERM");
      const timer = setTimeout(() => killPid(server.pid), 10_000);
      await server.status;
      clearTimeout(timer);
    },
    emergency: () => killPid(server.pid),
  });
  const stop = async () => {
    await stopServer();
    await removeDir();
  };
  const httpClient = secure ? Deno.createHttpClient({ caCerts: [secure.ca] }) : undefined;
  try {
    const client = new LauncherClient(url, undefined, httpClient ? { httpClient } : {});
    await pollUntil(`the ${name} server to answer`, async () => {
      await client.healthz();
      return true;
    }, { timeoutMs: 20_000, everyMs: 20 });
    const token = await client.createToken(PASSWORD);
    return { url, pid: server.pid, token, dir, stop, ...(secure ? { ca: secure.ca } : {}) };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    httpClient?.close();
  }
}

/** The last lines of a bench server's output, but its `listening on` line. */
export async function serverLogTail(server: BenchServer, lines: number): Promise<string[]> {
  const text = (await Deno.readTextFile(`${server.dir}/server.log`).catch(() => "")).trim();
  return text.split("\n").filter((l) => l !== "" && !l.includes("listening on")).slice(-lines);
}
