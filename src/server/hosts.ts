/**
 * The host registry: what each agent registered about its host (engine, OS, labels, interval),
 * when it was last seen, and whether the host is draining. A host is online while its agent holds
 * a long-poll, and for 3 of its intervals after the last one ended; liveness is computed when it
 * is read, so nothing has to run in the background to turn a host offline.
 */
import type { ContainerStatus, HostRegistration, HostStatus } from "../api/schemas.ts";
import { ConflictError, NotFoundError } from "../api/errors.ts";
import type { HostRow, Store } from "./store/store.ts";
import { Batcher } from "./batcher.ts";

/** How many intervals without a poll turn a host offline. */
export const MISSED_INTERVALS = 3;
/** The interval assumed for an agent that polls without registering (the agent's default). */
const DEFAULT_INTERVAL_MS = 5000;
/** A host's last-seen time is written to the store at most this often (it is kept in memory). */
const PERSIST_EVERY_MS = 1000;
/**
 * After the server starts, registered hosts count as online for at least this long: their agents
 * could not poll while it was down, and reconnect with a backoff of up to 5 s.
 */
const RESTART_GRACE_MS = 10_000;

/** What the registry needs besides the store. */
export interface HostRegistryOptions {
  /** Whether an agent of the host is holding a long-poll right now. */
  polling: (host: string) => boolean;
  /** The clock, in Unix milliseconds (tests pass their own). */
  now?: () => number;
}

/**
 * Hosts as their agents registered them, and as the server sees them now. Methods that read the
 * store take the handle to read with (`db`): the store, or the transaction they are part of.
 */
export class HostRegistry {
  readonly #store: Store;
  readonly #polling: (host: string) => boolean;
  readonly #now: () => number;
  /** When each host was last seen, in memory (the store's copy lags by up to a second). */
  readonly #seen = new Map<string, number>();
  readonly #persisted = new Map<string, number>();
  /** Each host's interval, as registered here or read once from the store (`refreshHeld`). */
  readonly #intervals = new Map<string, number>();
  readonly #startedAt: number;
  /**
   * The last-seen writes of `seen`, batched: the polls one commit wakes write theirs in one
   * transaction (on PostgreSQL, a write takes the write lock: one each would queue them all).
   */
  readonly #touches: Batcher<string, void>;

