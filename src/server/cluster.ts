/**
 * What a server shares with the other servers of its store: how commits wake held requests
 * everywhere (`Wakeups`) and who runs the cluster duties (`DutyLease`). A store in a data dir
 * (SQLite) has one server, and both stay in the process; a PostgreSQL store may have several, and
 * both go through the database. The PostgreSQL parts (and the `pg` driver, about 130 ms to load)
 * are imported only for a PostgreSQL store.
 */
import { type DutyLease, LocalLease } from "./duty_lease.ts";
import { isPostgresUrl, redactUrl } from "./store/postgres_url.ts";
import { LocalWakeups, type Wakeups } from "./wakeups.ts";

/** The wake-ups and the lease of one server. */
export interface ClusterParts {
  wakeups: Wakeups;
  lease: DutyLease;
  /** Gives the lease up and stops the wake-ups; after the planner closed. */
  close(): Promise<void>;
}

/** What the server is and how it reports. */
export interface ClusterOptions {
  /** This server's id (`serverId`). */
  server: string;
  log?: (line: string) => void;
}

/** Which kind of store a location opens: `postgres://` or `postgresql://` URLs, else a data dir. */
export function storeKind(location: string): "sqlite" | "postgres" {
  return isPostgresUrl(location) ? "postgres" : "sqlite";
}

/** A location as it may be shown: a URL with `***` for its password (as the store names itself). */
export function shownLocation(location: string): string {
  return isPostgresUrl(location) ? redactUrl(location) : location;
}

/**
 * A server's id, as `launcher status` and the PostgreSQL sessions name it: `host:port`, or, on a
 * port picked by the system (0, tests), the host and a random suffix.
 */
export function serverId(port: number): string {
  let host = "server";
  try {
    host = Deno.hostname();
  } catch {
    // No permission to read the host name: the random suffix tells servers apart.
  }
  if (port !== 0) return `${host}:${port}`;
  const suffix = [...crypto.getRandomValues(new Uint8Array(3))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${host}:${suffix}`;
}

/** The wake-ups and lease for a store at `location` (see `storeKind`). */
export async function openCluster(
  location: string,
  options: ClusterOptions,
): Promise<ClusterParts> {
  if (storeKind(location) === "sqlite") {
    const wakeups = new LocalWakeups();
    const lease = new LocalLease(options.server);
    return {
      wakeups,
      lease,
      close: async () => {
        await Promise.all([wakeups.close(), lease.close()]);
      },
    };
  }
  const [{ PgWakeups }, { PgDutyLease }] = await Promise.all([
    import("./pg_wakeups.ts"),
    import("./pg_duty_lease.ts"),
  ]);
  const wakeups = new PgWakeups({ url: location, server: options.server, log: options.log });
  const lease = new PgDutyLease({ url: location, server: options.server, log: options.log });
  return {
    wakeups,
    lease,
    // The lease first: another server may take the duties on while the wake-ups close.
    close: async () => {
      await lease.close();
      await wakeups.close();
    },
  };
}
