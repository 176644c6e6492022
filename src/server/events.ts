/**
 * The event history: who applied or removed what, container actions and observed state changes,
 * recorded in the transaction of the change they describe, kept for a bounded time and count,
 * and followed by long-polls on the event id.
 */
import {
  type EventKind,
  type EventPage,
  type EventRecord,
  type FieldChange,
  stateLabel,
  type StateReport,
} from "../api/schemas.ts";
import { MAX_EVENTS_LIMIT } from "../api/events.ts";
import type { Principal } from "./auth.ts";
import { type Clock, systemClock } from "../clock.ts";
import type { Step } from "./diff.ts";
import type { ContainerRow, EventRow, Store } from "./store/store.ts";
import { Waiters } from "./waiters.ts";
import { LocalWakeups, type Wakeup, type Wakeups } from "./wakeups.ts";

/** What one event says, before the log gives it an id and a time. */
export interface NewEvent {
  kind: EventKind;
  actor: string;
  manifest?: string;
  host?: string;
  container?: string;
  action?: string;
  from?: string;
  to?: string;
  changes?: FieldChange[];
  error?: string;
  /** The secret a `secret` event names: its name, never its value. */
  secret?: string;
}

/** Options of an event log. */
export interface EventLogOptions {
  /** How long events are kept (default 7 days). */
  retentionMs?: number;
  /** How many events are kept at most (default 100,000). */
  maxRows?: number;
  /** How many `wait` calls may be held at once (default 10,000). */
  maxWaiters?: number;
  /** The time events are stamped and aged with, and the timers of held waits. */
  clock?: Clock;
  /**
   * Whether every record prunes, in its transaction (default true: one server). Otherwise the
   * server holding the duty lease calls `prune` (several servers).
   */
  pruneOnRecord?: boolean;
  /** How commits wake followers here and on other servers (default: this process only). */
  wakeups?: Wakeups;
}

/** Which events to read. */
export interface EventFilter {
  manifest?: string;
  host?: string;
  /** Only events at or after this time (milliseconds since the epoch). */
  since?: number;
  /** Only events with a greater id, oldest first; without it, the newest `limit` events. */
  after?: number;
  limit?: number;
}

/** Who an event names when the caller's token is not known. */
export const DEFAULT_ACTOR = "admin";

/** The default retention: 7 days or 100,000 events, whichever is reached first. */
const DEFAULT_EVENTS_RETENTION_MS = 7 * 86_400_000;
const DEFAULT_EVENTS_MAX_ROWS = 100_000;
/** How many events one read returns by default (at most `MAX_EVENTS_LIMIT`, the contract's). */
const DEFAULT_EVENTS_LIMIT = 1000;

const DEFAULT_MAX_WAITERS = 10_000;
/** The most rows one prune deletes, so that no change waits long on one. */
const PRUNE_BATCH = 5000;
/** How often old events are looked for, at most. */
const AGE_PRUNE_EVERY_MS = 60_000;
/** Every follower waits on the one key: any new event may be one it wants. */
const ANY_EVENT = "any";

/** How an event names a caller: `token 3f2a1b9c04de (admin)`, or `admin` when none is known. */
export function actorName(principal: Principal | undefined): string {
  if (principal === undefined) return DEFAULT_ACTOR;
  const scope = principal.host === undefined
    ? principal.role
    : `${principal.role} ${principal.host}`;
  return `token ${principal.tokenId} (${scope})`;
}

/** The events of an applied manifest: one per container it creates, changes or removes. */
export function upEvents(manifest: string, steps: Step[], actor: string): NewEvent[] {
  return steps.flatMap((step): NewEvent[] => {
    if (step.action === "unchanged") return [];
    if (step.action === "remove") {
      const { host, name } = step.row;
      return [{ kind: "up", actor, manifest, host, container: name, action: "remove" }];
    }
    const event: NewEvent = {
      kind: "up",
      actor,
      manifest,
      ...(step.normalized.host === "" ? {} : { host: step.normalized.host }),
      container: step.spec.name,
      action: step.action,
    };
    if (step.action !== "create") event.changes = step.changes;
    return [event];
  });
}

/** The events of a removed manifest: one per container, or one for a manifest without any. */
export function downEvents(manifest: string, rows: ContainerRow[], actor: string): NewEvent[] {
  if (rows.length === 0) return [{ kind: "down", actor, manifest, action: "remove" }];
  return rows.map((row) => ({
    kind: "down",
    actor,
    manifest,
    host: row.host,
    container: row.name,
    action: "remove",
  }));
}

