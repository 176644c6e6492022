/** Starts the control plane: the store, the planner and the API on Deno.serve. */
import { createApp } from "./app.ts";
import { EmptyPasswordError } from "../auth.ts";
import { type ClusterParts, openCluster, serverId } from "../cluster.ts";
import type { LogRelayOptions } from "../logs.ts";
import { Metrics } from "../metrics.ts";
import { Planner } from "../planner.ts";
import { openSecretBox } from "../secret_key.ts";
import { isPostgresUrl, openStore } from "../store/store.ts";
import {
  ConnectionActivity,
  DEFAULT_IDLE_TIMEOUT_MS,
  type IdleSweep,
  startIdleSweep,
} from "./idle_connections.ts";
import { keepServing, type KeptServer } from "./keep_serving.ts";
import { noDelayListener } from "./no_delay.ts";
import { describeOpenFileLimit, raiseOpenFileLimit } from "./open_files.ts";
import type { ServerTls } from "../tls/files.ts";

/** How to start a server. */
export interface ServeOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * Where the store is: a `postgres://` URL (PostgreSQL, several servers may share it), or a data
   * dir holding `launcher.db` (SQLite), created when missing.
   */
  store: string;
  /** The token password; must not be empty. */
  password: string;
  log?: (line: string) => void;
  /** Aborting it closes the server, as `close()` does. */
  signal?: AbortSignal;
  /** How long the event history is kept (default 7 days). */
  eventsRetentionMs?: number;
  /** How many events are kept at most (default 100,000). */
  eventsMaxRows?: number;
  /** How long a host may be offline before its placed containers move (default 5 minutes). */
  rescheduleAfterMs?: number;
  /** This server's id in `launcher status` (default `hostname:port`). */
  serverId?: string;
  /**
   * Where agents reach this server, for the log uploads of the requests asked here when the
   * agent polls another server of the store (default `http://<hostname>:<port>`, the machine's
   * name for a wildcard address). Used with a PostgreSQL store only.
   */
  advertiseUrl?: string;
  /** Limits and timings of the log relay (tests shorten the pickup). */
  logs?: LogRelayOptions;
  /** How long a request body may take to arrive (default 30 s); then 408 and the connection closes. */
  bodyTimeoutMs?: number;
  /** How long a connection may stay open with no request on it (default 60 s); then it is closed. */
  idleTimeoutMs?: number;
  /** Whether `GET /metrics` answers without a token. */
  metricsPublic?: boolean;
  /**
   * The secret key file (`--secret-key-file`). Without it, a SQLite store's key is
   * `<data-dir>/secret.key`, made on first start; a PostgreSQL store then keeps no secrets.
   */
  secretKeyFile?: string;
  /** Serve HTTPS with this certificate and key (checked: see tls/files.ts); with its CA, hand it out. */
  tls?: ServerTls;
}

/** A running server. */
export interface RunningServer {
  /** Where clients reach it, such as `http://127.0.0.1:8080`. */
  url: string;
  port: number;
  /** Where the store is, for messages: the SQLite file, or the database's URL without password. */
  store: string;
  planner: Planner;
  /** Releases held long-polls, stops listening, waits for open requests and closes the store. */
  close(): Promise<void>;
}

