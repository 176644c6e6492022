/**
 * The agent: pulls the host's desired list from the server (long-poll), makes the local engine
 * match it, and reports what it observes. Two loops run side by side, as in the original design:
 * the pull loop and the watch loop (engine events plus a periodic full check).
 */
import type { ContainerStatus, StateReport } from "../api/schemas.ts";
import type { LauncherClient } from "../client/client.ts";
import type { DockerEngine } from "../docker/engine.ts";
import { createBody } from "./create_body.ts";
import { ensureImage } from "./pull.ts";
import { Backoff } from "./backoff.ts";
import { sleep } from "../sleep.ts";
import {
  containerKey,
  engineName,
  LABEL_CONTAINER,
  LABEL_HOST,
  LABEL_MANIFEST,
  LABEL_SPEC_HASH,
} from "./labels.ts";
import { Limiter } from "./limiter.ts";
import { AgentLogs } from "./logs.ts";
import { Registration } from "./registration.ts";
import { type EngineView, type Local, observedReport } from "./observe.ts";
import { type Observed, orphans, planContainer, type Step } from "./plan.ts";

/** How an agent is set up. */
export interface AgentOptions {
  client: LauncherClient;
  engine: DockerEngine;
  host: string;
  /** Period of the full re-check, and the fallback when long-polls fail. */
  intervalMs: number;
  /** How many containers are worked on at once. */
  parallel: number;
  /** How long one long-poll may be held by the server. */
  waitMs?: number;
  /** Labels of this host (`--label key=value`), sent when it registers. */
  labels?: Record<string, string>;
  log?: (line: string) => void;
}

interface Failure {
  message: string;
  /** The generation that failed: a new intent is tried at once, not after the backoff. */
  generation: number;
  backoff: Backoff;
  retryAt: number;
}

/** One agent for one host and one engine. */
export class Agent {
  private desired = new Map<string, ContainerStatus>();
  private haveList = false;
  private index = 0;
  private readonly applied = new Map<string, number>();
  private readonly busy = new Set<string>();
  private readonly failures = new Map<string, Failure>();
  private readonly pulling = new Set<string>();
  private readonly lastSent = new Map<string, string>();
  private readonly seen = new Map<string, string>();
  private readonly limiter: Limiter;
  private passRequested = false;
  private passRunning = false;
  private reportKeys = new Set<string>();
  private reportTimer?: ReturnType<typeof setTimeout>;
  private reporting = false;
  private reportFailing = false;
  private readonly reportBackoff = new Backoff(250, 5000);
  /** What a `die` event said, used instead of an inspect that would still say running. */
  private readonly dieHints = new Map<string, { specHash: string; view: EngineView }>();
  private readonly log: (line: string) => void;

  private readonly registration: Registration;
  private readonly logs: AgentLogs;

  constructor(private readonly opts: AgentOptions) {
    this.limiter = new Limiter(opts.parallel);
    this.log = opts.log ?? (() => {});
    const { client, engine, host, intervalMs } = opts;
    const log = this.log;
    this.registration = new Registration({
      client,
      engine,
      host,
      labels: opts.labels ?? {},
      intervalMs,
      log,
    });
    this.logs = new AgentLogs({ client, engine, host, waitMs: opts.waitMs, log });
  }

  /** Runs the agent's loops until `signal` aborts; containers are left as they are. */
  async run(signal: AbortSignal): Promise<void> {
    const ticker = setInterval(() => this.requestPass(), this.opts.intervalMs);
    try {
      await Promise.all([this.pullLoop(signal), this.watchLoop(signal), this.logs.run(signal)]);
    } finally {
      clearInterval(ticker);
      clearTimeout(this.reportTimer);
    }
  }

