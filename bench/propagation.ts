/**
 * Figure 2, propagation: from sending `manifest up` to the agent's create call on the engine.
 * Each run applies a new one-container manifest on one host (the hosts take turns), then removes
 * it and waits until it is gone, so runs do not overlap. The server's share, from sending
 * `manifest up` to its answer, is kept apart on the line.
 *
 * Measured two ways in every run: by the time of the engine's `create` event (which the engine
 * emits when the create has finished, so it includes the engine's own create time), and by the
 * time the create request went through the socket tap between the agent and its engine (the call
 * itself; the bed's agents talk through taps from the start). Raw: the same engine's delay from a
 * direct create call to its `create` event, in the same run; raw and launcher take turns going
 * first (odd runs raw first), so neither always meets an engine just woken by the other.
 */
import { TEST_IMAGE } from "../tests/e2e/engines.ts";
import { SLEEPER } from "../tests/e2e/cluster.ts";
import { pollUntil } from "../tests/poll_until.ts";
import { shortPath, type TappedRequest } from "./socket_tap.ts";
import { ms, now, percentile, verdict } from "./stats.ts";
import { type BedHost, rawCreateBody, type TestBed } from "./test_bed.ts";

/** How the figure runs. */
export interface PropagationOptions {
  runs: number;
  log: (line: string) => void;
}

/** The figure's result, in milliseconds per run. */
export interface PropagationResult {
  runs: number;
  /** `manifest up` sent to the create request at the tap. */
  call: number[];
  /** `manifest up` sent to the engine's `create` event. */
  event: number[];
  /** `manifest up` sent to its answer: the server's share of the above. */
  answered: number[];
  /** A direct create call to its `create` event. */
  raw: number[];
}

/** One run's launcher times, from sending `manifest up`. */
interface LauncherRun {
  call: number;
  event: number;
  answered: number;
  /** The agent's engine calls from sending `manifest up` to the create, with their offsets. */
  steps: string[];
}

const TARGET_P50_MS = 20;

/** Runs the figure (one untimed warm-up run first). */
export async function propagation(
  bed: TestBed,
  opts: PropagationOptions,
): Promise<PropagationResult> {
  const result: PropagationResult = { runs: opts.runs, call: [], event: [], answered: [], raw: [] };
  for (let run = 0; run <= opts.runs; run++) {
    const host = bed.hosts[run % bed.hosts.length];
    const rawFirst = run % 2 === 1;
    let raw = rawFirst ? await rawRun(host, run) : NaN;
    const launcher = await launcherRun(bed, host, run);
    if (!rawFirst) raw = await rawRun(host, run);
    if (run === 0) continue;
    result.call.push(launcher.call);
    result.event.push(launcher.event);
    result.answered.push(launcher.answered);
    result.raw.push(raw);
    opts.log(
      `  propagation run ${run} (${host.name}, ${rawFirst ? "raw" : "launcher"} first): ` +
        `create call ${ms(launcher.call)}  create event ${ms(launcher.event)}  up answered ${
          ms(launcher.answered)
        }  raw ${ms(raw)}  [engine calls: ${launcher.steps.join(", ")}]`,
    );
  }
  return result;
}

/** The figure's summary line; the target is judged on the call, as the issue defines it. */
export function propagationLine(r: PropagationResult): string {
  const p50 = percentile(r.call, 50);
  const p = (list: number[]) => `p50 ${ms(percentile(list, 50))} p99 ${ms(percentile(list, 99))}`;
  return `propagation  runs=${r.runs}  launcher from sending up to the create call ${p(r.call)} ` +
    `(of which up answered p50 ${ms(percentile(r.answered, 50))}), to the create event ${
      p(r.event)
    }  raw create call to event ${p(r.raw)}  (target p50 < ${TARGET_P50_MS} ms to the call)  ${
      verdict(p50 < TARGET_P50_MS)
    }`;
}

/** Applies a one-container manifest on `host`, times it, and removes it again. */
async function launcherRun(bed: TestBed, host: BedHost, run: number): Promise<LauncherRun> {
  const manifest = `prop-${run}`;
  const engineName = `${manifest}_app`;
  const yaml = `name: ${manifest}
containers:
  - name: app
    host: ${host.name}
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
`;
  const sent = now();
  await bed.client.up(yaml);
  const answered = now();
  const created = await host.events.find((e) => e.action === "create" && e.name === engineName);
  const createPath = `/containers/create?name=${encodeURIComponent(engineName)}`;
  const isCreate = (r: TappedRequest) =>
    r.method === "POST" && r.path.endsWith(createPath) && r.time >= sent;
  const tapped = await pollUntil(
    `the create call of ${engineName}`,
    () => host.tap.requests.find(isCreate),
    { timeoutMs: 5_000, everyMs: 20 },
  );
  const steps = host.tap.requests
    .filter((r) => r.time >= sent && r.time <= tapped.time)
    .map((r) => `${r.method} ${shortPath(r.path)} ${signed(r.time - sent)}`);
  await bed.downAndWait(manifest);
  return {
    call: tapped.time - sent,
    event: created.time - sent,
    answered: answered - sent,
    steps,
  };
}

/** A create call straight on `host`'s engine, to its `create` event; the container is removed. */
async function rawRun(host: BedHost, run: number): Promise<number> {
  const name = `raw-prop-${run}`;
  const called = now();
  const id = await host.engine.createContainer(name, rawCreateBody());
  const created = await host.events.find((e) => e.action === "create" && e.name === name);
  await host.engine.removeContainer(id, { force: true });
  return created.time - called;
}

function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(1)}`;
}
