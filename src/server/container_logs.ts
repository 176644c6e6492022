/**
 * Opening a container's logs (`GET /logs`): the container and its host are looked up, a host
 * whose agent cannot answer is refused at once, and the request goes to the relay (which, with
 * several servers, asks the others when the agent polls none of this one's).
 */
import { HostOfflineError, NotFoundError, ShuttingDownError } from "../api/errors.ts";
import type { HostRegistry } from "./hosts.ts";
import type { LogRelay } from "./logs.ts";
import type { Store } from "./store/store.ts";

/** What `GET /logs` asks for. */
export interface LogQuery {
  manifest: string;
  container: string;
  follow: boolean;
  timestamps: boolean;
  tail?: number;
  /** Unix seconds. */
  since?: number;
}

/** What opening a container's logs needs from the server. */
export interface LogDeps {
  store: Store;
  hosts: HostRegistry;
  relay: LogRelay;
}

/**
 * Opens a container's logs through its host's agent. Throws `NotFoundError` for an unknown
 * manifest or container and `HostOfflineError` at once when the host's agent is not connected.
 */
export async function openContainerLogs(
  deps: LogDeps,
  query: LogQuery,
  signal: AbortSignal,
): Promise<ReadableStream<Uint8Array>> {
  const { store, hosts, relay } = deps;
  if (relay.closed) throw new ShuttingDownError();
  const { manifest, container } = query;
  const row = await store.container(manifest, container);
  if (row === undefined) {
    throw new NotFoundError(
      await store.hasManifest(manifest)
        ? `container ${container} not found in manifest ${manifest}`
        : `manifest ${manifest} not found`,
    );
  }
  const host = row.host;
  if (!await hosts.isOnline(store, host)) {
    const seen = await hosts.lastSeen(store, host);
    throw new HostOfflineError(
      seen === undefined
        ? `host ${host} is offline: no agent has connected for it`
        : `host ${host} is offline (last seen ${ago(hosts.now() - seen)} ago): its agent ` +
          "cannot send logs",
    );
  }
  // With several servers, the agent may poll another one: the relay asks them all.
  if (!relay.connected(host) && !relay.shared) {
    throw new HostOfflineError(
      `the agent of host ${host} is not taking log requests (not connected, or older than the ` +
        "server)",
    );
  }
  const { tail, since, follow, timestamps } = query;
  return await relay.open({
    host,
    request: {
      manifest,
      container,
      follow,
      timestamps,
      ...(tail === undefined ? {} : { tail }),
      ...(since === undefined ? {} : { since }),
    },
    exists: async () => await store.container(manifest, container) !== undefined,
    signal,
  });
}

/** A time span as `45s`, `3m`, `2h` or `5d`. */
function ago(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}