/** The address clients use for a listening address (a wildcard becomes loopback). */
function clientUrl(hostname: string, port: number, scheme = "http"): string {
  const host = hostname === "0.0.0.0" || hostname === ""
    ? "127.0.0.1"
    : hostname === "::"
    ? "::1"
    : hostname;
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Where agents reach a server listening on `hostname:port` by default (a wildcard: the machine's name). */
export function defaultAdvertiseUrl(hostname: string, port: number, scheme = "http"): string {
  let host = hostname;
  if (host === "0.0.0.0" || host === "::" || host === "") {
    try {
      host = Deno.hostname();
    } catch {
      return clientUrl(hostname, port, scheme);
    }
  }
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Opens the store and serves the API until `close()` or `signal`. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  if (opts.password === "") throw new EmptyPasswordError();
  if (!isPostgresUrl(opts.store)) await Deno.mkdir(opts.store, { recursive: true });
  const metrics = new Metrics();
  const store = await openStore(opts.store, {
    onTransaction: (seconds, outcome) => metrics.transaction(seconds, outcome),
  });
  const { from, to, created } = store.migrated;
  // Said once, so that an upgrade's log shows when the data dir changed shape.
  if (!created && from < to) {
    opts.log?.(`upgraded the store ${store.location} from schema version ${from} to ${to}`);
  }
  let cluster: ClusterParts | undefined;
  let planner: Planner;
  try {
    const secretBox = await openSecretBox(store, {
      keyFile: opts.secretKeyFile,
      dataDir: isPostgresUrl(opts.store) ? undefined : opts.store,
      warn: opts.log,
    });
    // Wake-ups and the duty lease: in process for SQLite, through the database for PostgreSQL.
    cluster = await openCluster(opts.store, {
      server: opts.serverId ?? serverId(opts.port),
      log: opts.log,
    });
    planner = await Planner.open(store, {
      events: { retentionMs: opts.eventsRetentionMs, maxRows: opts.eventsMaxRows },
      rescheduleAfterMs: opts.rescheduleAfterMs,
      logs: opts.logs,
      wakeups: cluster.wakeups,
      lease: cluster.lease,
      log: opts.log,
      secretBox,
    });
  } catch (error) {
    await store.close();
    await cluster?.close();
    throw error;
  }
  const parts = cluster;
  planner.startDuties(undefined, opts.log);
  // Each connection holds a descriptor: said once, so that the log shows how many fit.
  opts.log?.(describeOpenFileLimit(raiseOpenFileLimit()));
  const app = createApp({
    planner,
    password: opts.password,
    log: opts.log,
    metrics,
    metricsPublic: opts.metricsPublic,
    bodyTimeoutMs: opts.bodyTimeoutMs,
    tlsCa: opts.tls?.ca,
  });
  const scheme = opts.tls ? "https" : "http";
  const activity = new ConnectionActivity();
  let idle: IdleSweep | undefined;
  const handle = async (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
    activity.track(info.remoteAddr.port, info.completed);
    const response = await app.fetch(request, info); // info.remoteAddr: the rate limit's key
    // Deno keeps a connection whose request body was left unread: close it once answered.
    if (response.headers.get("connection") === "close") {
      idle?.closeWhenSent(info.remoteAddr, info.completed);
    }
    return response;
  };
  let server: KeptServer;
  try {
    let said = false;
    server = keepServing(
      (port) => {
        const listening = Deno.serve({
          hostname: opts.hostname,
          port,
          onListen: () => {},
          ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
        }, handle);
        const why = noDelayListener(listening.addr.port);
        if (why !== undefined && !said) {
          opts.log?.(`answers may wait for Nagle's algorithm: ${why}`);
        }
        said ||= why !== undefined;
        return listening;
      },
      opts.port,
      opts.log,
    );
  } catch (error) {
    await planner.close();
    await parts.close();
    throw error;
  }

  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const sweep = startIdleSweep({ port: server.port, idleMs, activity, log: opts.log });
  if ("reason" in sweep) opts.log?.(`idle connections are not closed: ${sweep.reason}`);
  else idle = sweep;

  if (isPostgresUrl(opts.store)) {
    const advertise = opts.advertiseUrl ??
      defaultAdvertiseUrl(opts.hostname, server.port, scheme);
    planner.shareLogs(advertise.replace(/\/+$/, ""));
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      opts.signal?.removeEventListener("abort", onAbort);
      idle?.stop();
      const stopped = server.shutdown();
      // Held long-polls would keep shutdown waiting for their whole wait: answer them now.
      planner.releaseWaiters();
      await stopped;
      await planner.close();
      await parts.close();
    })();
    return closing;
  };
  const onAbort = () => void close();
  if (opts.signal?.aborted) await close();
  else opts.signal?.addEventListener("abort", onAbort, { once: true });

  return {
    url: clientUrl(opts.hostname, server.port, scheme),
    port: server.port,
    store: store.location,
    planner,
    close,
  };
}
