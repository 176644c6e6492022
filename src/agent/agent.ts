/**
 * The agent: pulls the host's desired list from the server, makes the local engine match it, and
 * reports what it observes. Its parts each have one job: the puller (long-poll), the reconciler
 * (passes and per-container work), the watcher (engine events), the reporter (ordered, batched
 * reports) and the log side; the engine view is what they share.
 */
import type { ContainerStatus, HostDesired, StateBatch, StateReport } from "../api/schemas.ts";
import { ApiError } from "../client/errors.ts";
import type { ContainerEvent, Engine } from "../docker/engine.ts";
import { type Clock, systemClock } from "../clock.ts";
import { DEFAULT_ENGINE_TIMEOUT_MS } from "./deadline.ts";
import { CountingEngine } from "./engine_errors.ts";
import { EngineView, type Seen } from "./engine_view.ts";
import { Failures } from "./failures.ts";
import { containerKey, engineName, type Identity, LABEL_SPEC_HASH } from "./labels.ts";
import { AgentLogs } from "./logs.ts";
import { observedReport } from "./observe.ts";
import { type AgentApi, pullDesired } from "./puller.ts";
import { keyOf, Reconciler } from "./reconciler.ts";
import { Registration } from "./registration.ts";
import type { CredentialLookup } from "./registry_auth.ts";
import { Reporter } from "./reporter.ts";
import { watchEngine } from "./watcher.ts";

/** How an agent is set up. */
export interface AgentOptions {
  api: AgentApi;
  engine: Engine;
  host: string;
  /** Period of the full re-check (one list call). */
  intervalMs: number;
  /** How many containers are worked on at once. */
  parallel: number;
  /** The deadline of a non-streaming engine call (default 30 s). */
  engineTimeoutMs?: number;
  /** How long one long-poll may be held by the server. */
  waitMs?: number;
  /** The registry credentials of a pull (none: every pull goes without). */
  credentials?: CredentialLookup;
  /** Labels of this host (`--label key=value`), sent when it registers. */
  labels?: Record<string, string>;
  log?: (line: string) => void;
  /** The clock every wait goes through (tests move it by hand). */
  clock?: Clock;
  /** How long a report batch waits for more (default 5 ms). */
  reportBatchMs?: number;
  /** How often changed figures (reconcile time, engine errors) go out on their own (default 30 s). */
  metricsEveryMs?: number;
}

/** One agent for one host and one engine. */
export class Agent {
  readonly #view: EngineView;
  readonly #opts: AgentOptions;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #me: Identity;
  readonly #failures: Failures;
  readonly #pulling = new Set<string>();
  #reconciler?: Reconciler;
  #reporter?: Reporter;
  /** How long the last reconcile pass took, in seconds (sent with the reports). */
  #reconcileSeconds = 0;
  /** Whether the server refused the batch form (older than this agent): plain lists go instead. */
  #plainReports = false;

  constructor(opts: AgentOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#view = new EngineView(() => this.#clock.now());
    this.#log = opts.log ?? (() => {});
    this.#me = { host: opts.host };
    this.#failures = new Failures(this.#log);
  }

