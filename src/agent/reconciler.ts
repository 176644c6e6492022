/**
 * The reconciler: level-triggered passes that compare the desired list with the engine view and
 * start the work for every idle container. Passes never overlap (one more runs if asked
 * meanwhile) and cost no engine call unless the view must be refreshed; each container's steps
 * run in order, different containers in parallel up to a bound, and a failed container is tried
 * again with backoff while every other one is served.
 */
import type { ContainerStatus } from "../api/schemas.ts";
import type { Engine } from "../docker/engine.ts";
import type { Clock } from "../clock.ts";
import { withDeadline } from "./deadline.ts";
import type { EngineView, Seen } from "./engine_view.ts";
import { Executor, StepError } from "./executor.ts";
import type { Failures } from "./failures.ts";
import {
  containerKey,
  engineName,
  foreignReason,
  type Identity,
  LABEL_CONTAINER,
  LABEL_MANIFEST,
  LABEL_SPEC_HASH,
} from "./labels.ts";
import { Limiter } from "./limiter.ts";
import { type Observed, orphans, planContainer, type Step } from "./plan.ts";
import { errorMessage } from "../errors.ts";
import type { CredentialLookup } from "./registry_auth.ts";

/** What the reconciler needs. */
export interface ReconcilerOptions {
  engine: Engine;
  clock: Clock;
  view: EngineView;
  failures: Failures;
  me: () => Identity;
  /** How many containers are worked on at once. */
  parallel: number;
  engineTimeoutMs: number;
  /** The registry credentials of a pull (none: every pull goes without). */
  credentials?: CredentialLookup;
  /** Tells that a container's report may have changed. */
  changed: (key: string) => void;
  /** Tells that a container's pull started or ended. */
  pulling: (key: string, on: boolean) => void;
  log: (line: string) => void;
  /** Ends the retry timers. */
  signal: AbortSignal;
  /**
   * Hears how long each pass took, in seconds: from its start until the container work it
   * started has ended (failed or not). Passes end in any order when their work overlaps.
   */
  passed?: (seconds: number) => void;
}

/** The key of a launcher container of the view, if it carries launcher's labels. */
export function keyOf(seen: Seen): string | undefined {
  const manifest = seen.labels[LABEL_MANIFEST];
  const name = seen.labels[LABEL_CONTAINER];
  return manifest && name ? containerKey(manifest, name) : undefined;
}

/** Keeps one host's engine matching its desired list. */
export class Reconciler {
  readonly #opts: ReconcilerOptions;
  readonly #executor: Executor;
  readonly #limiter: Limiter;
  readonly #busy = new Set<string>();
  /** The generation this agent last acted on, per container (absent: adopt what is there). */
  readonly #applied = new Map<string, number>();
  readonly #leftAlone = new Set<string>();
  #desired = new Map<string, ContainerStatus>();
  #haveList = false;
  #refresh = true;
  #requested = false;
  #running: Promise<void> | undefined;

  constructor(opts: ReconcilerOptions) {
    this.#opts = opts;
    this.#limiter = new Limiter(opts.parallel);
    this.#executor = new Executor(opts);
  }

  /** The desired containers by key. */
  get desired(): ReadonlyMap<string, ContainerStatus> {
    return this.#desired;
  }

