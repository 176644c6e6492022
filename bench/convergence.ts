/**
 * Figure 1, convergence: N containers over the two hosts. Raw: created and started straight
 * through the Docker API, all at once, on both engines at the same time. launcher: `manifest up`
 * (through the client) until `ps` shows all N running. Rounds alternate raw and launcher; the
 * medians are compared. The last launcher round is left running for the idle figure.
 *
 * A round in which the engines run all N containers but `ps` still does not show them all
 * running well after that (three agent intervals, at least 15 s) is reported as stalled: the
 * agents' periodic check had its chances to correct the report and did not.
 */
import { HOSTS, rawCreateBody, sleeperManifest, stateCounts, type TestBed } from "./test_bed.ts";
import { delay, median, now, secs, verdict } from "./stats.ts";

/** How the figure runs. */
export interface ConvergenceOptions {
  containers: number;
  rounds: number;
  /** The agents' --interval, in milliseconds: it sets how long a stall is waited out. */
  intervalMs: number;
  log: (line: string) => void;
}

/** One round's times, all in milliseconds. */
export interface ConvergenceRound {
  rawMs: number;
  /** Until `ps` showed all running; NaN when the round stalled. */
  launcherMs: number;
  /** From sending `manifest up` to its answer. */
  upMs: number;
  /** From sending `manifest up` to the last container's `start` event on the engines. */
  engineDoneMs: number;
  /** What `ps` showed when the round was given up as stalled. */
  stalled?: string;
}

/** The figure's result. */
export interface ConvergenceResult {
  containers: number;
  rounds: ConvergenceRound[];
  rawMs: number;
  /** Median of the rounds that converged (NaN when none did). */
  launcherMs: number;
  /** Median over all rounds of the last `start` event on the engines. */
  engineDoneMs: number;
  ratio: number;
  /** The manifest left up (all N containers run on the engines). */
  manifest: string;
}

const TARGET_RATIO = 1.1;
const PS_EVERY_MS = 50;
const ROUND_TIMEOUT_MS = 120_000;
const MIN_STALL_MS = 15_000;

/** Runs the figure; the last launcher round's manifest is left up. */
export async function convergence(
  bed: TestBed,
  opts: ConvergenceOptions,
): Promise<ConvergenceResult> {
  // A few untimed containers first, so the first timed round does not pay for cold caches.
  await rawRound(bed, 2 * HOSTS.length, "warm");
  const stallMs = Math.max(MIN_STALL_MS, 3 * opts.intervalMs);
  const rounds: ConvergenceRound[] = [];
  let manifest = "";
  for (let round = 1; round <= opts.rounds; round++) {
    const rawMs = await rawRound(bed, opts.containers, `r${round}`);
    manifest = `conv-${round}`;
    const launcher = await launcherRound(bed, opts.containers, manifest, stallMs);
    rounds.push({ rawMs, ...launcher });
    const outcome = launcher.stalled === undefined
      ? `launcher ${secs(launcher.launcherMs)}`
      : `launcher STALLED: ps still showed ${launcher.stalled} ${
        secs(stallMs)
      } after the engines ran all ${opts.containers}`;
    opts.log(
      `  convergence round ${round}: raw ${secs(rawMs)}  ${outcome} (up answered ${
        secs(launcher.upMs)
      }, last start on the engines ${secs(launcher.engineDoneMs)})`,
    );
    if (round < opts.rounds) await bed.downAndWait(manifest);
  }
  const rawMs = median(rounds.map((r) => r.rawMs));
  const launcherMs = median(rounds.filter((r) => r.stalled === undefined).map((r) => r.launcherMs));
  return {
    containers: opts.containers,
    rounds,
    rawMs,
    launcherMs,
    engineDoneMs: median(rounds.map((r) => r.engineDoneMs)),
    ratio: launcherMs / rawMs,
    manifest,
  };
}

/** The figure's summary line. */
export function convergenceLine(r: ConvergenceResult): string {
  const stalled = r.rounds.filter((round) => round.stalled !== undefined).length;
  const converged = r.rounds.length - stalled;
  const stalls = stalled === 0
    ? ""
    : `; ${stalled} of ${r.rounds.length} rounds STALLED with a stale state in ps`;
  return `convergence  n=${r.containers}  raw ${secs(r.rawMs)}  launcher ${secs(r.launcherMs)}  ` +
    `ratio ${Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : "n/a"}  (last start event on the ` +
    `engines ${secs(r.engineDoneMs)}, ratio ${
      (r.engineDoneMs / r.rawMs).toFixed(2)
    }, all ${r.rounds.length} rounds)  (target <= ${
      TARGET_RATIO.toFixed(2)
    }; median of ${converged} rounds${stalls})  ${
      verdict(r.ratio <= TARGET_RATIO && stalled === 0)
    }`;
}

/** Creates and starts `count` containers straight on the engines; returns the time, then removes them. */
async function rawRound(bed: TestBed, count: number, tag: string): Promise<number> {
  const body = rawCreateBody();
  try {
    const t0 = now();
    await Promise.all(bed.hosts.map((host, h) => {
      const names: string[] = [];
      for (let i = h; i < count; i += bed.hosts.length) names.push(`raw-${tag}-${i}`);
      return Promise.all(names.map(async (name) => {
        const id = await host.engine.createContainer(name, body);
        await host.engine.startContainer(id);
      }));
    }));
    return now() - t0;
  } finally {
    await Promise.all(bed.hosts.map(async (host) => {
      const left = await host.engine.listContainers(["bench.raw"]);
      await Promise.all(left.map((c) => host.engine.removeContainer(c.id, { force: true })));
    }));
  }
}

async function launcherRound(
  bed: TestBed,
  count: number,
  manifest: string,
  stallMs: number,
): Promise<Omit<ConvergenceRound, "rawMs">> {
  const yaml = sleeperManifest(manifest, count, HOSTS);
  const started = () =>
    bed.hosts.flatMap((host) =>
      host.events.events.filter((e) =>
        e.action === "start" && e.labels["launcher.manifest"] === manifest
      )
    );
  const t0 = now();
  await bed.client.up(yaml);
  const upMs = now() - t0;
  let engineDoneAt: number | undefined;
  for (;;) {
    const list = await bed.client.ps(manifest);
    const seen = now();
    const engineDoneMs = Math.max(...started().map((e) => e.time)) - t0;
    if (list.length === count && list.every((c) => c.state === "running")) {
      return { launcherMs: seen - t0, upMs, engineDoneMs };
    }
    if (new Set(started().map((e) => e.name)).size >= count) engineDoneAt ??= seen;
    if (engineDoneAt !== undefined && seen - engineDoneAt > stallMs) {
      return { launcherMs: NaN, upMs, engineDoneMs, stalled: stateCounts(list) };
    }
    if (seen - t0 > ROUND_TIMEOUT_MS) {
      throw new Error(
        `${manifest} did not converge in ${secs(ROUND_TIMEOUT_MS)}: ${stateCounts(list)}`,
      );
    }
    await delay(PS_EVERY_MS);
  }
}
