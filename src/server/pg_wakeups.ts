/**
 * Wake-ups across the servers of one PostgreSQL database. Each commit's wake-ups go out as one
 * `NOTIFY launcher_wake, '<payload>'` after the commit, sent on a connection of their own; each
 * server listens on a dedicated connection, made again with a backoff whenever it ends.
 * PostgreSQL drops notifications sent while a listener is away, and a publish can fail, so the
 * notification is only the fast path: every `rereadEveryMs` (1 s), and after each reconnection,
 * subscribers hear `reread` and read again what they wait on. A lost notification costs at most
 * that long.
 *
 * The payload is JSON, never data, and stays under `MAX_PAYLOAD_BYTES` (PostgreSQL refuses
 * 8,000 bytes and more): `{"v":1,"h":{"host-a":41,"host-b":42},"e":1234}` says that host-a's
 * index moved to 41, host-b's to 42, and events up to id 1234 were written (`h` and `e` each
 * optional); `{"v":1,"all":true}` says "read everything again", sent instead when the hosts would
 * not fit. A server hears its own notifications too: they wake nothing, since it woke its own
 * waiters at once, and the indexes they carry are not above those it woke them for.
 */
import pg from "pg";
import { type Clock, systemClock } from "../clock.ts";
import { errorMessage } from "../errors.ts";
import { applicationName, KeptConnection } from "./pg_connection.ts";
import { changed, type HostIndex, Subscribers, type Wakeup, type Wakeups } from "./wakeups.ts";

/** The channel every server of a database listens on. */
export const WAKE_CHANNEL = "launcher_wake";
/** Well under PostgreSQL's limit of 8,000 bytes, so that a notification is never refused. */
export const MAX_PAYLOAD_BYTES = 4000;
/** The payload's format version: a server that reads another version re-reads everything. */
const PAYLOAD_VERSION = 1;
const DEFAULT_REREAD_EVERY_MS = 1000;

/** How to reach the database and how often to re-read. */
export interface PgWakeupsOptions {
  /** `postgres://...` */
  url: string;
  /** This server's id, in the connections' `application_name`. */
  server: string;
  /** How often subscribers hear `reread` (default 1 s). */
  rereadEveryMs?: number;
  /** The channel (default `launcher_wake`; tests use their own). */
  channel?: string;
  log?: (line: string) => void;
  clock?: Clock;
}

/** What one commit (or several, sent together) woke. */
export interface Pending {
  hosts: Map<string, number>;
  lastEventId?: number;
}

/** Wake-ups by NOTIFY and LISTEN, with a periodic re-read. */
export class PgWakeups implements Wakeups {
  readonly kind = "postgres";
  readonly #channel: string;
  readonly #subscribers = new Subscribers();
  readonly #listener: KeptConnection;
  readonly #sender: pg.Pool;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #closing = new AbortController();
  readonly #rereads: Promise<void>;
  #pending: Pending | undefined;
  /** The sending in progress: one NOTIFY at a time, what comes meanwhile goes in the next. */
  #sending: Promise<void> | undefined;
  #sendFailing = false;

