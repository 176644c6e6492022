/**
 * Figure 2, propagation: from the answer of `manifest up` to the agent's create call on the
 * engine. Each run applies a new one-container manifest on one host (the hosts take turns), then
 * removes it and waits until it is gone, so runs do not overlap.
 *
 * Measured two ways in every run: by the time of the engine's `create` event (which the engine
 * emits when the create has finished, so it includes the engine's own create time), and by the
 * time the create request went through a socket tap between the agent and its engine (the call
 * itself). Raw: the same engine's delay from a direct create call to its `create` event, in the
 * same run. The agents are restarted on the taps for this figure; they adopt what runs.
 */
import { TEST_IMAGE } from "../tests/e2e/engines.ts";
import { SLEEPER } from "../tests/e2e/cluster.ts";
import { type Cleanup, removeDirSync } from "./cleanup.ts";
import { SocketTap, type TappedRequest } from "./socket_tap.ts";
import { pollUntil } from "../tests/poll_until.ts";
import { ms, now, percentile, verdict } from "./stats.ts";
import { rawCreateBody, type TestBed } from "./test_bed.ts";

/** How the figure runs. */
export interface PropagationOptions {
  runs: number;
  log: (line: string) => void;
}

/** The figure's result, in milliseconds per run. */
export interface PropagationResult {
  runs: number;
  /** `manifest up` answered to the create request at the tap. */
  call: number[];
  /** `manifest up` answered to the engine's `create` event. */
  event: number[];
  /** A direct create call to its `create` event. */
  raw: number[];
}

const TARGET_P50_MS = 20;

/** Runs the figure (one untimed warm-up run first). */
export async function propagation(
  bed: TestBed,
  cleanup: Cleanup,
  opts: PropagationOptions,
): Promise<PropagationResult> {
  const taps = await tapAgents(bed, cleanup);
  const call: number[] = [];
  const event: number[] = [];
  const raw: number[] = [];
  for (let run = 0; run <= opts.runs; run++) {
    const i = run % bed.hosts.length;
    const host = bed.hosts[i];
    const tap = taps[i];
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
    const isCreate = (r: TappedRequest) => r.method === "POST" && r.path.endsWith(createPath);
    const tapped = await pollUntil(
      `the create call of ${engineName}`,
      () => tap.requests.find(isCreate),
      { timeoutMs: 5_000, everyMs: 20 },
    );
    const calls = tap.requests.filter((r) => r.time >= sent && r.time <= tapped.time);
    await bed.downAndWait(manifest);

    const rawName = `raw-prop-${run}`;
    const called = now();
    const id = await host.engine.createContainer(rawName, rawCreateBody());
    const rawCreated = await host.events.find((e) => e.action === "create" && e.name === rawName);
    await host.engine.removeContainer(id, { force: true });

    if (run === 0) continue;
    call.push(tapped.time - answered);
    event.push(created.time - answered);
    raw.push(rawCreated.time - called);
    const steps = calls.map((r) => `${r.method} ${shortPath(r.path)} ${signed(r.time - answered)}`);
    opts.log(
      `  propagation run ${run} (${host.name}): create call ${ms(tapped.time - answered)}  ` +
        `create event ${ms(created.time - answered)}  raw ${ms(rawCreated.time - called)}  ` +
        `[engine calls: ${steps.join(", ")}]`,
    );
  }
  return { runs: opts.runs, call, event, raw };
}

/** The figure's summary line; the target is judged on the call, as the issue defines it. */
export function propagationLine(r: PropagationResult): string {
  const p50 = percentile(r.call, 50);
  const p = (list: number[]) => `p50 ${ms(percentile(list, 50))} p99 ${ms(percentile(list, 99))}`;
  return `propagation  runs=${r.runs}  launcher to the create call ${p(r.call)}, ` +
    `to the create event ${p(r.event)}  raw create call to event ${p(r.raw)}  ` +
    `(target p50 < ${TARGET_P50_MS} ms to the call)  ${verdict(p50 < TARGET_P50_MS)}`;
}

/** Restarts every agent on a tap in front of its engine; the taps go with the cleanup. */
async function tapAgents(bed: TestBed, cleanup: Cleanup): Promise<SocketTap[]> {
  // Short: a socket path has at most 108 bytes.
  const dir = await Deno.makeTempDir({ prefix: "lbt-" });
  const taps: SocketTap[] = [];
  cleanup.add({
    name: "socket taps",
    run: async () => {
      for (const tap of taps) tap.close();
      await Deno.remove(dir, { recursive: true });
    },
    emergency: () => {
      for (const tap of taps) tap.close();
      removeDirSync(dir);
    },
  });
  for (const [i, host] of bed.hosts.entries()) {
    const socket = `${dir}/${i}.sock`;
    taps.push(SocketTap.listen(socket, new URL(host.engine.dockerHost).pathname));
    await bed.cluster.stopAgent(host.name, "SIGTERM");
    bed.cluster.startAgent(host.name, ["--docker-host", `unix://${socket}`]);
  }
  return taps;
}

function shortPath(path: string): string {
  return path.replace(/^\/v[\d.]+/, "").replace(/\?.*$/, "");
}

function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(1)}`;
}
