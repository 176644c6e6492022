/**
 * Wake-ups: after a commit, the owners of held requests (the planner for agents' long-polls, the
 * event log for follows) learn which host indexes moved and up to which event id events were
 * written, on this server and on every other server of the same store. A wake-up carries no
 * data: whoever is woken reads the store again. With one server (SQLite) nothing crosses a
 * process (`LocalWakeups`); with several (PostgreSQL) `PgWakeups` sends each commit's wake-ups
 * as one small NOTIFY and re-reads periodically, since a notification can be lost.
 */

/** A host whose index moved, and the index it moved to. */
export interface HostIndex {
  host: string;
  index: number;
}

/** What a subscriber hears. */
export type Wakeup =
  /**
   * A commit moved these hosts' indexes, and wrote events up to `lastEventId` (when it wrote
   * any). Heard for this server's commits at once, for others' when their notification comes.
   */
  | { kind: "changed"; hosts: readonly HostIndex[]; lastEventId?: number }
  /**
   * Anything may have changed unheard (the periodic re-read, a listener that reconnected, a
   * wake-up too large to send): read again what is waited on, and wake what moved.
   */
  | { kind: "reread" };

/** How a server hears about commits: its own, and those of the servers it shares a store with. */
export interface Wakeups {
  /** `in-process` (one server) or `postgres` (several), for `launcher status`. */
  readonly kind: "in-process" | "postgres";
  /**
   * Tells every subscriber, here at once and on other servers soon, that a commit moved these
   * host indexes and wrote events up to `lastEventId`. Call it once the commit is done (from
   * `onCommit`); it never throws and never waits.
   */
  publish(hosts: readonly HostIndex[], lastEventId?: number): void;
  /** Calls `fn` with every wake-up until the returned function is called; `fn` must not throw. */
  subscribe(fn: (wakeup: Wakeup) => void): () => void;
  /** Whether wake-ups from other servers can arrive right now (always true in-process). */
  listening(): boolean;
  /** Stops; waits for what it was sending. Closing again does nothing. */
  close(): Promise<void>;
}

/** The wake-up of a commit, or undefined when it moved nothing. */
export function changed(hosts: readonly HostIndex[], lastEventId?: number): Wakeup | undefined {
  if (hosts.length === 0 && lastEventId === undefined) return undefined;
  return { kind: "changed", hosts, ...(lastEventId === undefined ? {} : { lastEventId }) };
}

/** The subscribers of a `Wakeups`, called in the order they subscribed. */
export class Subscribers {
  readonly #fns = new Set<(wakeup: Wakeup) => void>();

  /** Adds `fn`; the returned function removes it. */
  add(fn: (wakeup: Wakeup) => void): () => void {
    // A function of its own per subscription, so that the same `fn` twice is two subscriptions.
    const entry = (wakeup: Wakeup) => fn(wakeup);
    this.#fns.add(entry);
    return () => void this.#fns.delete(entry);
  }

  /** Calls every subscriber with `wakeup`. */
  emit(wakeup: Wakeup): void {
    for (const fn of [...this.#fns]) fn(wakeup);
  }

  /** Removes every subscriber. */
  clear(): void {
    this.#fns.clear();
  }
}

/**
 * Wake-ups within one process: `publish` calls every subscriber at once, and nothing crosses a
 * process (one server on SQLite). Tests share one between two planners over one store to play
 * two servers.
 */
export class LocalWakeups implements Wakeups {
  readonly kind: Wakeups["kind"] = "in-process";
  readonly #subscribers = new Subscribers();

  publish(hosts: readonly HostIndex[], lastEventId?: number): void {
    const wakeup = changed(hosts, lastEventId);
    if (wakeup !== undefined) this.emit(wakeup);
  }

  /** Calls every subscriber with `wakeup`, as `publish` does (tests play other servers with it). */
  emit(wakeup: Wakeup): void {
    this.#subscribers.emit(wakeup);
  }

  subscribe(fn: (wakeup: Wakeup) => void): () => void {
    return this.#subscribers.add(fn);
  }

  listening(): boolean {
    return true;
  }

  close(): Promise<void> {
    this.#subscribers.clear();
    return Promise.resolve();
  }
}
