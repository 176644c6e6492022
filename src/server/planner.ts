/**
 * The planner owns desired and observed state: every change is written to the store in one
 * transaction before it returns, and every change to what a host should run moves that host's
 * index forward, waking the agents long-polling on it.
 */
import type {
  ContainerAction,
  ContainerStatus,
  Desired,
  HostDesired,
  Manifest,
  Spec,
  State,
  StateReport,
  UpResult,
} from "../api/schemas.ts";
import { specHash } from "../manifest/hash.ts";
import { ConflictError, NotFoundError, OverloadedError } from "./errors.ts";
import type { ContainerRow, Store } from "./store.ts";

/** What `reportMany` did: how many reports it applied, and the ones naming no known container. */
export interface ReportManyResult {
  applied: number;
  unknown: StateReport[];
}

/** Options of a planner. */
export interface PlannerOptions {
  /** How many `waitForHost` calls may be held at once (default 10000). */
  maxWaiters?: number;
}

/** The default cap of held long-poll waiters: each holds a socket and memory. */
const DEFAULT_MAX_WAITERS = 10_000;
/** setTimeout fires at once beyond this delay (a signed 32-bit count of milliseconds). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Turns a stored row into the API's `ContainerStatus`, omitting absent optional fields. */
function toStatus(row: ContainerRow): ContainerStatus {
  const status: ContainerStatus = {
    manifestName: row.manifest,
    config: JSON.parse(row.spec) as Spec,
    host: row.host,
    desired: row.desired as Desired,
    state: row.state as State,
    specHash: row.spec_hash,
    generation: row.generation,
    restartGeneration: row.restart_generation,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.container_id !== null) status.containerId = row.container_id;
  if (row.exit_code !== null) status.exitCode = row.exit_code;
  if (row.error !== null) status.error = row.error;
  if (row.health !== null) status.health = row.health;
  return status;
}

/** The one interface to desired and observed state, over a store. */
export class Planner {
  readonly store: Store;
  readonly #maxWaiters: number;
  readonly #waiters = new Map<string, Set<() => void>>();
  #held = 0;
  #draining = false;

  constructor(store: Store, options: PlannerOptions = {}) {
    this.store = store;
    this.#maxWaiters = options.maxWaiters ?? DEFAULT_MAX_WAITERS;
  }

  /** How many `waitForHost` calls are being held right now. */
  get heldWaiters(): number {
    return this.#held;
  }

  /** Applies a validated manifest: creates, updates and removes its containers. */
  up(manifest: Manifest): UpResult {
    const result: UpResult = {
      manifest: manifest.name,
      created: [],
      updated: [],
      unchanged: [],
      removed: [],
    };
    const touched = new Set<string>();
    this.store.transaction(() => {
      const now = new Date().toISOString();
      this.store.upsertManifest(manifest.name, now);
      const stored = new Map(
        this.store.containersOfManifest(manifest.name).map((row) => [row.name, row]),
      );
      for (const spec of manifest.containers) {
        const hash = specHash(spec);
        const row = stored.get(spec.name);
        stored.delete(spec.name);
        if (row === undefined) {
          this.store.insertContainer({
            manifest: manifest.name,
            name: spec.name,
            host: spec.host,
            spec: JSON.stringify(spec),
            spec_hash: hash,
            desired: "running",
            state: "pending",
            container_id: null,
            exit_code: null,
            error: null,
            health: null,
            generation: 1,
            restart_generation: 0,
            created_at: now,
            updated_at: now,
          });
          result.created.push(spec.name);
          touched.add(spec.host);
        } else if (row.spec_hash !== hash || row.host !== spec.host) {
          this.store.updateContainer({
            ...row,
            host: spec.host,
            spec: JSON.stringify(spec),
            spec_hash: hash,
            desired: "running",
            state: "pending",
            container_id: null,
            exit_code: null,
            error: null,
            health: null,
            generation: row.generation + 1,
            updated_at: now,
          });
          result.updated.push(spec.name);
          touched.add(row.host).add(spec.host);
        } else if (row.desired !== "running") {
          this.#setDesired(row, "running", now);
          result.updated.push(spec.name);
          touched.add(row.host);
        } else {
          result.unchanged.push(spec.name);
        }
      }
      for (const row of stored.values()) {
        if (row.desired === "removed") continue;
        this.#setDesired(row, "removed", now);
        result.removed.push(row.name);
        touched.add(row.host);
      }
      this.#bump(touched);
    });
    this.#wake(touched);
    return result;
  }

  /** Marks every container of a manifest for removal. */
  down(name: string): void {
    const touched = new Set<string>();
    this.store.transaction(() => {
      if (!this.store.hasManifest(name)) throw new NotFoundError(`manifest ${name} not found`);
      const now = new Date().toISOString();
      for (const row of this.store.containersOfManifest(name)) {
        this.#setDesired(row, "removed", now);
        touched.add(row.host);
      }
      // A manifest without containers has nothing left for an agent to report: forget it now.
      this.store.deleteManifestIfEmpty(name);
      this.#bump(touched);
    });
    this.#wake(touched);
  }

  /** Lists the containers of one manifest, or of all, by manifest then name. */
  ps(name?: string): ContainerStatus[] {
    if (name === undefined) return this.store.allContainers().map(toStatus);
    if (!this.store.hasManifest(name)) throw new NotFoundError(`manifest ${name} not found`);
    return this.store.containersOfManifest(name).map(toStatus);
  }

