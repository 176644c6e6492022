/**
 * Figure 1, convergence: N containers over the two hosts. Raw: created and started straight
 * through the Docker API, all at once, on both engines at the same time. launcher: `manifest up`
 * (through the client) until `ps` shows all N running. Each round has one of each, and the rounds
 * alternate which goes first (odd rounds raw first), each on engines without containers; the
 * medians are compared. The last round's manifest is left running for the idle figure when
 * launcher went second in it.
 *
 * A round in which the engines run all N containers but `ps` still does not show them all
 * running well after that (three agent intervals, at least 15 s) is given up as stalled: the
 * agents' periodic check had its chances to correct the report and did not. A stalled round
 * counts in the median with the time at which it was given up, a time launcher did not beat.
 *
 * The launcher rounds also count the agents' engine calls for figure 6 (engine_calls.ts).
 */
import { callBreakdown, type CallCount, countCalls, perUseful } from "./engine_calls.ts";
import { delay, median, now, secs, verdict } from "./stats.ts";
import { HOSTS, rawCreateBody, sleeperManifest, stateCounts, type TestBed } from "./test_bed.ts";

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
  /** Which of the two went first in this round. */
  first: "raw" | "launcher";
  rawMs: number;
  /** Until `ps` showed all running; for a stalled round, until it was given up. */
  launcherMs: number;
  /** From sending `manifest up` to its answer. */
  upMs: number;
  /** From sending `manifest up` to the last container's `start` event on the engines. */
  engineDoneMs: number;
  /** What `ps` showed when the round was given up as stalled. */
  stalled?: string;
  /** The agents' engine calls from sending `manifest up` to the end of the launcher round. */
  calls: CallCount;
}

/** The figure's result. */
export interface ConvergenceResult {
  containers: number;
  rounds: ConvergenceRound[];
  rawMs: number;
  /** Median over all rounds, stalled ones counted as the time they were given up. */
  launcherMs: number;
  /** Median over all rounds of the last `start` event on the engines. */
  engineDoneMs: number;
  ratio: number;
  /** The manifest left up (all N containers run on the engines), if the last round left one. */
  manifest?: string;
}

const TARGET_RATIO = 1.1;
const PS_EVERY_MS = 50;
const ROUND_TIMEOUT_MS = 120_000;
const MIN_STALL_MS = 15_000;

/** Runs the figure; the last round's manifest is left up when launcher went second. */
export async function convergence(
  bed: TestBed,
  opts: ConvergenceOptions,
): Promise<ConvergenceResult> {
  // A few untimed containers first, so the first timed round does not pay for cold caches.
  await rawRound(bed, 2 * HOSTS.length, "warm");
  const stallMs = Math.max(MIN_STALL_MS, 3 * opts.intervalMs);
  const rounds: ConvergenceRound[] = [];
  let manifest: string | undefined;
  for (let round = 1; round <= opts.rounds; round++) {
    const first = round % 2 === 1 ? "raw" : "launcher";
    const name = `conv-${round}`;
    let rawMs = first === "raw" ? await rawRound(bed, opts.containers, `r${round}`) : NaN;
    const launcher = await launcherRound(bed, opts.containers, name, stallMs);
    if (first === "launcher") {
      // The raw round gets engines as empty as launcher had them.
      await bed.downAndWait(name);
      rawMs = await rawRound(bed, opts.containers, `r${round}`);
      manifest = undefined;
    } else if (round < opts.rounds) {
      await bed.downAndWait(name);
    } else {
      manifest = name;
    }
    rounds.push({ first, rawMs, ...launcher });
    const outcome = launcher.stalled === undefined
      ? `launcher ${secs(launcher.launcherMs)}`
      : `launcher STALLED: ps still showed ${launcher.stalled} ${
        secs(stallMs)
      } after the engines ran all ${opts.containers}; counted as ${secs(launcher.launcherMs)}`;
    opts.log(
      `  convergence round ${round} (${first} first): raw ${secs(rawMs)}  ${outcome} ` +
        `(up answered ${secs(launcher.upMs)}, last start on the engines ${
          secs(launcher.engineDoneMs)
        })`,
    );
    const calls = launcher.calls;
    const hosts = Object.entries(calls.byHost).map(([host, n]) => `${host} ${n}`).join(", ");
    opts.log(
      `  engine calls round ${round}: ${calls.total} for ${calls.useful} useful, ${
        perUseful(calls).toFixed(2)
      } per useful call (${hosts}): ${callBreakdown(calls)}`,
    );
  }
  const rawMs = median(rounds.map((r) => r.rawMs));
  const launcherMs = median(rounds.map((r) => r.launcherMs));
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
  const stalled = r.rounds.filter((round) => round.stalled !== undefined);
  const stalls = stalled.length === 0 ? "" : `; ${stalled.length} of ${r.rounds.length} rounds ` +
    `STALLED with a stale state in ps, counted as ${
      stalled.map((round) => secs(round.launcherMs)).join(", ")
    } (when given up)`;
  return `convergence  n=${r.containers}  raw ${secs(r.rawMs)}  launcher ${secs(r.launcherMs)}  ` +
    `ratio ${Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : "n/a"}  (last start event on the ` +
    `engines ${secs(r.engineDoneMs)}, ratio ${(r.engineDoneMs / r.rawMs).toFixed(2)})  ` +
    `(target <= ${TARGET_RATIO.toFixed(2)}; ${rounds(r.rounds.length)}${stalls})  ${
      verdict(r.ratio <= TARGET_RATIO && stalled.length === 0)
    }`;
}

function rounds(count: number): string {
  return count === 1
    ? "1 round, raw first"
    : `medians of ${count} rounds, raw and launcher alternating which goes first`;
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
): Promise<Omit<ConvergenceRound, "rawMs" | "first">> {
  const yaml = sleeperManifest(manifest, count, HOSTS);
  const started = () =>
    bed.hosts.flatMap((host) =>
      host.events.events.filter((e) =>
        e.action === "start" && e.labels["launcher.manifest"] === manifest
      )
    );
  const calls = (to: number) =>
    countCalls(Object.fromEntries(bed.hosts.map((h) => [h.name, h.tap.requests])), t0, to);
  const t0 = now();
  await bed.client.up(yaml);
  const upMs = now() - t0;
  let engineDoneAt: number | undefined;
  for (;;) {
    const list = await bed.client.ps(manifest);
    const seen = now();
    const engineDoneMs = Math.max(...started().map((e) => e.time)) - t0;
    if (list.length === count && list.every((c) => c.state === "running")) {
      return { launcherMs: seen - t0, upMs, engineDoneMs, calls: calls(seen) };
    }
    if (new Set(started().map((e) => e.name)).size >= count) engineDoneAt ??= seen;
    if (engineDoneAt !== undefined && seen - engineDoneAt > stallMs) {
      return {
        launcherMs: seen - t0,
        upMs,
        engineDoneMs,
        stalled: stateCounts(list),
        calls: calls(seen),
      };
    }
    if (seen - t0 > ROUND_TIMEOUT_MS) {
      throw new Error(
        `${manifest} did not converge in ${secs(ROUND_TIMEOUT_MS)}: ${stateCounts(list)}`,
      );
    }
    await delay(PS_EVERY_MS);
  }
}
