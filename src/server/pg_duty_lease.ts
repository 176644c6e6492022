/**
 * The duty lease on PostgreSQL: a session-level advisory lock, `pg_try_advisory_lock(LOCK_KEY)`,
 * taken on a connection of its own. Advisory locks belong to one database, so the servers of one
 * store compete for it and those of another do not. A server that does not hold it tries again
 * every `tryEveryMs` (1 s); the holder checks every `tryEveryMs` that its session still holds it.
 * The lock ends with its session: when the holder's connection dies (its backend terminated, the
 * database restarted, the server process killed), PostgreSQL releases it at once and the next
 * try of another server takes it, so duties move within about a second. The holder stops at once
 * too: `holding()` is false from the moment its connection is known to be gone, or a check failed
 * or took longer than `tryEveryMs`; it then steps back for two turns before it tries again, so
 * that a server whose connection is sound takes over rather than the one whose connection just
 * failed. A server machine that vanishes without closing its
 * connection holds the lock until PostgreSQL's TCP keepalive, asked for about 15 s, gives up on
 * it.
 *
 * Who holds it is in PostgreSQL itself: on taking the lock, the session sets its
 * `application_name` to `launcher duties <since, Unix ms> <server id>`, and `holder()` reads it
 * from `pg_locks` joined with `pg_stat_activity` (readable by every role).
 */
import type pg from "pg";
import { type Clock, systemClock } from "../clock.ts";
import { errorMessage } from "../errors.ts";
import type { DutyHolder, DutyLease } from "./duty_lease.ts";
import { applicationName, KeptConnection } from "./pg_connection.ts";

/** The advisory lock's two keys: "laun" in ASCII, and 1 for the cluster duties. */
export const LOCK_KEY = [0x6c61756e, 1] as const;
const DEFAULT_TRY_EVERY_MS = 1000;
/** How the holding session names itself; `holder()` reads it back. */
const HOLDER_PREFIX = "launcher duties ";

/** Takes the lock and, when it got it, says so in `application_name`, in one statement. */
const TRY_SQL = `SELECT CASE WHEN pg_try_advisory_lock($1, $2)
  THEN set_config('application_name',
    left('${HOLDER_PREFIX}' || (extract(epoch FROM clock_timestamp()) * 1000)::bigint || ' ' || $3, 63),
    false)
  END AS name`;
/** Whether this session still holds the lock (a row per lock held). */
const CHECK_SQL = `SELECT count(*)::int AS held FROM pg_locks
  WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND granted
    AND classid = $1::oid AND objid = $2::oid AND objsubid = 2`;
/** The session holding the lock in this database, if any. */
const HOLDER_SQL = `SELECT a.application_name AS name FROM pg_locks l
  JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 2`;

/** How to reach the database, and who this server is. */
export interface PgDutyLeaseOptions {
  /** `postgres://...` */
  url: string;
  /** This server's id, as `holder()` and `launcher status` name it. */
  server: string;
  /** How often a server that does not hold the lease tries to take it (default 1 s). */
  tryEveryMs?: number;
  log?: (line: string) => void;
  clock?: Clock;
}

/** The duty lease as an advisory lock. */
export class PgDutyLease implements DutyLease {
  readonly server: string;
  readonly shared = true;
  readonly #connection: KeptConnection;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #tryEveryMs: number;
  readonly #closing = new AbortController();
  readonly #loop: Promise<void>;
  /** The connection whose session holds the lock; the lease is held while it is the one up. */
  #heldOn: pg.Client | undefined;
  /** The turn in progress: one at a time. */
  #turning: Promise<void> | undefined;
  /** After losing the lease, this server does not try to take it before this time. */
  #stepBackUntil = -Infinity;

  constructor(options: PgDutyLeaseOptions) {
    this.server = options.server;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? (() => {});
    this.#tryEveryMs = options.tryEveryMs ?? DEFAULT_TRY_EVERY_MS;
    this.#connection = new KeptConnection({
      url: options.url,
      applicationName: applicationName(`launcher lease ${options.server}`),
      clock: this.#clock,
      log: this.#log,
      // A new session holds nothing: try at once rather than at the next turn.
      onUp: () => void this.#turn(),
      onDown: () => this.#lost("its connection ended"),
    });
    this.#loop = this.#run();
  }

  holding(): boolean {
    return this.#heldOn !== undefined && this.#heldOn === this.#connection.client;
  }

  async holder(): Promise<DutyHolder | undefined> {
    const client = this.#connection.client;
    if (client === undefined) throw new Error("not connected to PostgreSQL");
    const { rows } = await client.query<{ name: string }>(HOLDER_SQL, [...LOCK_KEY]);
    return rows.length === 0 ? undefined : parseHolder(rows[0].name);
  }

  /** Gives the lease up (its session ends) and stops trying. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    this.#heldOn = undefined;
    await this.#loop;
    await this.#connection.close();
  }

  async #run(): Promise<void> {
    const signal = this.#closing.signal;
    while (!signal.aborted) {
      await this.#clock.sleep(this.#tryEveryMs, signal);
      if (!signal.aborted) await this.#turn();
    }
  }

  /** One turn: take the lock when not holding it, else check that the session still holds it. */
  #turn(): Promise<void> {
    this.#turning ??= this.#turnOnce().finally(() => this.#turning = undefined);
    return this.#turning;
  }

  async #turnOnce(): Promise<void> {
    const client = this.#connection.client;
    if (client === undefined || this.#closing.signal.aborted) return;
    if (!this.holding() && this.#clock.now() < this.#stepBackUntil) return;
    try {
      if (this.holding()) {
        const { rows } = await within(
          client.query<{ held: number }>(CHECK_SQL, [...LOCK_KEY]),
          this.#tryEveryMs,
          this.#clock,
        );
        if (rows[0].held === 0) this.#lost("its session no longer holds the lock");
        return;
      }
      const { rows } = await client.query<{ name: string | null }>(TRY_SQL, [
        ...LOCK_KEY,
        this.server,
      ]);
      if (rows[0].name === null || this.#closing.signal.aborted) return;
      this.#heldOn = client;
      this.#log(`duties: ${this.server} holds the duty lease`);
    } catch (error) {
      if (client !== this.#connection.client) return; // Its end is reported by onDown.
      // A session that cannot answer may have lost the lock: stop, and start on a new one.
      this.#lost(errorMessage(error));
      this.#connection.drop();
    }
  }

  #lost(why: string): void {
    if (this.#heldOn === undefined) return;
    this.#heldOn = undefined;
    this.#stepBackUntil = this.#clock.now() + 2 * this.#tryEveryMs;
    if (!this.#closing.signal.aborted) this.#log(`duties: lost the duty lease: ${why}`);
  }
}

/** The holder named by a session's `application_name`. */
export function parseHolder(name: string): DutyHolder {
  const match = /^launcher duties (\d+) (.*)$/.exec(name);
  // A session that took the lock a moment ago may not have renamed itself yet.
  if (match === null) {
    return { server: name.replace(/^launcher lease /, ""), since: new Date().toISOString() };
  }
  return { server: match[2], since: new Date(Number(match[1])).toISOString() };
}

/** `promise`, or a rejection once `ms` have passed without it settling. */
function within<T>(promise: Promise<T>, ms: number, clock: Clock): Promise<T> {
  let timer: unknown;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clock.clearTimeout(timer));
}