  constructor(options: PgWakeupsOptions) {
    this.#channel = options.channel ?? WAKE_CHANNEL;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? (() => {});
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.#channel)) {
      throw new Error(`Invalid wake-up channel "${this.#channel}"`);
    }
    this.#listener = new KeptConnection({
      url: options.url,
      applicationName: applicationName(`launcher wake ${options.server}`),
      clock: this.#clock,
      log: this.#log,
      setup: async (client) => {
        client.on("notification", (message) => {
          if (message.channel === this.#channel) this.#heard(message.payload);
        });
        await client.query(`LISTEN ${this.#channel}`);
      },
      // Whatever was notified while no connection listened is lost: read everything again.
      onUp: () => this.#subscribers.emit({ kind: "reread" }),
    });
    this.#sender = new pg.Pool({
      connectionString: options.url,
      application_name: applicationName(`launcher notify ${options.server}`),
      max: 1,
      connectionTimeoutMillis: 5000,
      // Kept open while idle, so that the first wake-up after a quiet spell does not connect first.
      idleTimeoutMillis: 0,
      keepAlive: true,
    });
    // An idle connection of the pool that dies is reported here; the pool makes a new one.
    this.#sender.on("error", () => {});
    this.#rereads = this.#rereadEvery(options.rereadEveryMs ?? DEFAULT_REREAD_EVERY_MS);
  }

  publish(hosts: readonly HostIndex[], lastEventId?: number): void {
    const wakeup = changed(hosts, lastEventId);
    if (wakeup === undefined || this.#closing.signal.aborted) return;
    // This server's waiters first, at once; the others' when the notification reaches them.
    this.#subscribers.emit(wakeup);
    const pending: Pending = this.#pending ??= { hosts: new Map() };
    for (const { host, index } of hosts) {
      pending.hosts.set(host, Math.max(index, pending.hosts.get(host) ?? index));
    }
    if (lastEventId !== undefined) {
      pending.lastEventId = Math.max(lastEventId, pending.lastEventId ?? lastEventId);
    }
    this.#sending ??= this.#send();
  }

  subscribe(fn: (wakeup: Wakeup) => void): () => void {
    return this.#subscribers.add(fn);
  }

  listening(): boolean {
    return this.#listener.client !== undefined;
  }

  /** Ends the re-reads and the listener, waits for the notification being sent. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    this.#subscribers.clear();
    await this.#rereads;
    await this.#sending;
    await Promise.all([this.#listener.close(), this.#sender.end()]);
  }

  /**
   * Sends what is pending as one NOTIFY, and again while more came meanwhile. The wake-ups of
   * one transaction (its hosts, its events) are published together after its commit, before
   * this starts (a microtask later), so they go out together.
   */
  async #send(): Promise<void> {
    await Promise.resolve();
    while (this.#pending !== undefined) {
      const pending = this.#pending;
      this.#pending = undefined;
      try {
        await this.#sender.query("SELECT pg_notify($1, $2)", [this.#channel, encode(pending)]);
        if (this.#sendFailing) this.#log("wake-ups: notifying again");
        this.#sendFailing = false;
      } catch (error) {
        // Lost: the others' periodic re-read finds the change within a second.
        if (!this.#sendFailing) {
          this.#log(`wake-ups: cannot notify the other servers: ${errorMessage(error)}`);
        }
        this.#sendFailing = true;
      }
    }
    this.#sending = undefined;
  }

  #heard(payload: string | undefined): void {
    if (this.#closing.signal.aborted) return;
    this.#subscribers.emit(decode(payload));
  }

  async #rereadEvery(everyMs: number): Promise<void> {
    const signal = this.#closing.signal;
    while (!signal.aborted) {
      await this.#clock.sleep(everyMs, signal);
      if (!signal.aborted) this.#subscribers.emit({ kind: "reread" });
    }
  }
}

/** The payload of a notification: what moved, or "read everything again" when it would not fit. */
export function encode(pending: Pending): string {
  const body: { v: number; h?: Record<string, number>; e?: number } = { v: PAYLOAD_VERSION };
  if (pending.hosts.size > 0) body.h = Object.fromEntries(pending.hosts);
  if (pending.lastEventId !== undefined) body.e = pending.lastEventId;
  const text = JSON.stringify(body);
  if (new TextEncoder().encode(text).length <= MAX_PAYLOAD_BYTES) return text;
  return JSON.stringify({ v: PAYLOAD_VERSION, all: true });
}

/** What a notification says; anything unreadable asks for a re-read, which is always right. */
export function decode(payload: string | undefined): Wakeup {
  let body: unknown;
  try {
    body = JSON.parse(payload ?? "");
  } catch {
    return { kind: "reread" };
  }
  if (typeof body !== "object" || body === null) return { kind: "reread" };
  const { v, h, e, all } = body as Record<string, unknown>;
  if (v !== PAYLOAD_VERSION || all === true) return { kind: "reread" };
  const hosts: HostIndex[] = [];
  if (h !== undefined) {
    if (typeof h !== "object" || h === null || Array.isArray(h)) return { kind: "reread" };
    for (const [host, index] of Object.entries(h)) {
      if (!Number.isSafeInteger(index)) return { kind: "reread" };
      hosts.push({ host, index: index as number });
    }
  }
  if (e !== undefined && !Number.isSafeInteger(e)) return { kind: "reread" };
  return changed(hosts, e as number | undefined) ?? { kind: "reread" };
}
