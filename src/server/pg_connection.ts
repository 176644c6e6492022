/**
 * A dedicated PostgreSQL connection that is made again whenever it ends: the wake-up listener
 * and the duty lease each keep one. node-postgres leaves a connection that died (the backend
 * terminated, the server restarted or crashed) ended for good, and ends the process when a
 * client without an `error` listener hears of it; this listens, says when the connection went
 * down, and connects again with a growing pause (100 ms up to 5 s) until it is closed.
 */
import pg from "pg";
import { type Clock, systemClock } from "../clock.ts";
import { errorMessage } from "../errors.ts";

/** The first pause before connecting again, doubled per failed attempt up to `MAX_BACKOFF_MS`. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;
/** How long a connection attempt may take before it counts as failed. */
const CONNECT_TIMEOUT_MS = 5000;
/**
 * TCP keepalive on our side, and asked of the server for its side of this session: a peer that
 * vanished (a machine that lost power) is noticed within about 15 s, not the system's 2 hours.
 */
const KEEPALIVE_IDLE_S = 5;
const KEEPALIVE_INTERVAL_S = 2;
const KEEPALIVE_COUNT = 5;

/** How to keep a connection. */
export interface KeptConnectionOptions {
  /** `postgres://...` */
  url: string;
  /** The session's `application_name`, as `pg_stat_activity` shows it (at most 63 bytes). */
  applicationName: string;
  /** Runs on each new connection before it counts as up (`LISTEN ...`); a throw drops it. */
  setup?: (client: pg.Client) => Promise<void>;
  /** Called when a connection is up, after `setup`. */
  onUp?: (client: pg.Client) => void;
  /** Called when a connection that was up has ended, before connecting again. */
  onDown?: (error: Error | undefined) => void;
  /** Where lost connections and failed attempts are said (once per outage). */
  log?: (line: string) => void;
  /** What the pauses between attempts are timed with (default the system clock). */
  clock?: Clock;
}

/** A connection kept up until `close`. */
export class KeptConnection {
  readonly #options: KeptConnectionOptions;
  readonly #clock: Clock;
  readonly #closing = new AbortController();
  #client: pg.Client | undefined;
  /** The client being connected or up, to end on `close`. */
  #current: pg.Client | undefined;
  readonly #loop: Promise<void>;

  constructor(options: KeptConnectionOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#loop = this.#run();
  }

  /** The connection while it is up (set up and not ended), else undefined. */
  get client(): pg.Client | undefined {
    return this.#client;
  }

  /** Ends the connection that is up, if any: a new one is made, as after any loss. */
  drop(): void {
    void this.#current?.end().catch(() => {});
  }

  /** Ends the connection and stops making new ones; resolves once it is closed. */
  async close(): Promise<void> {
    this.#closing.abort();
    await this.#current?.end().catch(() => {});
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#closing.signal;
    const closed = new Promise<void>((resolve) =>
      signal.addEventListener("abort", () => resolve(), { once: true })
    );
    let failures = 0;
    let outage: string | undefined;
    while (!signal.aborted) {
      const client = newClient(this.#options);
      let lastError: Error | undefined;
      let ended!: () => void;
      const gone = new Promise<void>((resolve) => ended = resolve);
      // Without this listener, a connection error would end the process.
      client.on("error", (error) => {
        lastError = error;
        ended();
      });
      client.on("end", () => ended());
      this.#current = client;
      try {
        await client.connect();
        await client.query(
          `SET tcp_keepalives_idle = ${KEEPALIVE_IDLE_S}; ` +
            `SET tcp_keepalives_interval = ${KEEPALIVE_INTERVAL_S}; ` +
            `SET tcp_keepalives_count = ${KEEPALIVE_COUNT}`,
        );
        await this.#options.setup?.(client);
      } catch (error) {
        await client.end().catch(() => {});
        this.#current = undefined;
        if (signal.aborted) break;
        const line = `cannot connect to PostgreSQL: ${errorMessage(error)}`;
        if (line !== outage) this.#options.log?.(`${this.#options.applicationName}: ${line}`);
        outage = line;
        await this.#clock.sleep(backoffMs(failures++), signal);
        continue;
      }
      if (signal.aborted) {
        await client.end().catch(() => {});
        break;
      }
      if (outage !== undefined) this.#options.log?.(`${this.#options.applicationName}: connected`);
      failures = 0;
      outage = undefined;
      this.#client = client;
      this.#options.onUp?.(client);
      await Promise.race([gone, closed]);
      this.#client = undefined;
      if (!signal.aborted) this.#options.onDown?.(lastError);
      await client.end().catch(() => {});
      this.#current = undefined;
      if (signal.aborted) break;
      outage = `connection lost${lastError ? `: ${errorMessage(lastError)}` : ""}`;
      this.#options.log?.(`${this.#options.applicationName}: ${outage}; connecting again`);
      await this.#clock.sleep(backoffMs(failures++), signal);
    }
  }
}

/** A client, not yet connected. */
function newClient(options: KeptConnectionOptions): pg.Client {
  return new pg.Client({
    connectionString: options.url,
    application_name: options.applicationName,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_S * 1000,
  });
}

/** The pause before the next attempt, after `failures` failed ones: doubling, with jitter. */
function backoffMs(failures: number): number {
  const ms = Math.min(FIRST_BACKOFF_MS * 2 ** failures, MAX_BACKOFF_MS);
  return ms / 2 + Math.random() * ms / 2;
}

/** `application_name` holds at most 63 bytes; longer names are cut by the server. */
export function applicationName(text: string): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= 63) return text;
  return new TextDecoder().decode(bytes.slice(0, 63)).replace(/\uFFFD$/, "");
}
