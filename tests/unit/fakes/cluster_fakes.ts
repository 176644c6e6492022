/**
 * Stand-ins for what several servers share: wake-ups whose notifications the test delivers (or
 * loses) and whose re-read it triggers, and a duty lease the test hands over.
 */
import type { DutyHolder, DutyLease } from "../../../src/server/duty_lease.ts";
import { changed, type HostIndex, LocalWakeups, type Wakeup } from "../../../src/server/wakeups.ts";

/**
 * One server's wake-ups: `publish` reaches this server's subscribers at once, as the real ones
 * do, and nothing else; what another server hears is up to the test (`deliver`), as is the
 * periodic re-read (`reread`). Every notification is lost until the test delivers it.
 */
export class ManualWakeups extends LocalWakeups {
  override readonly kind = "postgres";
  /** Everything published here, in order, for the test to deliver elsewhere. */
  readonly sent: Wakeup[] = [];

  override publish(hosts: readonly HostIndex[], lastEventId?: number): void {
    const wakeup = changed(hosts, lastEventId);
    if (wakeup !== undefined) this.sent.push(wakeup);
    super.publish(hosts, lastEventId);
  }

  /** Delivers a wake-up as a notification from another server would. */
  deliver(wakeup: Wakeup): void {
    this.emit(wakeup);
  }

  /** What the periodic re-read, or a listener that reconnected, says. */
  reread(): void {
    this.emit({ kind: "reread" });
  }
}

/** A lease the test gives and takes: `held` says whether this server holds it. */
export class SwitchLease implements DutyLease {
  held: boolean;
  readonly server: string;
  readonly shared = true;
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
