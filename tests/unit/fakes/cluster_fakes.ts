/**
 * Stand-ins for what several servers share: wake-ups whose notifications the test delivers (or
 * loses) and whose re-read it triggers, and a duty lease the test hands over.
 */
import type { DutyHolder, DutyLease } from "../../../src/server/duty_lease.ts";
import {
  changed,
  type HostIndex,
  Subscribers,
  type Wakeup,
  type Wakeups,
} from "../../../src/server/wakeups.ts";

/**
 * One server's wake-ups: `publish` reaches this server's subscribers at once, as the real ones
 * do, and nothing else; what another server hears is up to the test (`deliver`), as is the
 * periodic re-read (`reread`). Every notification is lost until the test delivers it.
 */
export class ManualWakeups implements Wakeups {
  readonly kind = "postgres";
  readonly #subscribers = new Subscribers();
  /** Everything published here, in order, for the test to deliver elsewhere. */
  readonly sent: Wakeup[] = [];

  publish(hosts: readonly HostIndex[], lastEventId?: number): void {
    const wakeup = changed(hosts, lastEventId);
    if (wakeup === undefined) return;
    this.sent.push(wakeup);
    this.#subscribers.emit(wakeup);
  }

  /** Delivers a wake-up as a notification from another server would. */
  deliver(wakeup: Wakeup): void {
    this.#subscribers.emit(wakeup);
  }

  /** What the periodic re-read, or a listener that reconnected, says. */
  reread(): void {
    this.#subscribers.emit({ kind: "reread" });
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

/** A lease the test gives and takes: `held` says whether this server holds it. */
export class SwitchLease implements DutyLease {
  held: boolean;
  readonly server: string;
  since = "2026-01-01T00:00:00.000Z";

  constructor(server: string, held: boolean) {
    this.server = server;
    this.held = held;
  }

  holding(): boolean {
    return this.held;
  }

  holder(): Promise<DutyHolder | undefined> {
    return Promise.resolve(this.held ? { server: this.server, since: this.since } : undefined);
  }

  close(): Promise<void> {
    this.held = false;
    return Promise.resolve();
  }
}