  /** Records a user's stop, kill, restart or rm of one container. */
  action(a: ContainerAction): void {
    this.store.transaction(() => {
      const row = this.#find(a.host, a.container, a.manifest);
      const now = new Date().toISOString();
      switch (a.action) {
        case "stop":
          this.#setDesired(row, "stopped", now);
          break;
        case "kill":
          this.#setDesired(row, "killed", now);
          break;
        case "restart":
          this.store.updateContainer({
            ...row,
            desired: "running",
            generation: row.generation + 1,
            restart_generation: row.generation + 1,
            updated_at: now,
          });
          break;
        case "rm":
          this.#setDesired(row, "removed", now);
          break;
      }
      this.#bump([a.host]);
    });
    this.#wake([a.host]);
  }

  /** Records one observed state; throws `NotFoundError` or `ConflictError` for unknown names. */
  report(r: StateReport): void {
    this.store.transaction(() => this.#applyReport(r, new Date().toISOString()));
  }

  /** Records many observed states in one transaction; unknown or ambiguous ones are returned. */
  reportMany(rs: StateReport[]): ReportManyResult {
    return this.store.transaction(() => {
      const now = new Date().toISOString();
      const result: ReportManyResult = { applied: 0, unknown: [] };
      for (const r of rs) {
        try {
          this.#applyReport(r, now);
          result.applied++;
        } catch (error) {
          if (!(error instanceof NotFoundError || error instanceof ConflictError)) throw error;
          result.unknown.push(r);
        }
      }
      return result;
    });
  }

  /** A host's index: it grows with every change of what the host should run (0: never planned). */
  hostIndex(host: string): number {
    return this.store.hostIndex(host);
  }

  /** Everything a host should run (including containers desired removed), with its index. */
  desired(host: string): HostDesired {
    // Both reads run in one synchronous step, so no write can come between them.
    return {
      index: this.store.hostIndex(host),
      containers: this.store.containersOfHost(host).map(toStatus),
    };
  }

  /**
   * Resolves once the host's index passes `afterIndex`, when `timeoutMs` runs out, or when
   * `signal` aborts, whichever comes first. An `afterIndex` ahead of the host's index (a client
   * that saw a store since replaced) resolves at once too, so the client can resync. Rejects
   * with `OverloadedError` when too many calls are already held.
   */
  waitForHost(
    host: string,
    afterIndex: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    if (
      this.#draining || timeoutMs <= 0 || signal?.aborted || this.hostIndex(host) !== afterIndex
    ) {
      return Promise.resolve();
    }
    if (this.#held >= this.#maxWaiters) {
      return Promise.reject(new OverloadedError(this.#maxWaiters));
    }
    return new Promise((resolve) => {
      let set = this.#waiters.get(host);
      if (set === undefined) {
        set = new Set();
        this.#waiters.set(host, set);
      }
      const waiters = set;
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", wake);
        if (!waiters.delete(wake)) return;
        this.#held--;
        if (waiters.size === 0 && this.#waiters.get(host) === waiters) this.#waiters.delete(host);
        resolve();
      };
      const timer = setTimeout(wake, Math.min(timeoutMs, MAX_TIMER_MS));
      signal?.addEventListener("abort", wake, { once: true });
      waiters.add(wake);
      this.#held++;
    });
  }

  /** Releases every held `waitForHost` call and answers new ones at once (server shutdown). */
  releaseWaiters(): void {
    this.#draining = true;
    this.#wakeAll();
  }

  /** Releases held waiters and closes the store. */
  close(): void {
    this.releaseWaiters();
    this.store.close();
  }

  /** Finds one container by manifest and name, or by host and name when no manifest is given. */
  #find(host: string, name: string, manifest?: string): ContainerRow {
    if (manifest !== undefined) {
      const row = this.store.container(manifest, name);
      if (row === undefined || row.host !== host) {
        throw new NotFoundError(`container ${name} of manifest ${manifest} not found on ${host}`);
      }
      return row;
    }
    const rows = this.store.containersByHostAndName(host, name);
    if (rows.length === 0) throw new NotFoundError(`container ${name} not found on ${host}`);
    if (rows.length > 1) {
      const manifests = rows.map((row) => row.manifest).join(", ");
      throw new ConflictError(
        `container ${name} on ${host} is in manifests ${manifests}; pass --manifest`,
      );
    }
    return rows[0];
  }

  #applyReport(r: StateReport, now: string): void {
    const row = this.#find(r.host, r.name, r.manifest);
    if (r.state === "removed" && row.desired === "removed") {
      this.store.deleteContainer(row.manifest, row.name);
      this.store.deleteManifestIfEmpty(row.manifest);
      return;
    }
    this.store.updateContainer({
      ...row,
      state: r.state,
      container_id: r.containerId ?? null,
      exit_code: r.exitCode ?? null,
      error: r.error ?? null,
      health: r.health ?? null,
      updated_at: now,
    });
  }

  #setDesired(row: ContainerRow, desired: Desired, now: string): void {
    this.store.updateContainer({
      ...row,
      desired,
      generation: row.generation + 1,
      updated_at: now,
    });
  }

  /** Moves each host's index to the next value of the global counter; call inside a transaction. */
  #bump(hosts: Iterable<string>): void {
    for (const host of hosts) this.store.bumpHostIndex(host);
  }

  /** Wakes the waiters of hosts whose index moved; call after the transaction committed. */
  #wake(hosts: Iterable<string>): void {
    for (const host of hosts) {
      const waiters = this.#waiters.get(host);
      if (waiters === undefined) continue;
      for (const wake of [...waiters]) wake();
    }
  }

  #wakeAll(): void {
    this.#wake([...this.#waiters.keys()]);
  }
}