/** The event of a report, when it changes what `ps` shows for the container (else undefined). */
export function stateEvent(
  row: ContainerRow,
  report: StateReport,
  actor: string,
): NewEvent | undefined {
  const from = stateLabel(row.state, row.exit_code, row.health);
  const to = stateLabel(report.state, report.exitCode, report.health);
  if (from === to) return undefined;
  const event: NewEvent = {
    kind: "state",
    actor,
    manifest: row.manifest,
    host: row.host,
    container: row.name,
    from,
    to,
  };
  if (report.error !== undefined) event.error = report.error;
  return event;
}

/** A stored event as the API shows it, without absent fields. */
function toRecord(row: EventRow): EventRecord {
  const record: EventRecord = {
    id: row.id,
    time: row.at,
    kind: row.kind as EventKind,
    actor: row.actor,
  };
  if (row.manifest !== null) record.manifest = row.manifest;
  if (row.host !== null) record.host = row.host;
  if (row.container !== null) record.container = row.container;
  if (row.action !== null) record.action = row.action;
  if (row.old_state !== null) record.from = row.old_state;
  if (row.new_state !== null) record.to = row.new_state;
  if (row.changes !== null) record.changes = JSON.parse(row.changes) as FieldChange[];
  if (row.error !== null) record.error = row.error;
  if (row.secret !== null) record.secret = row.secret;
  return record;
}

/** The event history over a store. */
export class EventLog {
  readonly retentionMs: number;
  readonly maxRows: number;
  /** Whether every record prunes; else `prune` is a cluster duty. */
  readonly pruneOnRecord: boolean;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #waits: Waiters<typeof ANY_EVENT>;
  readonly #wakeups: Wakeups;
  readonly #unsubscribe: () => void;
  /** What the store holds, as counted at the last prune plus the inserts since. */
  #rows = 0;
  #lastAgePrune = -Infinity;
  #wakeQueued = false;
  /**
   * The last event id followers were woken for: a wake-up not above it was acted on already (a
   * server hears its own), and a wait that saw it move must not wait.
   */
  #wokenAt = 0;
  /** The re-read in progress: one at a time. */
  #rereading: Promise<void> | undefined;

