/**
 * The planner owns desired and observed state: every change is written to the store in one
 * transaction before it returns, and every change to what a host should run moves that host's
 * index forward, waking the agents long-polling on it once the transaction has committed.
 */
import type {
  ContainerAction,
  ContainerStatus,
  HostDesired,
  HostRegistration,
  Manifest,
  ManifestPlan,
  ManifestSource,
  StateReport,
  UpResult,
} from "../api/schemas.ts";
import { manifestPlan, type Placed, planSteps, type Step } from "./diff.ts";
import { ConflictError, NotFoundError } from "../api/errors.ts";
import { type Clock, systemClock } from "../clock.ts";
import { errorMessage } from "../errors.ts";
import { freshSpec, setDesired, toStatus } from "./container_rows.ts";
import { applyReport, findContainer } from "./reports.ts";
import { DEFAULT_ACTOR, downEvents, EventLog, type EventLogOptions, upEvents } from "./events.ts";
import { HostRegistry } from "./hosts.ts";
import { Rollouts } from "./rollouts.ts";
import type { SecretBox } from "./secret_box.ts";
import { Secrets } from "./secrets.ts";
import { type ManifestPolicy, Scheduler } from "./scheduler.ts";
import { LogRelay, type LogRelayOptions } from "./logs.ts";
import { recordRevision } from "./revisions.ts";
import type { ContainerRow, Store } from "./store/store.ts";
import { Waiters } from "./waiters.ts";
import { Batcher } from "./batcher.ts";
import { type DutyLease, LocalLease } from "./duty_lease.ts";
import { type HostIndex, LocalWakeups, type Wakeup, type Wakeups } from "./wakeups.ts";
import { type UiSessionOptions, UiSessions } from "./ui_sessions.ts";

/** What `reportMany` did: how many reports it applied, and the ones naming no known container. */
export interface ReportManyResult {
  applied: number;
  unknown: StateReport[];
  /** Reports about a spec the container no longer has, dropped. */
  stale: number;
}

/** Options of a planner. */
export interface PlannerOptions {
  /** How many `waitForHost` calls may be held at once (default 10000). */
  maxWaiters?: number;
  /** Retention of the event history. */
  events?: EventLogOptions;
  /**
   * The time and timers of everything the planner owns: host liveness, event retention, held
   * waits, the log relay (default the system clock).
   */
  clock?: Clock;
  /** Limits and timings of the log relay. */
  logs?: LogRelayOptions;
  /** How long a host may be offline before its placed containers move (default 5 minutes). */
  rescheduleAfterMs?: number;
  /**
   * How commits wake held requests, here and on the other servers of the store (default: in
   * this process only, for one server). The planner subscribes; its creator closes it.
   */
  wakeups?: Wakeups;
  /**
   * Whether this server runs the cluster duties (default: always, for one server). With a shared
   * lease, event retention is one of the duties too. Its creator closes it.
   */
  lease?: DutyLease;
  /** Where failures in the background (re-reads after wake-ups) are said. */
  log?: (line: string) => void;
  /** Encrypts and decrypts secrets; without it the planner keeps none (`SecretsDisabledError`). */
  secretBox?: SecretBox;
  /** Limits of the web UI's sessions. */
  sessions?: UiSessionOptions;
}

/** How often the scheduler's duties run: placement waits at most this long for room. */
const DUTY_EVERY_MS = 1000;

/** The default cap of held long-poll waiters: each holds a socket and memory. */
const DEFAULT_MAX_WAITERS = 10_000;

