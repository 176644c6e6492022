/**
 * Figure 3, report latency: a container killed straight on its engine (not through launcher)
 * until `ps` shows it `failed` (exit 137: it has no restart policy, so the exit is final). One
 * container per host, killed in turn; between runs it is started again on the engine and `ps`
 * must show it running. Raw, in the same run: the engine's
 * own delay from the kill call to its `die` event, and to the kill call's answer (which comes
 * once the engine has finished with the exit: from then on an inspect shows `exited`).
 */
import { ms, now, percentile, verdict } from "./stats.ts";
import { type BedHost, sleeperManifest, type TestBed } from "./test_bed.ts";

/** How the figure runs. */
export interface ReportLatencyOptions {
  runs: number;
  log: (line: string) => void;
}

/** The figure's result, in milliseconds. */
export interface ReportLatencyResult {
  runs: number;
  launcher: number[];
  /** Kill call to the engine's `die` event. */
  raw: number[];
  /** Kill call to its answer: the engine answers once the container has exited and is cleaned up. */
  rawReturned: number[];
  /** How often `ps` was asked while waiting: the resolution of the launcher figure. */
  pollMs: number;
}

const MANIFEST = "latency";
const TARGET_P50_MS = 100;
const PS_EVERY_MS = 5;
const WAIT_MS = 15_000;

/** Runs the figure, then removes its manifest. */
export async function reportLatency(
  bed: TestBed,
  opts: ReportLatencyOptions,
): Promise<ReportLatencyResult> {
  const hosts = bed.hosts.map((h) => h.name);
  // Containers c0 (first host) and c1 (second host).
  await bed.client.up(sleeperManifest(MANIFEST, hosts.length, hosts));
  const name = (i: number) => `c${i}`;
  /** When `ps` shows container i in `state` by a report made at `since` or later. */
  const shown = (i: number, state: string, since: number, everyMs: number) =>
    bed.psUntil(
      MANIFEST,
      (list) =>
        list.some((c) =>
          c.config.name === name(i) && c.state === state && Date.parse(c.updatedAt) >= since - 1
        ),
      WAIT_MS,
      everyMs,
    ).catch(() => Infinity);
  for (let i = 0; i < hosts.length; i++) {
    if (await shown(i, "running", 0, 20) === Infinity) {
      throw new Error(`${name(i)} of ${MANIFEST} did not show running`);
    }
  }

  const launcher: number[] = [];
  const raw: number[] = [];
  const rawReturned: number[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    const i = run % hosts.length;
    const host: BedHost = bed.hosts[i];
    const details = await host.engine.inspectContainer(`${MANIFEST}_${name(i)}`);
    if (!details) throw new Error(`${MANIFEST}_${name(i)} is not on ${host.name}`);
    const before = host.events.events.length;

    const t0 = now();
    await host.engine.killContainer(details.id);
    const returned = now();
    const seen = await shown(i, "failed", t0, PS_EVERY_MS);
    const die = await host.events.find((e) =>
      e.action === "die" && e.id === details.id && host.events.events.indexOf(e) >= before
    );
    launcher.push(seen - t0);
    raw.push(die.time - t0);
    rawReturned.push(returned - t0);
    const shownAfter = seen === Infinity ? `never within ${WAIT_MS / 1000} s` : ms(seen - t0);
    opts.log(
      `  report latency run ${run} (${host.name}): launcher ${shownAfter}  raw die event ${
        ms(die.time - t0)
      }, kill answered ${ms(returned - t0)}`,
    );

    const restarted = now();
    await host.engine.startContainer(details.id);
    if (await shown(i, "running", restarted, 20) === Infinity) {
      opts.log(`  report latency run ${run}: ps did not show ${name(i)} running again`);
    }
  }
  await bed.downAndWait(MANIFEST);
  return { runs: opts.runs, launcher, raw, rawReturned, pollMs: PS_EVERY_MS };
}

/** The figure's summary line. */
export function reportLatencyLine(r: ReportLatencyResult): string {
  const p50 = percentile(r.launcher, 50);
  const missed = r.launcher.filter((t) => t === Infinity).length;
  const never = missed === 0 ? "" : `, ${missed} never shown within ${WAIT_MS / 1000} s`;
  const show = (t: number) => t === Infinity ? "never" : ms(t);
  return `report       runs=${r.runs}  launcher p50 ${show(p50)} p99 ${
    show(percentile(r.launcher, 99))
  }${never}  raw kill call to die event p50 ${ms(percentile(r.raw, 50))} p99 ${
    ms(percentile(r.raw, 99))
  }, to the kill call's answer p50 ${
    ms(percentile(r.rawReturned, 50))
  }  (target p50 < ${TARGET_P50_MS} ms, ps every ${r.pollMs} ms)  ${verdict(p50 < TARGET_P50_MS)}`;
}
