/**
 * The agent's state reports. Keys are queued as things change; reports close together go out in
 * one request, and only one request is in flight, so an older observation can never land after a
 * newer one. What a report says is read when it is sent, not when it was queued. A batch the
 * client could not deliver to any server is kept and sent again (with backoff) until one hears it;
 * a server that could not be reached is left for the next at once by the client itself.
 *
 * The agent's own figures (`AgentMetrics`) ride along with every batch; when they change and no
 * report is due, they go out on their own, at most once per `metricsEveryMs` (the first time at
 * once), so that an idle agent adds few requests to its long-poll.
 */
import type { AgentMetrics, StateBatch, StateReport } from "../api/schemas.ts";
import { Backoff } from "./backoff.ts";
import type { Clock } from "../clock.ts";
import { errorMessage } from "../errors.ts";

/** What the reporter needs. */
export interface ReporterOptions {
  clock: Clock;
  /** The agent's host: every report names it. */
  host: string;
  /** Sends a batch to the server. */
  send: (batch: StateBatch) => Promise<void>;
  /** The agent's figures as they stand now. */
  metrics: () => AgentMetrics;
  /** How often changed figures go out on their own, at most (default 30 s). */
  metricsEveryMs?: number;
  /**
   * The report for a key as things stand now, with the generation it describes (reports of a
   * new intent are sent even when they read the same); undefined when there is nothing to say.
   */
  build: (key: string) => { report: StateReport; generation: number } | undefined;
  log: (line: string) => void;
  /** How long a batch waits for more keys (default 5 ms). */
  batchMs?: number;
  /** Stops the retries. */
  signal: AbortSignal;
}

/** Batches, orders and retries one agent's reports. */
export class Reporter {
  readonly #opts: ReporterOptions;
  readonly #backoff = new Backoff(250, 5000);
  readonly #lastSent = new Map<string, string>();
  #queued = new Set<string>();
  #scheduled = false;
  #failing = false;
  /** The figures last sent, as JSON. */
  #metricsSent: string | undefined;
  /** When figures last went out on their own (clock ms). */
  #metricsAloneAt = -Infinity;
  /** Whether changed figures are due even with no report to send. */
  #metricsDue = false;

  constructor(opts: ReporterOptions) {
    this.#opts = opts;
  }

  /** Queues keys for a report. */
  schedule(keys: Iterable<string>): void {
    for (const key of keys) this.#queued.add(key);
    if (this.#scheduled || (this.#queued.size === 0 && !this.#metricsDue)) return;
    this.#scheduled = true;
    void this.#run();
  }

  /** Says that the figures may have changed: they go out when changed and not sent lately. */
  metricsChanged(): void {
    const every = this.#opts.metricsEveryMs ?? 30_000;
    if (this.#opts.clock.now() - this.#metricsAloneAt < every) return;
    if (JSON.stringify(this.#opts.metrics()) === this.#metricsSent) return;
    this.#metricsDue = true;
    this.schedule([]);
  }

  /** Forgets what was sent for a key, so the next report goes out even if it reads the same. */
  resend(key: string): void {
    this.#lastSent.delete(key);
    this.schedule([key]);
  }

  /** Forgets keys the server no longer lists. */
  prune(keep: (key: string) => boolean): void {
    for (const key of [...this.#lastSent.keys()]) if (!keep(key)) this.#lastSent.delete(key);
  }

  /** Sends batches until nothing is queued; one request at a time. */
  async #run(): Promise<void> {
    const { clock, signal } = this.#opts;
    while ((this.#queued.size > 0 || this.#metricsDue) && !signal.aborted) {
      await clock.sleep(this.#opts.batchMs ?? 5, signal);
      const batch = this.#queued;
      this.#queued = new Set();
      const ok = await this.#send(batch);
      if (!ok) {
        // Kept for the next try: the server must hear what happened while it was away.
        for (const key of batch) this.#queued.add(key);
        await clock.sleep(this.#backoff.next(), signal);
      }
    }
    this.#scheduled = false;
  }

  async #send(keys: Set<string>): Promise<boolean> {
    const out: { key: string; body: string; report: StateReport }[] = [];
    for (const key of keys) {
      const built = this.#opts.build(key);
      if (built === undefined) continue;
      const body = JSON.stringify([built.generation, built.report]);
      if (this.#lastSent.get(key) !== body) out.push({ key, body, report: built.report });
    }
    if (out.length === 0 && !this.#metricsDue) return true;
    const metrics = this.#opts.metrics();
    try {
      await this.#opts.send({
        host: this.#opts.host,
        reports: out.map((r) => r.report),
        agent: metrics,
      });
    } catch (error) {
      if (!this.#failing) {
        const reason = errorMessage(error);
        this.#opts.log(`cannot report states: ${reason}; retrying`);
      }
      this.#failing = true;
      return false;
    }
    for (const r of out) this.#lastSent.set(r.key, r.body);
    this.#metricsSent = JSON.stringify(metrics);
    if (out.length === 0) this.#metricsAloneAt = this.#opts.clock.now();
    this.#metricsDue = false;
    this.#backoff.reset();
    if (this.#failing) this.#opts.log("reporting states again");
    this.#failing = false;
    return true;
  }
}