  /** Long-polls the server for this host's desired list. */
  private async pullLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(250, 5000);
    let failing = false;
    while (!signal.aborted) {
      try {
        await this.registration.ensure(signal);
        const wait = this.haveList ? (this.opts.waitMs ?? 30_000) : 0;
        const list = await this.opts.client.desired(this.opts.host, this.index, wait, signal);
        if (!list.registered) this.registration.invalidate();
        if (failing) this.log(`server reachable again at ${this.opts.client.url}`);
        failing = false;
        backoff.reset();
        this.accept(list.index, list.containers);
      } catch (error) {
        if (signal.aborted) break;
        if (!failing) this.log(`cannot fetch the desired list: ${message(error)}; retrying`);
        failing = true;
        // The server may come back without what it knew: tell it again.
        this.registration.invalidate();
        await sleep(backoff.next(), signal);
      }
    }
  }

  private accept(index: number, containers: ContainerStatus[]): void {
    this.index = index;
    this.haveList = true;
    this.desired = new Map(containers.map((c) => [containerKey(c.manifestName, c.config.name), c]));
    // What the server no longer lists is forgotten, so a long-lived agent does not grow.
    for (const memo of [this.applied, this.lastSent, this.seen, this.failures]) {
      for (const key of memo.keys()) if (!this.desired.has(key)) memo.delete(key);
    }
    for (const [key, c] of this.desired) {
      // The server forgets what it was told when a spec changes or a container is re-added:
      // say it again.
      if (c.state === "pending") {
        this.lastSent.delete(key);
        this.scheduleReport([key]);
      }
    }
    this.requestPass();
  }

  /** Asks for an apply pass; passes never overlap, and one more runs if asked meanwhile. */
  private requestPass(): void {
    if (!this.haveList) return;
    this.passRequested = true;
    if (this.passRunning) return;
    this.passRunning = true;
    (async () => {
      while (this.passRequested) {
        this.passRequested = false;
        try {
          await this.pass();
        } catch (error) {
          this.log(`cannot read the engine: ${message(error)}`);
        }
      }
      this.passRunning = false;
    })();
  }

  /** Compares desired and observed once and starts the work for every idle container. */
  private async pass(): Promise<void> {
    const observed = await this.observeAll();
    const now = Date.now();
    for (const [key, d] of this.desired) {
      // The full check costs one list call: only a container whose id or state word moved since
      // the last pass is inspected and reported (events report the rest at once).
      const current = observed.get(key)?.[0];
      const seen = current ? `${current.id} ${current.state}` : "";
      if (this.seen.get(key) !== seen) {
        this.seen.set(key, seen);
        this.scheduleReport([key]);
      }
      if (this.busy.has(key)) continue;
      const failure = this.failures.get(key);
      if (failure && failure.generation === d.generation && failure.retryAt > now) continue;
      const steps = planContainer(d, observed.get(key) ?? [], this.applied.get(key));
      if (steps.length === 0) {
        this.applied.set(key, d.generation);
        this.failures.delete(key);
        if (d.desired === "removed") this.scheduleReport([key]);
        continue;
      }
      this.work(key, d, steps);
    }
    for (const orphan of orphans(new Set(this.desired.keys()), observed)) {
      if (this.busy.has(orphan.key)) continue;
      this.work(orphan.key, undefined, orphan.ids.map((id) => ({ op: "remove", id })));
    }
  }

  /** Runs one container's steps in order, within the parallel bound. */
  private work(key: string, d: ContainerStatus | undefined, steps: Step[]): void {
    this.busy.add(key);
    this.limiter.run(async () => {
      try {
        for (const step of steps) await this.execute(key, d, step);
        if (d) this.applied.set(key, d.generation);
        this.failures.delete(key);
      } catch (error) {
        const failure = this.failures.get(key) ??
          { message: "", generation: 0, backoff: new Backoff(1000, 60_000), retryAt: 0 };
        failure.message = message(error);
        failure.generation = d?.generation ?? 0;
        const delay = failure.backoff.next();
        failure.retryAt = Date.now() + delay;
        this.failures.set(key, failure);
        setTimeout(() => this.requestPass(), delay);
      } finally {
        this.pulling.delete(key);
        this.busy.delete(key);
        if (d) this.scheduleReport([key]);
        this.requestPass();
      }
    });
  }

  private async execute(key: string, d: ContainerStatus | undefined, step: Step): Promise<void> {
    const engine = this.opts.engine;
    switch (step.op) {
      case "remove":
        return await engine.removeContainer(step.id, { force: true });
      case "start":
        return await engine.startContainer(step.id);
      case "stop":
        return await engine.stopContainer(step.id, stopTimeout(d));
      case "kill":
        return await engine.killContainer(step.id);
      case "restart":
        return await engine.restartContainer(step.id, stopTimeout(d));
      case "create": {
        if (!d) return;
        const id = await this.create(key, d);
        if (step.start) await engine.startContainer(id);
      }
    }
  }

  /** Creates a container, pulling its image first as the spec's pull policy says. */
  private async create(key: string, d: ContainerStatus): Promise<string> {
    const engine = this.opts.engine;
    const body = createBody(d.normalized, {
      [LABEL_MANIFEST]: d.manifestName,
      [LABEL_CONTAINER]: d.config.name,
      [LABEL_SPEC_HASH]: d.specHash,
      [LABEL_HOST]: this.opts.host,
    });
    const name = engineName(d.manifestName, d.config.name);
    await ensureImage(engine, d.normalized.image, d.normalized.pull, this.opts.host, () => {
      this.pulling.add(key);
      this.scheduleReport([key]);
    });
    this.pulling.delete(key);
    return await engine.createContainer(name, body);
  }

  /** Lists launcher's containers on the engine, grouped by manifest/container. */
  private async observeAll(): Promise<Map<string, Observed[]>> {
    const list = await this.opts.engine.listContainers([LABEL_MANIFEST]);
    const byKey = new Map<string, Observed[]>();
    for (const c of list) {
      const manifest = c.labels[LABEL_MANIFEST];
      const name = c.labels[LABEL_CONTAINER];
      if (!manifest || !name) continue;
      const key = containerKey(manifest, name);
      const entry = { id: c.id, state: c.state, specHash: c.labels[LABEL_SPEC_HASH] ?? "" };
      // The container under the engine name is the current one; others are leftovers.
      const current = c.names.includes(engineName(manifest, name));
      const group = byKey.get(key) ?? [];
      if (current) group.unshift(entry);
      else group.push(entry);
      byKey.set(key, group);
    }
    return byKey;
  }

  /** Follows the engine's events and reports changes at once; reconnects when the engine returns. */
  private async watchLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(250, 5000);
    let failing = false;
    while (!signal.aborted) {
      try {
        const events = this.opts.engine.events([LABEL_MANIFEST], signal);
        if (failing) {
          this.log("engine reachable again; resyncing");
          this.requestPass();
          this.scheduleReport([...this.desired.keys()]);
        }
        failing = false;
        for await (const event of events) {
          backoff.reset();
          const manifest = event.labels[LABEL_MANIFEST];
          const name = event.labels[LABEL_CONTAINER];
          if (!manifest || !name) continue;
          const key = containerKey(manifest, name);
          // The engine's inspect says exited only after its exit clean-up, tens of milliseconds
          // after `die`; the event already carries the exit code, so report from it.
          if (event.action === "die" && event.exitCode !== undefined) {
            const hint = {
              id: event.id,
              state: { status: "exited", exitCode: event.exitCode, error: "" },
            };
            this.dieHints.set(key, { specHash: event.labels[LABEL_SPEC_HASH] ?? "", view: hint });
          } else {
            this.dieHints.delete(key);
          }
          this.scheduleReport([key]);
          if (event.action === "destroy" || event.action === "die") this.requestPass();
        }
        // A stream that ends by itself means the engine went away: resync when it is back.
        failing = !signal.aborted;
      } catch (error) {
        if (signal.aborted) break;
        if (!failing) this.log(`lost the engine's event stream: ${message(error)}; reconnecting`);
        failing = true;
      }
      await sleep(backoff.next(), signal);
    }
  }

  /**
   * Queues keys for a state report; reports close together go out in one request, and only one
   * request is in flight, so an older observation can never land after a newer one.
   */
  private scheduleReport(keys: string[]): void {
    for (const key of keys) this.reportKeys.add(key);
    if (this.reportTimer !== undefined || this.reporting) return;
    this.reportTimer = setTimeout(async () => {
      this.reportTimer = undefined;
      const batch = this.reportKeys;
      this.reportKeys = new Set();
      this.reporting = true;
      let retryIn = 0;
      try {
        await this.report(batch);
        this.reportBackoff.reset();
        if (this.reportFailing) this.log("reporting states again");
        this.reportFailing = false;
      } catch (error) {
        // Kept for the next try: the server must hear what happened while it was away.
        for (const key of batch) this.reportKeys.add(key);
        retryIn = this.reportBackoff.next();
        if (!this.reportFailing) this.log(`cannot report states: ${message(error)}; retrying`);
        this.reportFailing = true;
      } finally {
        this.reporting = false;
      }
      if (retryIn > 0) {
        this.reportTimer = setTimeout(() => {
          this.reportTimer = undefined;
          this.scheduleReport([]);
        }, retryIn);
      } else if (this.reportKeys.size > 0) {
        this.scheduleReport([]);
      }
    }, 5);
  }

  private async report(keys: Set<string>): Promise<void> {
    const reports: { key: string; body: string; report: StateReport }[] = [];
    await Promise.all([...keys].map(async (key) => {
      const d = this.desired.get(key);
      if (!d) return;
      const hint = this.dieHints.get(key);
      this.dieHints.delete(key);
      const view = hint?.specHash === d.specHash ? hint.view : await this.inspect(d);
      const local: Local = {
        pulling: this.pulling.has(key),
        failure: this.failures.get(key)?.message,
      };
      const report = observedReport(this.opts.host, d, view, local);
      if (!report) return;
      const body = JSON.stringify([d.generation, report]);
      if (this.lastSent.get(key) !== body) reports.push({ key, body, report });
    }));
    if (reports.length === 0) return;
    await this.opts.client.report(reports.map((r) => r.report));
    for (const r of reports) this.lastSent.set(r.key, r.body);
  }

  private async inspect(d: ContainerStatus): Promise<EngineView | null> {
    const details = await this.opts.engine.inspectContainer(
      engineName(d.manifestName, d.config.name),
    );
    if (!details) return null;
    // A container of the same name but another spec is on its way out: not what is desired.
    if (details.labels[LABEL_SPEC_HASH] !== d.specHash) return null;
    return details;
  }
}

/** The spec's stop timeout in seconds, or undefined for the engine's default. */
function stopTimeout(d: ContainerStatus | undefined): number | undefined {
  return d?.normalized.stopTimeout;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