  /** Runs the agent's loops until `signal` aborts; containers are left as they are. */
  async run(signal: AbortSignal): Promise<void> {
    const { api, host, intervalMs } = this.#opts;
    const engine = new CountingEngine(this.#opts.engine);
    const clock = this.#clock;
    const log = this.#log;
    const reporter = new Reporter({
      clock,
      host,
      send: (batch) => this.#send(batch),
      build: (key) => this.#report(key),
      metrics: () => ({ reconcileSeconds: this.#reconcileSeconds, engineErrors: engine.errors }),
      metricsEveryMs: this.#opts.metricsEveryMs,
      log,
      batchMs: this.#opts.reportBatchMs,
      signal,
    });
    const reconciler = new Reconciler({
      engine,
      clock,
      view: this.#view,
      failures: this.#failures,
      me: () => this.#me,
      parallel: this.#opts.parallel,
      engineTimeoutMs: this.#opts.engineTimeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS,
      credentials: this.#opts.credentials,
      changed: (key) => reporter.schedule([key]),
      pulling: (key, on) => {
        if (on) this.#pulling.add(key);
        else this.#pulling.delete(key);
        reporter.schedule([key]);
      },
      log,
      signal,
      passed: (seconds) => {
        this.#reconcileSeconds = seconds;
        reporter.metricsChanged();
      },
    });
    this.#reporter = reporter;
    this.#reconciler = reconciler;
    const registration = new Registration({
      client: api,
      engine,
      host,
      labels: this.#opts.labels ?? {},
      intervalMs,
      log,
      clock,
      engineTimeoutMs: this.#opts.engineTimeoutMs,
    });
    const logs = new AgentLogs({
      client: api,
      engine,
      host,
      waitMs: this.#opts.waitMs,
      clock,
      log,
    });
    const puller = pullDesired({
      api,
      clock,
      host,
      registration,
      waitMs: this.#opts.waitMs ?? 30_000,
      onList: (list) => this.#accept(list),
      log,
    }, signal);
    const watcher = watchEngine({
      engine,
      clock,
      onEvent: (event) => this.#onEvent(event),
      onReconnect: () => {
        this.#failures.retryAll();
        reconciler.request(true);
      },
      log,
    }, signal);
    await Promise.all([puller, watcher, logs.run(signal), this.#tick(signal)]);
  }

  /**
   * Sends a batch with the agent's figures; to a server that refuses that form (older than this
   * agent: `400 invalid_body`), plain lists of reports from then on, without the figures.
   */
  async #send(batch: StateBatch): Promise<void> {
    if (!this.#plainReports) {
      try {
        await this.#opts.api.report(batch);
        return;
      } catch (error) {
        if (!(error instanceof ApiError && error.code === "invalid_body")) throw error;
        this.#plainReports = true;
        this.#log(
          "the server does not take this agent's figures (it is older): reporting without them",
        );
      }
    }
    if (batch.reports.length > 0) await this.#opts.api.report(batch.reports);
  }

  /** The periodic full check: one list call every interval. */
  async #tick(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.#clock.sleep(this.#opts.intervalMs, signal);
      if (!signal.aborted) this.#reconciler?.request(true);
    }
  }

  #accept(list: HostDesired): void {
    const reconciler = this.#reconciler!;
    const reporter = this.#reporter!;
    if (list.cluster !== undefined) this.#me.cluster = list.cluster;
    reconciler.setDesired(list.containers);
    const desired = reconciler.desired;
    reporter.prune((key) => desired.has(key));
    for (const [key, c] of desired) {
      // The server forgets what it was told when a spec changes or a container is re-added.
      if (c.state === "pending") reporter.resend(key);
    }
  }

  #onEvent(event: ContainerEvent): void {
    const seen = this.#view.apply(event);
    if (seen === undefined) return;
    const key = keyOf(seen);
    if (key !== undefined) this.#reporter?.schedule([key]);
    this.#reconciler?.request();
  }

  /** The report for a desired container as things stand now. */
  #report(key: string): { report: StateReport; generation: number } | undefined {
    const d = this.#reconciler?.desired.get(key);
    if (d === undefined) return undefined;
    const failure = this.#failures.current(key, d);
    const report = observedReport(this.#opts.host, d, this.#current(d), {
      pulling: this.#pulling.has(key),
      ...(failure === undefined ? {} : { failure: failure.message }),
    });
    return report === undefined ? undefined : { report, generation: d.generation };
  }

  /** The engine container running a desired container's current spec, if any. */
  #current(d: ContainerStatus): Seen | null {
    const name = engineName(d.manifestName, d.config.name);
    const key = containerKey(d.manifestName, d.config.name);
    return this.#view.all().find((seen) =>
      keyOf(seen) === key && seen.names.includes(name) &&
      seen.labels[LABEL_SPEC_HASH] === d.specHash
    ) ?? null;
  }
}
