/** `launcher serve`: the control plane. */
import { Command, Option } from "@commander-js/extra-typings";
import { parseDuration } from "../duration.ts";
import type { RunningServer, ServeOptions } from "../server/http/serve.ts";
import { UsageError } from "./errors.ts";
import { aborted, shutdownSignal } from "./signals.ts";
import { errorMessage } from "../errors.ts";
import { serverTls } from "./tls.ts";

/** Starts the server; it (store, router, YAML parser) loads only for the roles that run it. */
export async function launchServer(options: ServeOptions): Promise<RunningServer> {
  const { startServer } = await import("../server/http/serve.ts");
  return await startServer(options);
}

/** The token password from exactly one of flag, environment or file. */
export async function tokenPassword(
  opts: { tokenPass?: string; tokenPassFile?: string },
): Promise<string> {
  if (opts.tokenPassFile) {
    let text: string;
    try {
      text = await Deno.readTextFile(opts.tokenPassFile);
    } catch (error) {
      const reason = errorMessage(error);
      throw new UsageError(`cannot read the token password file: ${reason}`);
    }
    const password = text.split(/\r?\n/)[0];
    if (!password) throw new UsageError(`token password file ${opts.tokenPassFile} is empty`);
    return password;
  }
  if (opts.tokenPass) return opts.tokenPass;
  throw new UsageError(
    "a token password is required: pass --token-pass, --token-pass-file or set LAUNCHER_TOKEN_PASS",
  );
}

/** Parses a TCP port flag. */
export function portNumber(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535, not "${text}"`);
  }
  return port;
}

/** Parses `--advertise-url`: an http(s) URL, without a trailing slash. */
export function advertiseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--advertise-url must be an http(s) URL, not "${text}"`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash) {
    throw new UsageError(`--advertise-url must be an http(s) URL, not "${text}"`);
  }
  return text.replace(/\/+$/, "");
}

/** Parses a duration flag that must be above zero. */
function positiveDuration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0) throw new UsageError(`${flag} must be above zero, not "${text}"`);
  return ms;
}

/** Parses `--events-max-rows`: a whole number above zero. */
function eventsMaxRows(text: string): number {
  const rows = Number(text);
  if (!Number.isSafeInteger(rows) || rows < 1) {
    throw new UsageError(`--events-max-rows must be a whole number above zero, not "${text}"`);
  }
  return rows;
}

/** Where an option's value came from (commander's names): the command line, the environment. */
type ValueSource = "cli" | "env" | "default" | string | undefined;

/**
 * Where the store is: `--store` (or `LAUNCHER_STORE`), else `--data-dir`. A flag wins over the
 * environment, so `--data-dir` beside `LAUNCHER_STORE` keeps the store in the data dir; the two
 * flags together are refused.
 */
export function storeLocation(
  opts: { store?: string; dataDir: string },
  sourceOf: (option: "store" | "dataDir") => ValueSource,
): string {
  if (!opts.store) return opts.dataDir;
  if (sourceOf("dataDir") !== "cli") return opts.store;
  if (sourceOf("store") === "cli") {
    throw new UsageError("give --store or --data-dir, not both");
  }
  return opts.dataDir;
}

/** The `serve` command. */
export function serveCommand(log: (line: string) => void): Command {
  return new Command("serve")
    .description("run the server: the API and the store")
    .option("--ip <ip>", "address to listen on", "0.0.0.0")
    .option("--port <port>", "port to listen on", "8080")
    .option("--data-dir <dir>", "where the SQLite store lives", "./launcher-data")
    .addOption(
      new Option(
        "--store <url>",
        "keep the store in PostgreSQL (postgres://user:password@host/db), shared by servers",
      ).env("LAUNCHER_STORE"),
    )
    .addOption(
      new Option("--token-pass <password>", "password that trades for tokens").env(
        "LAUNCHER_TOKEN_PASS",
      ),
    )
    .option("--token-pass-file <file>", "read the token password from a file")
    .option("--events-retention <duration>", "how long the event history is kept", "7d")
    .option("--events-max-rows <count>", "how many events are kept at most", "100000")
    .option(
      "--reschedule-after <duration>",
      "how long a host may be offline before its placed containers move",
      "5m",
    )
    .option(
      "--advertise-url <url>",
      "where agents reach this server, for log uploads when several servers share a store " +
        "(default http://<ip or hostname>:<port>)",
    )
    .option("--metrics-public", "serve GET /metrics without a token (for a Prometheus without one)")
    .option(
      "--secret-key-file <file>",
      "the key secrets are encrypted with: 32 random bytes, base64 (default <data-dir>/secret.key, " +
        "made on first start; needed on PostgreSQL to keep secrets)",
    )
    .option("--body-timeout <duration>", "how long a request body may take to arrive", "30s")
    .option("--idle-timeout <duration>", "how long a connection may stay open unused", "60s")
    .option("--tls-cert <file>", "serve HTTPS with this certificate (PEM, leaf first)")
    .option("--tls-key <file>", "the private key of --tls-cert (PEM)")
    .option("--tls-ca <file>", "the CA that signed --tls-cert, handed out to joining agents")
    .action(async (opts, command) => {
      const store = storeLocation(opts, (option) => command.getOptionValueSource(option));
      const password = await tokenPassword(opts);
      const tls = await serverTls(opts);
      const retentionMs = positiveDuration("--events-retention", opts.eventsRetention);
      const rescheduleAfterMs = positiveDuration("--reschedule-after", opts.rescheduleAfter);
      const maxRows = eventsMaxRows(opts.eventsMaxRows);
      const bodyTimeoutMs = positiveDuration("--body-timeout", opts.bodyTimeout);
      const idleTimeoutMs = positiveDuration("--idle-timeout", opts.idleTimeout);
      const { signal, dispose } = shutdownSignal();
      let server: RunningServer;
      try {
        server = await launchServer({
          hostname: opts.ip,
          port: portNumber(opts.port),
          store,
          password,
          log,
          eventsRetentionMs: retentionMs,
          eventsMaxRows: maxRows,
          rescheduleAfterMs,
          metricsPublic: opts.metricsPublic ?? false,
          ...(opts.secretKeyFile === undefined ? {} : { secretKeyFile: opts.secretKeyFile }),
          bodyTimeoutMs,
          idleTimeoutMs,
          ...(tls === undefined ? {} : { tls }),
          ...(opts.advertiseUrl === undefined
            ? {}
            : { advertiseUrl: advertiseUrl(opts.advertiseUrl) }),
        });
      } catch (error) {
        // A server that did not start (a store too new) leaves no signal listener behind.
        dispose();
        throw error;
      }
      log(`launcher server listening on ${server.url} (store in ${server.store})`);
      await aborted(signal);
      dispose();
      await server.close();
    });
}
