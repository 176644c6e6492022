/** Starts the control plane: the store, the planner and the API on Deno.serve. */
import { createApp } from "./app.ts";
import { EmptyPasswordError } from "../auth.ts";
import { type ClusterParts, openCluster, serverId } from "../cluster.ts";
import type { LogRelayOptions } from "../logs.ts";
import { Planner } from "../planner.ts";
import { isPostgresUrl, openStore } from "../store/store.ts";
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
  const store = await openStore(opts.store);
  const { from, to, created } = store.migrated;
  // Said once, so that an upgrade's log shows when the data dir changed shape.
  if (!created && from < to) {
    opts.log?.(`upgraded the store ${store.location} from schema version ${from} to ${to}`);
  }
  let cluster: ClusterParts | undefined;
  let planner: Planner;
  try {
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
    });
  } catch (error) {
    await store.close();
    await cluster?.close();
    throw error;
  }
  const parts = cluster;
  planner.startDuties(undefined, opts.log);
  const app = createApp({ planner, password: opts.password, log: opts.log, tlsCa: opts.tls?.ca });
  const scheme = opts.tls ? "https" : "http";
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: opts.hostname,
      port: opts.port,
      onListen: () => {},
      ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
    }, (request, info) => app.fetch(request, info)); // info.remoteAddr: the rate limit's key
  } catch (error) {
    await planner.close();
    await parts.close();
    throw error;
  }

  if (isPostgresUrl(opts.store)) {
    const advertise = opts.advertiseUrl ??
      defaultAdvertiseUrl(opts.hostname, server.addr.port, scheme);
    planner.shareLogs(advertise.replace(/\/+$/, ""));
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      opts.signal?.removeEventListener("abort", onAbort);
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
    url: clientUrl(opts.hostname, server.addr.port, scheme),
    port: server.addr.port,
    store: store.location,
    planner,
    close,
  };
}
