/**
 * The duty lease: cluster duties (rollouts, retiring replaced instances, placing, rescheduling
 * lost hosts, event retention) run on one server at a time, the one holding the lease. With one
 * server it always holds (`LocalLease`); with several on PostgreSQL, `PgDutyLease` holds an
 * advisory lock on a connection of its own, and another server takes over when it goes.
 */

/** Who holds the lease, and since when. */
export interface DutyHolder {
  /** The holder's server id (`host:port`, as `launcher status` shows it). */
  server: string;
  /** When it took the lease (ISO time). */
  since: string;
}

/** Which server runs the cluster duties. */
export interface DutyLease {
  /** This server's id. */
  readonly server: string;
  /**
   * Whether servers compete for it (several servers on one store). Event retention is then a
   * duty of the holder, since no server sees every record.
   */
  readonly shared: boolean;
  /**
   * Whether this server holds the lease right now: each duty starts only while it does. It
   * turns false as soon as the lease is known to be lost (its connection ended).
   */
  holding(): boolean;
  /** Who holds the lease now (undefined: nobody); rejects when that cannot be found out now. */
  holder(): Promise<DutyHolder | undefined>;
  /** Gives the lease up; another server may take it at once. Closing again does nothing. */
  close(): Promise<void>;
}

/** The lease of a server that shares its store with nobody: held from start to close. */
export class LocalLease implements DutyLease {
  readonly server: string;
  readonly shared = false;
  readonly #since: string;
  #closed = false;

  constructor(server: string, now: number = Date.now()) {
    this.server = server;
    this.#since = new Date(now).toISOString();
  }

  holding(): boolean {
    return !this.#closed;
  }

  holder(): Promise<DutyHolder | undefined> {
    return Promise.resolve(
      this.#closed ? undefined : { server: this.server, since: this.#since },
    );
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