  /** Takes a new desired list and plans against it. */
  setDesired(containers: ContainerStatus[]): void {
    this.#desired = new Map(
      containers.map((c) => [containerKey(c.manifestName, c.config.name), c]),
    );
    this.#haveList = true;
    // What the server no longer lists is forgotten, so a long-lived agent does not grow.
    for (const key of [...this.#applied.keys()]) {
      if (!this.#desired.has(key)) this.#applied.delete(key);
    }
    this.request();
  }

  /** Asks for a pass; `refresh` first reads the engine's full list (the periodic check). */
  request(refresh = false): void {
    if (refresh) this.#refresh = true;
    if (!this.#haveList) return;
    this.#requested = true;
    this.#running ??= this.#loop();
  }

  async #loop(): Promise<void> {
    while (this.#requested) {
      this.#requested = false;
      // Not the clock's milliseconds: a pass on an idle engine takes well under one.
      const start = performance.now();
      let work: Promise<void>[] = [];
      try {
        work = await this.#pass();
      } catch (error) {
        this.#refresh = true;
        this.#opts.log(`cannot read the engine: ${errorMessage(error)}`);
      }
      // The work is not waited for here: the next pass must not wait for a long pull.
      const passed = this.#opts.passed;
      if (passed) {
        void Promise.allSettled(work).then(() => passed((performance.now() - start) / 1000));
      }
    }
    this.#running = undefined;
  }

  /**
   * Compares desired and observed once and starts the work for every idle container; answers
   * that work (each ends when its container's steps have, failed or not).
   */
  async #pass(): Promise<Promise<void>[]> {
    const { view, clock, failures } = this.#opts;
    if (this.#refresh) {
      const since = view.version;
      const list = await withDeadline(
        clock,
        this.#opts.engineTimeoutMs,
        "list",
        (s) => this.#opts.engine.listContainers([LABEL_MANIFEST], s),
      );
      this.#refresh = false;
      for (const seen of view.replace(list, since)) {
        const key = keyOf(seen);
        if (key !== undefined) this.#opts.changed(key);
      }
    }
    const observed = this.#observed();
    const now = clock.now();
    const work: Promise<void>[] = [];
    for (const [key, d] of this.#desired) {
      if (this.#busy.has(key) || failures.waiting(key, d, now)) continue;
      const steps = planContainer(d, observed.get(key) ?? [], this.#applied.get(key));
      if (steps.length === 0) {
        this.#applied.set(key, d.generation);
        if (failures.clear(key, "nothing left to do")) this.#opts.changed(key);
        if (d.desired === "removed") this.#opts.changed(key);
        continue;
      }
      work.push(this.#work(key, d, steps));
    }
    for (const orphan of orphans(new Set(this.#desired.keys()), observed)) {
      if (this.#busy.has(orphan.key) || failures.waitingOrphan(orphan.key, now)) continue;
      work.push(this.#work(orphan.key, undefined, orphan.steps));
    }
    failures.prune((key) => this.#desired.has(key) || observed.has(key));
    return work;
  }

  /** This agent's containers in the view, by key, the one under the engine name first. */
  #observed(): Map<string, Observed[]> {
    const me = this.#opts.me();
    const byKey = new Map<string, Observed[]>();
    for (const seen of this.#opts.view.all()) {
      const key = keyOf(seen);
      if (key === undefined) continue;
      const foreign = foreignReason(seen.labels, me);
      if (foreign !== undefined) {
        if (!this.#leftAlone.has(seen.id)) {
          this.#leftAlone.add(seen.id);
          this.#opts.log(
            `leaving container ${seen.names[0] ?? key} (${seen.id.slice(0, 12)}) alone: ${foreign}`,
          );
        }
        continue;
      }
      const [manifest, name] = [seen.labels[LABEL_MANIFEST], seen.labels[LABEL_CONTAINER]];
      const entry = {
        id: seen.id,
        state: seen.state,
        specHash: seen.labels[LABEL_SPEC_HASH] ?? "",
      };
      const group = byKey.get(key) ?? [];
      if (seen.names.includes(engineName(manifest, name))) group.unshift(entry);
      else group.push(entry);
      byKey.set(key, group);
    }
    return byKey;
  }

  /** Runs one container's steps in order, within the parallel bound; never rejects. */
  #work(key: string, d: ContainerStatus | undefined, steps: Step[]): Promise<void> {
    const { failures, clock } = this.#opts;
    this.#busy.add(key);
    return this.#limiter.run(async () => {
      let current: Step | undefined;
      try {
        for (current of steps) await this.#executor.run(key, d, current);
        if (d) this.#applied.set(key, d.generation);
        if (failures.clear(key, `${current?.op ?? "work"} succeeded`)) this.#opts.changed(key);
      } catch (error) {
        const step = error instanceof StepError ? error.call : current?.op ?? "work";
        const delay = failures.record(key, d, step, errorMessage(error), clock.now());
        // The engine may hold what the failed call did after all (a create past its deadline).
        this.#refresh = true;
        clock.sleep(delay, this.#opts.signal).then(() => {
          if (!this.#opts.signal.aborted) this.request();
        });
        if (d) this.#opts.changed(key);
      } finally {
        this.#busy.delete(key);
        this.request();
      }
    });
  }
}