  private constructor(store: Store, options: EventLogOptions) {
    this.#store = store;
    this.retentionMs = options.retentionMs ?? DEFAULT_EVENTS_RETENTION_MS;
    this.maxRows = options.maxRows ?? DEFAULT_EVENTS_MAX_ROWS;
    this.pruneOnRecord = options.pruneOnRecord ?? true;
    this.#clock = options.clock ?? systemClock;
    this.#waits = new Waiters({
      max: options.maxWaiters ?? DEFAULT_MAX_WAITERS,
      clock: this.#clock,
    });
    this.#wakeups = options.wakeups ?? new LocalWakeups();
    this.#unsubscribe = this.#wakeups.subscribe((wakeup) => this.#heard(wakeup));
  }

  /**
   * The event log of a store: counts what it holds and, when every record prunes, prunes what
   * is past keeping.
   */
  static async open(store: Store, options: EventLogOptions = {}): Promise<EventLog> {
    const log = new EventLog(store, options);
    if (log.pruneOnRecord) {
      log.#rows = await store.countEvents();
      await store.transaction((tx) => log.#prune(tx));
    }
    return log;
  }

  /**
   * Stores events; call it inside the transaction of the change they describe (`tx`), so both
   * are written or neither. Followers are woken once the transaction has committed.
   */
  async record(tx: Store, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    const at = new Date(this.#clock.now()).toISOString();
    await tx.transaction(async (tx) => {
      const last = await tx.insertEvents(events.map((e) => ({
        at,
        kind: e.kind,
        actor: e.actor,
        manifest: e.manifest ?? null,
        host: e.host ?? null,
        container: e.container ?? null,
        action: e.action ?? null,
        old_state: e.from ?? null,
        new_state: e.to ?? null,
        changes: e.changes === undefined ? null : JSON.stringify(e.changes),
        error: e.error ?? null,
        secret: e.secret ?? null,
      })));
      if (this.pruneOnRecord) {
        this.#rows += events.length;
        await this.#prune(tx);
      }
      tx.onCommit(() => this.#wakeups.publish([], last));
    });
  }

  /**
   * Deletes events past keeping, in `tx`: the cluster duty of the server holding the lease when
   * records do not prune. It counts what the store holds first, since other servers insert too.
   */
  async prune(tx: Store): Promise<void> {
    this.#rows = await tx.countEvents();
    await this.#prune(tx);
  }

  /** Events matching `filter`, by id, and the id to read on from (`after` of the next read). */
  list(filter: EventFilter = {}): Promise<EventPage> {
    const limit = Math.min(filter.limit ?? DEFAULT_EVENTS_LIMIT, MAX_EVENTS_LIMIT);
    const oldest = this.#clock.now() - this.retentionMs;
    const query = {
      after: filter.after ?? 0,
      since: new Date(Math.max(filter.since ?? oldest, oldest)).toISOString(),
      manifest: filter.manifest ?? null,
      host: filter.host ?? null,
      limit,
    };
    // Both reads run in one transaction, so no event can come between them.
    return this.#store.transaction(async (tx) => {
      const last = await tx.lastEventId();
      if (filter.after === undefined) {
        return { events: (await tx.lastEvents(query)).map(toRecord), last };
      }
      const rows = await tx.firstEvents(query);
      // A full page may have more behind it: read on from its last event, not from the newest.
      const next = rows.length === limit ? rows[rows.length - 1].id : last;
      return { events: rows.map(toRecord), last: next };
    });
  }

  /**
   * Resolves `true` once an event with an id above `afterId` is recorded (at once when one is),
   * `false` when `timeoutMs` runs out, `signal` aborts or the server shuts down. Rejects with
   * `OverloadedError` when too many calls are already held.
   */
  async wait(afterId: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      const woken = this.#wokenAt;
      if (await this.#store.lastEventId() > afterId) return true;
      // Events committed while the id was read woke nobody yet waiting: look again.
      if (this.#wokenAt !== woken) continue;
      // A wake-up for events this wait has already seen holds on for the rest of the time.
      const end = await this.#waits.wait(ANY_EVENT, deadline - this.#clock.now(), signal);
      if (end !== "woken") return false;
    }
  }

  /** How many `wait` calls are being held right now. */
  get heldWaiters(): number {
    return this.#waits.held;
  }

  /** Releases every held `wait` and answers new ones at once (server shutdown). */
  releaseWaiters(): void {
    this.#waits.close();
  }

  /** Stops hearing wake-ups, releases held waits and waits for the re-read in progress. */
  async close(): Promise<void> {
    this.#unsubscribe();
    this.releaseWaiters();
    await this.#rereading;
  }

  /** What a wake-up says to the followers held here. */
  #heard(wakeup: Wakeup): void {
    if (wakeup.kind === "changed") {
      if (wakeup.lastEventId !== undefined) this.#wake(wakeup.lastEventId);
    } else if (this.#waits.held > 0) {
      // Only the re-read finds what a lost notification would have said.
      this.#rereading ??= this.#store.lastEventId()
        .then((id) => this.#wake(id), () => {}) // A failed read: the next re-read tries again.
        .finally(() => this.#rereading = undefined);
    }
  }

  /**
   * Wakes followers for events up to `lastId`, unless they were woken for those already; once
   * however many commits a turn of the event loop brought.
   */
  #wake(lastId: number): void {
    if (lastId <= this.#wokenAt) return;
    this.#wokenAt = lastId;
    if (this.#wakeQueued) return;
    this.#wakeQueued = true;
    queueMicrotask(() => {
      this.#wakeQueued = false;
      this.#waits.wakeAll();
    });
  }

  /**
   * Deletes, a batch at a time, events beyond the row limit (down to 1% under it, so that the
   * next prune is 1% of inserts away) and, at most once a minute, events past the retention.
   */
  async #prune(tx: Store): Promise<void> {
    if (this.#rows > this.maxRows) {
      const slack = Math.min(PRUNE_BATCH, Math.floor(this.maxRows / 100));
      await tx.pruneEventsBeyond(this.maxRows - slack, PRUNE_BATCH);
      this.#rows = await tx.countEvents();
    }
    const now = this.#clock.now();
    if (now - this.#lastAgePrune < AGE_PRUNE_EVERY_MS) return;
    const cutoff = new Date(now - this.retentionMs).toISOString();
    const deleted = await tx.pruneEventsBefore(cutoff, PRUNE_BATCH);
    this.#rows -= deleted;
    // A full batch may have left more behind: look again at the next insert.
    if (deleted < PRUNE_BATCH) this.#lastAgePrune = now;
  }
}