  constructor(store: Store, options: HostRegistryOptions) {
    this.#store = store;
    this.#polling = options.polling;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#touches = new Batcher(async (hosts) => {
      const at = new Date(this.#now()).toISOString();
      // Polls are reads: on a full disk the time stays in memory and a later poll writes it.
      await this.#store.bestEffort(() => this.#store.touchHostInfos(hosts, at));
      return new Map();
    });
  }

  /** The registry's clock, in Unix milliseconds. */
  now(): number {
    return this.#now();
  }

  /** Records (or refreshes) an agent's registration, in `tx`; a draining host stays draining. */
  async register(tx: Store, r: HostRegistration): Promise<void> {
    const now = this.#now();
    const before = await tx.hostInfo(r.host);
    await tx.upsertHostInfo({
      name: r.host,
      engine_version: r.engineVersion,
      os: r.os,
      arch: r.arch,
      cpus: r.cpus,
      memory: r.memory,
      agent_version: r.agentVersion,
      labels: JSON.stringify(r.labels),
      interval_ms: r.intervalMs,
      registered_at: before?.registered_at ?? new Date(now).toISOString(),
      last_seen: new Date(now).toISOString(),
      draining: before?.draining ?? 0,
    });
    this.#seen.set(r.host, now);
    this.#persisted.set(r.host, now);
    this.#intervals.set(r.host, r.intervalMs);
  }

  /** Notes that the host's agent polled just now (outside any transaction). */
  async seen(host: string): Promise<void> {
    const now = this.#now();
    this.#seen.set(host, now);
    if (now - (this.#persisted.get(host) ?? 0) < PERSIST_EVERY_MS) return;
    this.#persisted.set(host, now);
    await this.#touches.get(host);
  }

  /**
   * Writes the last-seen time of hosts whose agents hold a long-poll here, for the other servers
   * of the store: they judge liveness by the stored time alone, and a held poll writes nothing
   * else for up to its whole wait. Each host is written once per its interval (its agent is
   * offline after 3), in one transaction. Call it about once a second, with several servers.
   */
  async refreshHeld(hosts: readonly string[]): Promise<void> {
    const now = this.#now();
    const due: string[] = [];
    for (const host of hosts) {
      this.#seen.set(host, now);
      let interval = this.#intervals.get(host);
      if (interval === undefined) {
        interval = (await this.#store.hostInfo(host))?.interval_ms ?? DEFAULT_INTERVAL_MS;
        this.#intervals.set(host, interval);
      }
      const every = Math.max(interval, PERSIST_EVERY_MS);
      if (now - (this.#persisted.get(host) ?? 0) >= every) due.push(host);
    }
    if (due.length === 0) return;
    for (const host of due) this.#persisted.set(host, now);
    const at = new Date(now).toISOString();
    await this.#store.bestEffort(() => this.#store.touchHostInfos(due, at));
  }

  /** Whether the host's agent has registered. */
  async isRegistered(db: Store, host: string): Promise<boolean> {
    return (await db.hostInfo(host))?.registered_at != null;
  }

  /** Whether the server knows the host at all: registered, draining, or seen since it started. */
  async isKnown(db: Store, host: string): Promise<boolean> {
    return this.#seen.has(host) || await db.hostInfo(host) !== undefined;
  }

  /** Whether the host takes no new containers. */
  async isDraining(db: Store, host: string): Promise<boolean> {
    return (await db.hostInfo(host))?.draining === 1;
  }

  /** Whether the host's agent is holding a poll, or polled within its last 3 intervals. */
  async isOnline(db: Store, host: string): Promise<boolean> {
    return this.#online(host, await db.hostInfo(host));
  }

  /**
   * Whether the host's containers should show `unknown`: it was seen (or registered) once and is
   * offline now. A host no agent ever came for keeps its containers `pending`.
   */
  async isLost(db: Store, host: string): Promise<boolean> {
    const row = await db.hostInfo(host);
    const everSeen = this.#seen.has(host) || row?.last_seen != null;
    return everSeen && !this.#online(host, row);
  }

  /**
   * Since when the host has been offline (Unix ms), or undefined while it is online. Time before
   * this server started does not count: it could not watch the host then.
   */
  async offlineSince(db: Store, host: string): Promise<number | undefined> {
    const row = await db.hostInfo(host);
    if (this.#online(host, row)) return undefined;
    const window = MISSED_INTERVALS * (row?.interval_ms ?? DEFAULT_INTERVAL_MS);
    const seen = this.#lastSeen(host, row);
    return Math.max(seen === undefined ? this.#startedAt : seen + window, this.#startedAt);
  }

  /** When the host was last seen (Unix ms; now while polling), or undefined when never. */
  async lastSeen(db: Store, host: string): Promise<number | undefined> {
    return this.#lastSeen(host, await db.hostInfo(host));
  }

  /** Marks a host draining, creating its row when it has none, in `tx`. */
  async markDraining(tx: Store, host: string): Promise<void> {
    const row = await tx.hostInfo(host) ?? emptyRow(host);
    await tx.upsertHostInfo({ ...row, draining: 1 });
  }

  /** Forgets everything about a host but its index, in `tx`. */
  async forget(tx: Store, host: string): Promise<void> {
    await tx.deleteHostInfo(host);
    this.#seen.delete(host);
    this.#persisted.delete(host);
    this.#intervals.delete(host);
  }

  /**
   * Every host the server knows: registered, draining, seen since it started, or named by a
   * container. By name. Both reads run in one transaction, so that their counts agree.
   */
  list(db: Store): Promise<HostStatus[]> {
    return db.transaction(async (tx) => {
      const rows = new Map((await tx.allHostInfo()).map((row) => [row.name, row]));
      const counts = new Map((await tx.hostCounts()).map((c) => [c.host, c]));
      const names = new Set([...rows.keys(), ...counts.keys(), ...this.#seen.keys()]);
      return [...names].sort().map((name) => {
        const count = counts.get(name);
        return this.#status(name, rows.get(name), {
          running: count?.running ?? 0,
          total: count?.total ?? 0,
        });
      });
    });
  }

  /** One host, as `list` shows it. */
  status(db: Store, host: string): Promise<HostStatus> {
    return db.transaction(async (tx) => {
      const count = (await tx.hostCounts()).find((c) => c.host === host);
      return this.#status(host, await tx.hostInfo(host), {
        running: count?.running ?? 0,
        total: count?.total ?? 0,
      });
    });
  }

  /**
   * Forgets a host (its index is kept). Throws `ConflictError` while containers are placed on it,
   * and `NotFoundError` for an unknown host. With `force`, a drained host that is offline is
   * forgotten with the containers left on it (all marked for removal): its agent is gone for good.
   */
  remove(host: string, force = false): Promise<void> {
    return this.#store.transaction(async (tx) => {
      let rows = await tx.containersOfHost(host);
      if (force && rows.length > 0) {
        if (!await this.isDraining(tx, host) || await this.isOnline(tx, host)) {
          throw new ConflictError(
            `host ${host} must be drained and offline to be removed with its containers`,
          );
        }
        for (const row of rows) {
          await tx.deleteContainer(row.manifest, row.name);
          await tx.deleteManifestIfEmpty(row.manifest);
        }
        rows = [];
      }
      if (rows.length > 0) {
        const names = rows.slice(0, 5).map((row) => `${row.manifest}/${row.name}`);
        const more = rows.length > names.length ? `, and ${rows.length - names.length} more` : "";
        throw new ConflictError(
          `host ${host} still has ${rows.length} container${rows.length === 1 ? "" : "s"} ` +
            `(${names.join(", ")}${more}): drain it and wait until they are removed`,
        );
      }
      if (!await this.isKnown(tx, host)) throw new NotFoundError(`host ${host} not found`);
      await this.forget(tx, host);
    });
  }

  /** Throws `ConflictError` naming the draining hosts among `hosts`. */
  async refuseDraining(db: Store, hosts: string[]): Promise<void> {
    if (hosts.length === 0) return;
    // One read for all of them (a manifest may pin a container to each of thousands of hosts).
    const draining = (await db.hostInfos([...new Set(hosts)]))
      .filter((row) => row.draining === 1).map((row) => row.name);
    draining.sort();
    if (draining.length === 0) return;
    throw new ConflictError(
      `host${draining.length === 1 ? "" : "s"} ${draining.join(", ")} ` +
        `${draining.length === 1 ? "is" : "are"} draining and take${
          draining.length === 1 ? "s" : ""
        } no new containers`,
    );
  }

  /** Shows containers of hosts that went offline as `unknown`; the stored state is kept. */
  async withLiveness(db: Store, list: ContainerStatus[]): Promise<ContainerStatus[]> {
    const lost = new Map<string, boolean>();
    for (const host of new Set(list.map((c) => c.host))) {
      lost.set(host, await this.isLost(db, host));
    }
    return list.map((c) => lost.get(c.host) ? { ...c, state: "unknown" } : c);
  }

  #status(
    name: string,
    row: HostRow | undefined,
    containers: { running: number; total: number },
  ): HostStatus {
    const online = this.#online(name, row);
    const draining = row?.draining === 1;
    const seen = this.#lastSeen(name, row);
    const status: HostStatus = {
      name,
      status: !online ? "offline" : draining ? "draining" : "online",
      online,
      draining,
      registered: row?.registered_at != null,
      labels: row ? JSON.parse(row.labels) as Record<string, string> : {},
      containers,
    };
    if (seen !== undefined) status.lastSeen = new Date(seen).toISOString();
    if (row?.registered_at != null) status.registeredAt = row.registered_at;
    if (row?.engine_version != null) status.engineVersion = row.engine_version;
    if (row?.os != null) status.os = row.os;
    if (row?.arch != null) status.arch = row.arch;
    if (row?.cpus != null) status.cpus = row.cpus;
    if (row?.memory != null) status.memory = row.memory;
    if (row?.agent_version != null) status.agentVersion = row.agent_version;
    if (row?.interval_ms != null) status.intervalMs = row.interval_ms;
    return status;
  }

  #online(host: string, row: HostRow | undefined): boolean {
    if (this.#polling(host)) return true;
    const now = this.#now();
    const window = MISSED_INTERVALS * (row?.interval_ms ?? DEFAULT_INTERVAL_MS);
    const seen = this.#lastSeen(host, row);
    if (seen !== undefined && now - seen < window) return true;
    // A host seen since the server started has had its chance; others may still be reconnecting.
    return row?.registered_at != null && !this.#seen.has(host) &&
      now - this.#startedAt < Math.max(window, RESTART_GRACE_MS);
  }

  #lastSeen(host: string, row: HostRow | undefined): number | undefined {
    if (this.#polling(host)) return this.#now();
    const memory = this.#seen.get(host);
    const stored = row?.last_seen == null ? undefined : Date.parse(row.last_seen);
    if (memory === undefined) return stored;
    return stored === undefined ? memory : Math.max(memory, stored);
  }
}

/** The row of a host nothing was registered for yet. */
function emptyRow(name: string): HostRow {
  return {
    name,
    engine_version: null,
    os: null,
    arch: null,
    cpus: null,
    memory: null,
    agent_version: null,
    labels: "{}",
    interval_ms: null,
    registered_at: null,
    last_seen: null,
    draining: 0,
  };
}