/** The one interface to desired and observed state, over a store. */
export class Planner {
  readonly store: Store;
  /** The history of changes, written in the same transactions as they are. */
  readonly events: EventLog;
  /** What agents registered about their hosts, and whether each is online or draining. */
  readonly hosts: HostRegistry;
  /** Hands log requests to agents and pipes their output back. */
  readonly logs: LogRelay;
  /** Where placed containers run. */
  readonly scheduler: Scheduler;
  /** Rolling updates of manifests with `update:`. */
  readonly rollouts: Rollouts;
  /** Secrets: kept encrypted, checked at the door, resolved for the agents that need them. */
  readonly secrets: Secrets;
  /** The web UI's sessions, in the store: ended ones are deleted by the duties. */
  readonly sessions: UiSessions;
  readonly #cluster: string;
  /** The time and timers of the planner and everything it owns. */
  readonly clock: Clock;
  /** The agents' long-polls, by host. */
  readonly #hostWaits: Waiters<string>;
  /** Ends the periodic duties started by `startDuties`. */
  readonly #duties = new AbortController();
  /** The tick in progress, or the last one: ticks run one after the other, never two at once. */
  #ticking: Promise<unknown> = Promise.resolve();
  /**
   * The index each host's waiters were last woken for: a wake-up for an index not above it has
   * been acted on already (a server hears its own), and a wait that saw it move must not wait.
   */
  readonly #wokenAt = new Map<string, number>();
  /** How commits wake held requests here and on the other servers of the store. */
  readonly wakeups: Wakeups;
  readonly #unsubscribe: () => void;
  readonly #unsubscribeLogs: () => void;
  /** Whether this server runs the cluster duties. */
  readonly lease: DutyLease;
  readonly #log: (line: string) => void;
  /** The re-read in progress: one at a time. */
  #rereading: Promise<void> | undefined;
  #rereadFailing = false;
  /**
   * The reads of `desired`, batched: the long-polls one commit wakes are answered by one
   * transaction, not one each (and a pool connection each, on PostgreSQL).
   */
  readonly #desiredReads = new Batcher<string, HostDesired>((hosts) => this.#readDesired(hosts));
  /** The index reads of `hostIndex` (a woken `waitForHost`), batched the same way. */
  readonly #indexReads = new Batcher<string, number>(async (hosts) => {
    const indexes = new Map<string, number>(hosts.map((host) => [host, 0]));
    for (const { name, idx } of await this.store.hostIndexes(hosts)) indexes.set(name, idx);
    return indexes;
  });

  private constructor(
    store: Store,
    events: EventLog,
    options: PlannerOptions,
    clock: Clock,
    wakeups: Wakeups,
  ) {
    this.store = store;
    this.#cluster = store.clusterId();
    this.clock = clock;
    this.wakeups = wakeups;
    this.lease = options.lease ?? new LocalLease("local", clock.now());
    this.#log = options.log ?? (() => {});
    this.#hostWaits = new Waiters({ max: options.maxWaiters ?? DEFAULT_MAX_WAITERS, clock });
    this.events = events;
    this.hosts = new HostRegistry(store, {
      polling: (host) => this.#hostWaits.count(host) > 0,
      now: () => clock.now(),
    });
    this.logs = new LogRelay({ ...options.logs, clock });
    this.scheduler = new Scheduler({
      hosts: this.hosts,
      events: this.events,
      rescheduleAfterMs: options.rescheduleAfterMs,
    });
    this.rollouts = new Rollouts({ hosts: this.hosts, events: this.events });
    this.secrets = new Secrets({
      store,
      box: options.secretBox,
      events: this.events,
      bump: (tx, hosts) => this.#bump(tx, hosts),
      now: () => clock.now(),
    });
    this.sessions = new UiSessions(store, () => clock.now(), options.sessions);
    this.#unsubscribe = wakeups.subscribe((wakeup) => this.#heard(wakeup));
    this.#unsubscribeLogs = wakeups.subscribeLogs(({ host, request }) =>
      this.logs.offer(host, request)
    );
  }

  /**
   * Shares log requests with the other servers of the store (several servers on PostgreSQL): a
   * request for an agent that polls another server is published through the wake-ups, and the
   * agent uploads to `origin`, this server's URL as agents reach it.
   */
  shareLogs(origin: string): void {
    this.logs.share({ origin, publish: (shared) => this.wakeups.publishLog(shared) });
  }

  /**
   * A planner over an open store. With one server the event history is pruned first and on
   * every record; with a shared lease (several servers), by the duties.
   */
  static async open(store: Store, options: PlannerOptions = {}): Promise<Planner> {
    const clock = options.clock ?? systemClock;
    const wakeups = options.wakeups ?? new LocalWakeups();
    const events = await EventLog.open(store, {
      pruneOnRecord: !(options.lease?.shared ?? false),
      ...options.events,
      clock,
      wakeups,
    });
    return new Planner(store, events, options, clock, wakeups);
  }

  /** Records an agent's registration, and places what waits for a host like this one. */
  async register(registration: HostRegistration): Promise<void> {
    await this.store.transaction((tx) => this.hosts.register(tx, registration));
    await this.tick();
  }

  /** How many `waitForHost` calls are being held right now. */
  get heldWaiters(): number {
    return this.#hostWaits.held;
  }

  /**
   * Applies a validated manifest: creates, updates and removes its containers, as `diff` shows
   * (both take their steps from `planSteps`). `actor` is who applied it, for the event history.
   * `source` is the text as sent (the HTTP routes always pass it): when something changes it is
   * stored as the next revision, whose number the result carries; without it none is stored.
   * `db` is a transaction to join (a rollback's), else the store.
   */
  up(
    manifest: Manifest,
    actor = DEFAULT_ACTOR,
    source?: ManifestSource,
    db: Store = this.store,
  ): Promise<UpResult> {
    return db.transaction(async (tx) => {
      const result: UpResult = {
        manifest: manifest.name,
        created: [],
        updated: [],
        unchanged: [],
        removed: [],
      };
      const touched = new Set<string>();
      await this.secrets.check(tx, manifest);
      await this.hosts.refuseDraining(tx, pinnedHosts(manifest));
      const now = new Date().toISOString();
      // New rows are inserted together, after the loop: one statement, not one each.
      const inserts: ContainerRow[] = [];
      await tx.upsertManifest(manifest.name, JSON.stringify(policyOf(manifest)), now);
      const steps = await this.#steps(tx, manifest);
      // With `update:`, changed containers are left to a rollout; everything else happens now.
      const rolled = manifest.update === undefined
        ? []
        : steps.filter((step) => step.action === "recreate");
      for (const step of steps) {
        if (step.action === "recreate" && rolled.includes(step)) {
          result.updated.push(step.spec.name);
          continue;
        }
        switch (step.action) {
          case "create":
            inserts.push({
              manifest: manifest.name,
              name: step.spec.name,
              ...freshSpec(step, step.pending),
              generation: 1,
              restart_generation: 0,
              ...placedColumns(step.placed),
              replaces: "",
              created_at: now,
              updated_at: now,
            });
            result.created.push(step.spec.name);
            touched.add(step.normalized.host);
            break;
          case "recreate":
            await tx.updateContainer({
              ...step.row,
              ...freshSpec(step, step.pending),
              ...placedColumns(step.placed),
              generation: step.row.generation + 1,
              updated_at: now,
            });
            result.updated.push(step.spec.name);
            touched.add(step.row.host).add(step.normalized.host);
            break;
          case "update":
            await setDesired(tx, { ...step.row, ...placedColumns(step.placed) }, "running", now);
            result.updated.push(step.spec.name);
            touched.add(step.row.host);
            break;
          case "unchanged":
            result.unchanged.push(step.spec.name);
            break;
          case "remove":
            await setDesired(tx, step.row, "removed", now);
            result.removed.push(step.row.name);
            touched.add(step.row.host);
            break;
        }
      }
      if (inserts.length > 0) await tx.insertContainers(inserts);
      await this.events.record(tx, upEvents(manifest.name, steps, actor));
      const revision = await recordRevision(tx, result, source, actor, now);
      if (revision !== undefined) result.revision = revision;
      if (revision !== undefined || result.created.length + result.removed.length > 0) {
        // A change takes over from the rollout in progress: a new one covers what is left.
        await this.rollouts.supersede(tx, manifest.name, now);
      }
      if (manifest.update !== undefined && rolled.length > 0) {
        await this.rollouts.start(
          tx,
          manifest.name,
          manifest.update,
          rolled,
          revision,
          this.clock.now(),
          actor,
        );
        result.rollout = true;
      }
      touched.delete("");
      await this.#bump(tx, touched);
      return result;
    });
  }

  /** The steps of a manifest against what is stored for it, with hosts chosen for placed ones. */
  async #steps(tx: Store, manifest: Manifest): Promise<Step[]> {
    const steps = planSteps(manifest, await tx.containersOfManifest(manifest.name));
    return await this.scheduler.placeSteps(tx, manifest.name, steps);
  }

  /** What `up` would do with a manifest, changing nothing; refuses what `up` refuses. */
  diff(manifest: Manifest): Promise<ManifestPlan> {
    // One transaction: the hosts and the containers it reads agree, as `up`'s would.
    return this.store.transaction(async (tx) => {
      await this.secrets.check(tx, manifest);
      await this.hosts.refuseDraining(tx, pinnedHosts(manifest));
      return manifestPlan(manifest.name, await this.#steps(tx, manifest));
    });
  }

  /** Marks every container of a manifest for removal; `actor` is who asked. */
  down(name: string, actor = DEFAULT_ACTOR): Promise<void> {
    return this.store.transaction(async (tx) => {
      const touched = new Set<string>();
      if (!await tx.hasManifest(name)) throw new NotFoundError(`manifest ${name} not found`);
      const now = new Date().toISOString();
      await this.rollouts.supersede(tx, name, now);
      const rows = await tx.containersOfManifest(name);
      for (const row of rows) {
        await setDesired(tx, row, "removed", now);
        touched.add(row.host);
      }
      await this.events.record(tx, downEvents(name, rows, actor));
      // A manifest without containers has nothing left for an agent to report: forget it now.
      await tx.deleteManifestIfEmpty(name);
      touched.delete("");
      await this.#bump(tx, touched);
    });
  }

  /**
   * Lists the containers of one manifest, or of all, by manifest then name. `db` is a transaction
   * to read in, else the store: the list and the liveness of its hosts are read in one.
   */
  ps(name?: string, db: Store = this.store): Promise<ContainerStatus[]> {
    return db.transaction(async (tx) => {
      if (name === undefined) {
        return await this.hosts.withLiveness(tx, (await tx.allContainers()).map(toStatus));
      }
      if (!await tx.hasManifest(name)) throw new NotFoundError(`manifest ${name} not found`);
      return await this.hosts.withLiveness(
        tx,
        (await tx.containersOfManifest(name)).map(toStatus),
      );
    });
  }

  /** Records a user's stop, kill, restart or rm of one container; `actor` is who asked. */
  action(a: ContainerAction, actor = DEFAULT_ACTOR): Promise<void> {
    return this.store.transaction(async (tx) => {
      const row = await findContainer(tx, a.host, a.container, a.manifest);
      if (a.action !== "rm") await this.hosts.refuseDraining(tx, [row.host]);
      const now = new Date().toISOString();
      switch (a.action) {
        case "stop":
          await setDesired(tx, row, "stopped", now);
          break;
        case "kill":
          await setDesired(tx, row, "killed", now);
          break;
        case "restart":
          await tx.updateContainer({
            ...row,
            desired: "running",
            generation: row.generation + 1,
            restart_generation: row.generation + 1,
            updated_at: now,
          });
          break;
        case "rm":
          await setDesired(tx, row, "removed", now, true);
          break;
      }
      await this.events.record(tx, [{
        kind: "action",
        actor,
        manifest: row.manifest,
        host: row.host,
        container: row.name,
        action: a.action,
      }]);
      await this.#bump(tx, [a.host]);
    });
  }

  /**
   * Records one observed state; throws `NotFoundError` or `ConflictError` for unknown names.
   * `actor` is who reported it, for the event history. False: it was about a replaced spec, and
   * dropped.
   */
  report(r: StateReport, actor = DEFAULT_ACTOR): Promise<boolean> {
    return this.store.transaction((tx) => {
      const reads = this.secrets.reads(tx);
      return applyReport(
        tx,
        this.events,
        r,
        new Date().toISOString(),
        actor,
        (row) => this.secrets.handedOut(reads, row),
      );
    });
  }

  /** Records many observed states in one transaction; unknown or ambiguous ones are returned. */
  reportMany(rs: StateReport[], actor = DEFAULT_ACTOR): Promise<ReportManyResult> {
    return this.store.transaction(async (tx) => {
      const now = new Date().toISOString();
      const result: ReportManyResult = { applied: 0, unknown: [], stale: 0 };
      const reads = this.secrets.reads(tx);
      const handedOut = (row: ContainerRow) => this.secrets.handedOut(reads, row);
      for (const r of rs) {
        try {
          if (await applyReport(tx, this.events, r, now, actor, handedOut)) result.applied++;
          else result.stale++;
        } catch (error) {
          if (!(error instanceof NotFoundError || error instanceof ConflictError)) throw error;
          result.unknown.push(r);
        }
      }
      return result;
    });
  }

  /** A host's index: it grows with every change of what the host should run (0: never planned). */
  hostIndex(host: string): Promise<number> {
    return this.#indexReads.get(host);
  }

  /**
   * Everything a host should run (including containers desired removed), with its index, and the
   * values of the secrets its containers refer to: only its agent (or an admin) may ask. Calls
   * made at about the same time (the long-polls one commit woke) are read together, in one
   * transaction: each gets what a transaction of its own, begun after its call, would read.
   */
  async desired(host: string): Promise<HostDesired> {
    // Only the host's agent asks for this: it was seen now.
    await this.hosts.seen(host);
    return await this.#desiredReads.get(host);
  }

  /**
   * What `desired` answers for each of `hosts`. The reads run in one transaction, so no write can
   * come between them: the index answered is the one of the containers answered (PostgreSQL:
   * REPEATABLE READ or stricter).
   */
  #readDesired(hosts: string[]): Promise<Map<string, HostDesired>> {
    return this.store.transaction(async (tx) => {
      const indexes = await tx.hostIndexes(hosts);
      const rows = await tx.containersOfHosts(hosts);
      const infos = await tx.hostInfos(hosts);
      const answers = new Map<string, HostDesired>(
        hosts.map((host) => [host, { index: 0, containers: [], cluster: this.#cluster }]),
      );
      for (const { name, idx } of indexes) answers.get(name)!.index = idx;
      for (const row of rows) answers.get(row.host)?.containers.push(toStatus(row));
      // Only here, for the agents of their hosts, do secrets' values leave the store.
      const entries = [...answers.values()].flatMap((answer) => answer.containers);
      await this.secrets.resolve(this.secrets.reads(tx), entries);
      for (const info of infos) {
        if (info.registered_at != null) answers.get(info.name)!.registered = true;
      }
      // The keys in the order `desired` always answered them.
      return new Map(
        [...answers].map(([host, { index, containers, registered, cluster }]) => [
          host,
          { index, containers, ...(registered ? { registered } : {}), cluster },
        ]),
      );
    });
  }

  /**
   * Resolves once the host's index passes `afterIndex`, when `timeoutMs` runs out, or when
   * `signal` aborts, whichever comes first. An `afterIndex` ahead of the host's index (a client
   * that saw a store since replaced) resolves at once too, so the client can resync. Rejects
   * with `OverloadedError` when too many calls are already held.
   */
  async waitForHost(
    host: string,
    afterIndex: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const deadline = this.clock.now() + timeoutMs;
    await this.hosts.seen(host);
    for (;;) {
      const woken = this.#wokenAt.get(host);
      if (await this.hostIndex(host) !== afterIndex) return;
      // A change committed while the index was read woke nobody yet waiting: read it again.
      if (this.#wokenAt.get(host) !== woken) continue;
      // A wake-up that moved nothing this wait sees (a re-read after another server's change
      // that this one has not read yet) holds on for the rest of the time.
      const end = await this.#hostWaits.wait(host, deadline - this.clock.now(), signal);
      if (end !== "woken") return;
    }
  }

  /** Releases every held `waitForHost` call and answers new ones at once (server shutdown). */
  releaseWaiters(): void {
    this.#hostWaits.close();
    this.events.releaseWaiters();
    this.logs.close();
  }

  /**
   * Drains a host: it takes no new containers; its pinned containers are marked for removal, and
   * its placed ones get replacements elsewhere and are removed once those run. Returns what it
   * moves and removes (`manifest/container`); throws `NotFoundError` for an unknown host.
   */
  drainHost(host: string, actor = DEFAULT_ACTOR): Promise<{ removed: string[]; moved: string[] }> {
    return this.store.transaction(async (tx) => {
      const removed: string[] = [];
      const touched = new Set<string>([host]);
      const rows = await tx.containersOfHost(host);
      if (rows.length === 0 && !await this.hosts.isKnown(tx, host)) {
        throw new NotFoundError(`host ${host} not found`);
      }
      await this.hosts.markDraining(tx, host);
      const now = new Date().toISOString();
      for (const row of rows) {
        if (row.desired === "removed" || row.template !== "") continue;
        await setDesired(tx, row, "removed", now);
        removed.push(`${row.manifest}/${row.name}`);
        await this.events.record(tx, [{
          kind: "action",
          actor,
          manifest: row.manifest,
          host,
          container: row.name,
          action: "drain",
        }]);
      }
      const drained = await this.scheduler.drain(tx, host, now, actor);
      for (const h of drained.touched) touched.add(h);
      await this.#bump(tx, touched);
      return { removed, moved: drained.moved };
    });
  }

  /**
   * The scheduler's periodic duties, each in its own transaction: replaced instances whose
   * replacements run are removed, waiting instances placed where room appeared, and instances of
   * hosts lost too long moved; ended web UI sessions deleted (at most once a minute); with a
   * shared lease, events past their retention deleted. Only while this server holds the duty
   * lease: elsewhere a tick does nothing (the holder's next one does it), and one that loses the
   * lease stops before its next duty. A tick asked for while one runs starts once that one is
   * over.
   */
  tick(): Promise<void> {
    const tick = this.#ticking.catch(() => {}).then(() => this.#tick());
    this.#ticking = tick;
    return tick;
  }

  async #tick(): Promise<void> {
    const duties: ((tx: Store, now: string) => Promise<Set<string>>)[] = [
      (tx: Store, now: string) => this.rollouts.advance(tx, Date.parse(now)),
      (tx: Store, now: string) => this.scheduler.retireReplaced(tx, now),
      (tx: Store, now: string) => this.scheduler.placeWaiting(tx, now),
      (tx: Store, now: string) => this.scheduler.rescheduleLost(tx, this.clock.now(), now),
    ];
    if (!this.events.pruneOnRecord) {
      duties.push(async (tx) => {
        await this.events.prune(tx);
        return new Set<string>();
      });
    }
    if (this.sessions.pruneDue()) {
      duties.push(async (tx) => {
        await this.sessions.prune(tx);
        return new Set<string>();
      });
    }
    for (const duty of duties) {
      // On a server that does not hold the duty lease (or lost it meanwhile), the holder does it.
      if (!this.lease.holding()) return;
      await this.store.transaction(async (tx) => {
        const changed = await duty(tx, new Date(this.clock.now()).toISOString());
        changed.delete("");
        await this.#bump(tx, changed);
      });
    }
  }

  /**
   * Runs `tick` every `everyMs` until `close`: the scheduler's duties need no request to happen
   * (a host goes offline by not calling). The next tick waits for the last one to end; a failed
   * tick is logged and tried again next time.
   */
  startDuties(everyMs = DUTY_EVERY_MS, log: (line: string) => void = () => {}): void {
    const signal = this.#duties.signal;
    void (async () => {
      while (!signal.aborted) {
        await this.clock.sleep(everyMs, signal).catch(() => {});
        if (signal.aborted) return;
        try {
          await this.tick();
        } catch (error) {
          log(`scheduler: ${errorMessage(error)}`);
        }
      }
    })();
  }

  /**
   * Releases held waiters, waits for the tick and the re-read in progress, and closes the store
   * (not the wake-ups nor the lease it was given: their creator does).
   */
  async close(): Promise<void> {
    this.#duties.abort();
    this.#unsubscribe();
    this.#unsubscribeLogs();
    this.releaseWaiters();
    await this.#ticking.catch(() => {});
    await this.#rereading;
    await this.events.close();
    await this.store.close();
  }

  /**
   * Moves each host's index to the next value of the global counter, in `tx`, and wakes the
   * hosts' long-polls on every server once `tx` has committed.
   */
  async #bump(tx: Store, hosts: Iterable<string>): Promise<void> {
    const names = [...hosts];
    if (names.length === 0) return;
    const moved: HostIndex[] = (await tx.bumpHostIndexes(names)).map(({ name, idx }) => ({
      host: name,
      index: idx,
    }));
    if (moved.length > 0) tx.onCommit(() => this.wakeups.publish(moved));
  }

  /** What a wake-up says to the long-polls held here. */
  #heard(wakeup: Wakeup): void {
    if (wakeup.kind === "changed") {
      for (const { host, index } of wakeup.hosts) this.#wake(host, index);
    } else {
      this.#rereading ??= this.#reread().finally(() => this.#rereading = undefined);
    }
  }

  /** Wakes the waiters of a host whose index moved to `index`, unless they were woken for it. */
  #wake(host: string, index: number): void {
    if (index <= (this.#wokenAt.get(host) ?? -1)) return;
    this.#wokenAt.set(host, index);
    this.#hostWaits.wake(host);
  }

  /**
   * Reads the index of every host with held long-polls and wakes those that moved unheard (a
   * lost notification); and, since other servers judge a host's liveness by the last-seen time
   * in the store, refreshes it for the hosts whose agents are held here.
   */
  async #reread(): Promise<void> {
    try {
      const held = this.#hostWaits.keys();
      const indexes = new Map<string, number>(held.map((host) => [host, 0]));
      for (const { name, idx } of await this.store.hostIndexes(held)) indexes.set(name, idx);
      for (const [host, index] of indexes) this.#wake(host, index);
      await this.hosts.refreshHeld(held);
      if (this.#rereadFailing) this.#log("wake-ups: reading the store again");
      this.#rereadFailing = false;
    } catch (error) {
      if (!this.#rereadFailing) this.#log(`wake-ups: cannot re-read: ${errorMessage(error)}`);
      this.#rereadFailing = true;
    }
  }
}

/** The hosts a manifest's pinned containers name. */
function pinnedHosts(manifest: Manifest): string[] {
  return manifest.containers.flatMap((c) => c.placement === undefined ? [c.normalized.host] : []);
}

/** The policies a manifest stores with itself. */
function policyOf(manifest: Manifest): ManifestPolicy {
  const policy: ManifestPolicy = {};
  if (manifest.update !== undefined) policy.update = manifest.update;
  if (manifest.rescheduleAfterMs !== undefined) {
    policy.rescheduleAfterMs = manifest.rescheduleAfterMs;
  }
  return policy;
}

/** The columns that tell a placed instance from a pinned container. */
function placedColumns(placed: Placed | undefined) {
  return placed === undefined
    ? { template: "", placement: "" }
    : { template: placed.template, placement: JSON.stringify(placed.placement) };
}
