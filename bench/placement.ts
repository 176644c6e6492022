/**
 * Figures 7 and 8 (issue 9), placement and rescheduling, on a server of their own (no engine):
 * `launcher serve --reschedule-after 2s`, N simulated hosts registered through the API and each
 * kept online by a long-poll held as its agent would hold one, and one manifest with one placed
 * spec of R replicas. Placement: the time from sending `manifest up` to its answer, as
 * placements per second, checked with `ps`. Rescheduling: one host in ten stops polling, and the
 * time from its last poll until `ps` shows its containers on other hosts. Each round starts a
 * fresh server, so every round places into the same empty fleet. See docs/benchmarks.md.
 */
import { type ContainerStatus, MAX_EVENTS_LIMIT } from "../src/api/schemas.ts";
import { LauncherClient } from "../src/client/client.ts";
import { errorMessage } from "../src/errors.ts";
import { VERSION } from "../src/version.ts";
import { TEST_IMAGE } from "../tests/e2e/engines.ts";
import { type BenchServer, serverLogTail, startBenchServer } from "./bench_server.ts";
import type { Cleanup } from "./cleanup.ts";
import { clockTicksPerSecond, cpuTicks, statusBytes } from "./proc_stats.ts";
import { delay, mb, median, ms, now, secs, verdict } from "./stats.ts";

/** How the figures run. */
export interface PlacementOptions {
  replicas: number;
  hosts: number;
  rounds: number;
  /** Run with `--quick`: a size other than the issue's says so in the lines. */
  quick: boolean;
  log: (line: string) => void;
}

/** The issue's size: 10,000 replicas over 1,000 hosts. */
export const ISSUE_REPLICAS = 10_000;
export const ISSUE_HOSTS = 1_000;

const MANIFEST = "bench";
/** The simulated agents' `--interval`: a host is offline 3 of them after its last poll. */
const INTERVAL_MS = 1_000;
const MISSED_INTERVALS = 3;
/** The server's `--reschedule-after`. */
const RESCHEDULE_AFTER_MS = 2_000;
/** How often the server's scheduler duties run (planner.ts, DUTY_EVERY_MS). */
const DUTY_EVERY_MS = 1_000;
/** Each long-poll's `wait`, as the agent's. */
const WAIT_MS = 30_000;
/** One host in this many is lost. */
const LOST_EVERY = 10;
const REGISTER_PARALLEL = 50;
/** After the last registration, so that the last long-polls are held before `up`. */
const SETTLE_MS = 1_000;
/** Until `ps` confirms the move, it is asked again this long after each answer. */
const PS_PAUSE_MS = 100;
const RESCHEDULE_TIMEOUT_MS = 30_000;
const AGENTS_TIMEOUT_MS = 30_000;
const TARGET_PER_SECOND = 5_000;
/** What each simulated host registers: 8 CPUs and 32 GiB. */
const HOST_CPUS = 8;
const HOST_MEMORY = 32 * 1024 ** 3;

/** One round: a fresh server, the fleet registered, one `up`, then one host in ten lost. */
export interface PlacementRound {
  /** From sending `up` to its answer. */
  upMs: number;
  /** The server's CPU time (user + system) over the same span. */
  upCpuMs: number;
  /** Rows `ps` listed after the answer, and how many of them had a host. */
  listed: number;
  placed: number;
  /** The fewest and most replicas on one host. */
  perHost: { min: number; max: number };
  /** Hosts not online when `up` was sent. */
  offlineBefore: number;
  /** From sending `up` until the simulated agents' lists held every placed replica. */
  agentsMs: number | null;
  reschedule: RescheduleRound;
  /** The server's peak resident memory (VmHWM) at the end of the round. */
  serverPeak: number;
  /** Long-polls that failed (not counting the ones the bench ended), by message. */
  failures: Record<string, number>;
}

/** The rescheduling part of a round; times from the lost hosts' last poll (the fault). */
export interface RescheduleRound {
  lostHosts: number;
  /** The containers `ps` showed on the lost hosts before they were lost. */
  containers: number;
  /**
   * The figure: when the surviving hosts' simulated agents had all of them in their lists, as
   * confirmed by the `ps` asked right after; when that `ps` still disagreed, the first `ps` that
   * agreed. Infinity when none did in time.
   */
  movedMs: number;
  /** When the surviving hosts' agents had all of them; null when they never did. */
  agentsMs: number | null;
  /** The answer of the first `ps` that showed all of them on other hosts. */
  psMs: number;
  /** How long each `ps` of the whole manifest took, from sending to the parsed answer. */
  psCallsMs: number[];
  /** At the last `ps`: still on a lost host, and waiting for a host. */
  left: number;
  pending: number;
  /** The server's own record: the time of its last `reschedule` event; null when none. */
  serverMs: number | null;
}

export interface PlacementResult {
  replicas: number;
  hosts: number;
  quick: boolean;
  rounds: PlacementRound[];
}

/** The simulated hosts' names, `sim-0000` on, in name order. */
function hostNames(count: number): string[] {
  const width = String(Math.max(count - 1, 0)).length;
  return Array.from({ length: count }, (_, i) => `sim-${String(i).padStart(width, "0")}`);
}

/** The manifest: one placed spec of `replicas`, with resources, so that room matters. */
export function placementManifest(replicas: number): string {
  return [
    `name: ${MANIFEST}`,
    "containers:",
    "  - name: web",
    `    image: ${TEST_IMAGE}`,
    `    replicas: ${replicas}`,
    "    resources: { cpus: 0.1, memory: 64m }",
    "",
  ].join("\n");
}

/**
 * One simulated agent per host, holding a long-poll at all times as the agent does
 * (`GET /container?host=H&index=N&wait=30s`, asked again at once after each answer), through the
 * same client the agent uses. Each answer's list is kept, so the bench knows what every host's
 * agent knows and when.
 */
class SimAgents {
  readonly #client: LauncherClient;
  readonly #polls = new Map<string, AbortController>();
  /** The containers each host's agent was last told to run (desired not removed). */
  readonly lists = new Map<string, Set<string>>();
  readonly failures: Record<string, number> = {};
  /** Called after every answer, with the list it gave and the time it was read. */
  onList: (list: Set<string>, at: number) => void = () => {};

  constructor(client: LauncherClient) {
    this.#client = client;
  }

  start(host: string): void {
    const controller = new AbortController();
    this.#polls.set(host, controller);
    void this.#poll(host, controller.signal);
  }

  async #poll(host: string, signal: AbortSignal): Promise<void> {
    let index = 0;
    while (!signal.aborted) {
      try {
        const desired = await this.#client.desired(host, index, WAIT_MS, signal);
        index = desired.index;
        const names = desired.containers.filter((c) => c.desired !== "removed").map((c) =>
          c.normalized.name
        );
        const list = new Set(names);
        this.lists.set(host, list);
        this.onList(list, now());
      } catch (error) {
        if (signal.aborted) return;
        const reason = errorMessage(error);
        this.failures[reason] = (this.failures[reason] ?? 0) + 1;
        await delay(100);
      }
    }
  }

  /** Ends the long-polls of `hosts` (their agents are gone); returns when, just before. */
  drop(hosts: string[]): number {
    const at = now();
    for (const host of hosts) {
      this.#polls.get(host)?.abort();
      this.#polls.delete(host);
      this.lists.delete(host);
    }
    return at;
  }

  stop(): void {
    this.drop([...this.#polls.keys()]);
  }

  /** How many containers all the agents' lists hold. */
  total(): number {
    let sum = 0;
    for (const list of this.lists.values()) sum += list.size;
    return sum;
  }
}

/**
 * Resolves with the time an answer first makes `done` (given that answer's list) hold, or null
 * after `timeoutMs`; at once when it holds before any answer (given an empty list).
 */
function whenAgents(
  agents: SimAgents,
  done: (list: Set<string>) => boolean,
  timeoutMs: number,
) {
  return new Promise<number | null>((resolve) => {
    if (done(new Set())) return resolve(now());
    const timer = setTimeout(() => {
      agents.onList = () => {};
      resolve(null);
    }, timeoutMs);
    agents.onList = (list, at) => {
      if (!done(list)) return;
      clearTimeout(timer);
      agents.onList = () => {};
      resolve(at);
    };
  });
}

/** Runs `work` on every item, `parallel` at a time. */
async function inParallel<T>(items: T[], parallel: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
}

/** Replicas by host, among `list`. */
function byHost(list: ContainerStatus[]): Map<string, ContainerStatus[]> {
  const hosts = new Map<string, ContainerStatus[]>();
  for (const c of list) {
    const on = hosts.get(c.host) ?? [];
    on.push(c);
    hosts.set(c.host, on);
  }
  return hosts;
}

/** Registers the fleet, each host's long-poll started as soon as its registration answers. */
async function register(client: LauncherClient, agents: SimAgents, names: string[]) {
  await inParallel(names, REGISTER_PARALLEL, async (host) => {
    await client.registerHost({
      host,
      engineVersion: "none (simulated)",
      os: "linux",
      arch: Deno.build.arch,
      cpus: HOST_CPUS,
      memory: HOST_MEMORY,
      agentVersion: VERSION,
      labels: {},
      intervalMs: INTERVAL_MS,
    });
    agents.start(host);
  });
}

async function round(
  server: BenchServer,
  opts: PlacementOptions,
  number: number,
): Promise<PlacementRound> {
  const client = new LauncherClient(server.url, server.token);
  const agents = new SimAgents(client);
  const names = hostNames(opts.hosts);
  try {
    const registering = now();
    await register(client, agents, names);
    const registeredMs = now() - registering;
    await delay(SETTLE_MS);
    const offlineBefore = (await client.hosts()).filter((h) => h.registered && !h.online).length;

    const agentsDone = whenAgents(
      agents,
      () => agents.total() >= opts.replicas,
      AGENTS_TIMEOUT_MS,
    );
    const ticks = await clockTicksPerSecond();
    const cpuBefore = cpuTicks(server.pid);
    const sent = now();
    await client.up(placementManifest(opts.replicas));
    const upMs = now() - sent;
    const upCpuMs = (cpuTicks(server.pid) - cpuBefore) / ticks * 1000;
    const list = await client.ps(MANIFEST);
    const agentsAt = await agentsDone;
    const placed = list.filter((c) => c.host !== "");
    const hosts = byHost(placed);
    const counts = names.map((host) => hosts.get(host)?.length ?? 0);

    // One host in ten, spread over the name order, stops polling: its agent is gone.
    const lost = names.filter((_, i) => i % LOST_EVERY === 0);
    const moving = new Set(
      lost.flatMap((host) => (hosts.get(host) ?? []).map((c) => c.normalized.name)),
    );
    const reschedule = await loseHosts(client, agents, lost, moving);

    const result: PlacementRound = {
      upMs,
      upCpuMs,
      listed: list.length,
      placed: placed.length,
      perHost: { min: Math.min(...counts), max: Math.max(...counts) },
      offlineBefore,
      agentsMs: agentsAt === null ? null : agentsAt - sent,
      reschedule,
      serverPeak: statusBytes(server.pid, "VmHWM"),
      failures: { ...agents.failures },
    };
    opts.log(roundLine(number, opts, registeredMs, result));
    return result;
  } finally {
    agents.stop();
  }
}

/**
 * Ends the long-polls of the `lost` hosts (the fault, when the clock starts), waits until the
 * other hosts' agents have been given every one of `moving`, and has `ps` confirm it: asked at
 * once, and again PS_PAUSE_MS after each answer until it shows them all on other hosts.
 */
async function loseHosts(
  client: LauncherClient,
  agents: SimAgents,
  lost: string[],
  moving: Set<string>,
): Promise<RescheduleRound> {
  const lostSet = new Set(lost);
  const fault = agents.drop(lost);
  // Each answer from here on ticks off what it holds: only the other hosts' agents answer now.
  const missing = new Set(moving);
  const agentsAt = await whenAgents(agents, (list) => {
    for (const name of list) missing.delete(name);
    return missing.size === 0;
  }, RESCHEDULE_TIMEOUT_MS);
  const r: RescheduleRound = {
    lostHosts: lost.length,
    containers: moving.size,
    movedMs: Infinity,
    agentsMs: agentsAt === null ? null : agentsAt - fault,
    psMs: Infinity,
    psCallsMs: [],
    left: moving.size,
    pending: 0,
    serverMs: null,
  };
  for (;;) {
    const asked = now();
    const rows = await client.ps(MANIFEST);
    const answered = now();
    r.psCallsMs.push(answered - asked);
    const moved = rows.filter((c) => moving.has(c.normalized.name));
    r.left = moved.filter((c) => lostSet.has(c.host)).length;
    r.pending = moved.filter((c) => c.host === "").length;
    if (moved.length === moving.size && r.left + r.pending === 0) {
      r.psMs = answered - fault;
      r.movedMs = r.agentsMs !== null && r.psCallsMs.length === 1 ? r.agentsMs : r.psMs;
      break;
    }
    if (answered - fault > RESCHEDULE_TIMEOUT_MS) break;
    await delay(PS_PAUSE_MS);
  }
  // The server's own record of the moves, for the breakdown: its `reschedule` events.
  const page = await client.events({
    manifest: MANIFEST,
    since: new Date(fault - 1000).toISOString(),
    limit: MAX_EVENTS_LIMIT,
  });
  const moves = page.events.filter((e) => e.action === "reschedule").map((e) => Date.parse(e.time));
  if (moves.length > 0) r.serverMs = Math.max(...moves) - fault;
  return r;
}

function roundLine(
  number: number,
  opts: PlacementOptions,
  registeredMs: number,
  r: PlacementRound,
): string {
  const s = r.reschedule;
  const failures = Object.entries(r.failures).map(([why, n]) => `${n} x ${why}`);
  return `  placement round ${number}: ${opts.hosts} hosts registered in ${secs(registeredMs)}` +
    (r.offlineBefore > 0 ? ` (${r.offlineBefore} OFFLINE at up)` : "") +
    `; up answered ${ms(r.upMs)} (${rate(opts.replicas, r.upMs)}/s; server cpu ${
      ms(r.upCpuMs)
    }), ${r.placed} of ${opts.replicas} placed (${r.listed - r.placed} pending), ` +
    `${r.perHost.min} to ${r.perHost.max} per host, the agents had all at ${
      ms(r.agentsMs ?? NaN)
    }; ${s.containers} containers of ${s.lostHosts} lost hosts: last reschedule event ${
      secs(s.serverMs ?? NaN)
    }, agents had them ${secs(s.agentsMs ?? NaN)}, ps ${
      secs(s.psMs)
    } after the last poll (${s.psCallsMs.length} ps of ${ms(median(s.psCallsMs))} p50` +
    (s.left + s.pending > 0
      ? `; at the last ${s.left} still on lost hosts, ${s.pending} pending`
      : "") +
    `); server peak rss ${mb(r.serverPeak)}` +
    (failures.length > 0 ? `; long-poll failures: ${failures.join(", ")}` : "");
}

/** Runs the rounds, each on a fresh server, and stops everything again. */
export async function placement(
  cleanup: Cleanup,
  opts: PlacementOptions,
): Promise<PlacementResult> {
  opts.log(
    `  placement: ${opts.replicas} replicas over ${opts.hosts} simulated hosts, ${opts.rounds} ` +
      `round(s), each on a fresh server (--reschedule-after ${RESCHEDULE_AFTER_MS / 1000}s)`,
  );
  const rounds: PlacementRound[] = [];
  for (let n = 1; n <= opts.rounds; n++) {
    const server = await startBenchServer(cleanup, "placement", [
      "--reschedule-after",
      `${RESCHEDULE_AFTER_MS}ms`,
    ]);
    try {
      rounds.push(await round(server, opts, n));
    } finally {
      for (const line of await serverLogTail(server, 5)) opts.log(`  placement server: ${line}`);
      await server.stop();
    }
  }
  return { replicas: opts.replicas, hosts: opts.hosts, quick: opts.quick, rounds };
}

function rate(count: number, ms: number): string {
  return Number.isFinite(ms) ? String(Math.round(count / (ms / 1000))) : "0";
}

/** The size, with a label when it is not the issue's. */
function size(r: PlacementResult): string {
  const issue = r.replicas === ISSUE_REPLICAS && r.hosts === ISSUE_HOSTS;
  const label = issue
    ? ""
    : ` (${r.quick ? "--quick; " : ""}the issue's is ${ISSUE_REPLICAS} over ${ISSUE_HOSTS})`;
  return `${r.replicas} replicas over ${r.hosts} hosts${label}`;
}

/** `median of 3 rounds`. */
function ofRounds(r: PlacementResult): string {
  return `median of ${r.rounds.length} round${r.rounds.length === 1 ? "" : "s"}`;
}

/** A median that may be infinite (a round that never got there), as seconds or `never`. */
function secsOrNever(valueMs: number): string {
  return valueMs === Infinity ? "never" : secs(valueMs);
}

/** The placement figure's summary line. */
export function placementLine(r: PlacementResult): string {
  const upMs = median(r.rounds.map((x) => x.upMs));
  const short = r.rounds.filter((x) => x.placed < r.replicas);
  const offline = r.rounds.filter((x) => x.offlineBefore > 0);
  const agents = median(r.rounds.map((x) => x.agentsMs ?? Infinity));
  const cpuMs = median(r.rounds.map((x) => x.upCpuMs));
  const perSecond = r.replicas / (upMs / 1000);
  const notes = [
    short.length === 0
      ? "all placed"
      : `${short.length} of ${r.rounds.length} rounds left replicas PENDING (${
        short.map((x) => r.replicas - x.placed).join(", ")
      })`,
    ...(offline.length > 0 ? [`${offline.length} rounds had hosts OFFLINE at up`] : []),
  ];
  const met = short.length === 0 && offline.length === 0 && perSecond >= TARGET_PER_SECOND;
  return `placement    ${size(r)}: up answered in ${ms(upMs)} = ${
    rate(r.replicas, upMs)
  } placements/s (${ofRounds(r)}; server cpu ${ms(cpuMs)}; ${
    notes.join("; ")
  }; the agents had all after ${secsOrNever(agents)})  (target >= ${TARGET_PER_SECOND}/s)  ${
    verdict(met)
  }`;
}

/**
 * The rescheduling figure's summary line. The issue sets it no target: the line ends with the
 * wait the server is configured for, which the figure cannot beat, instead of a verdict.
 */
export function rescheduleLine(r: PlacementResult): string {
  const of = (pick: (x: RescheduleRound) => number | null) =>
    median(r.rounds.map((x) => pick(x.reschedule) ?? Infinity));
  const total = of((x) => x.movedMs);
  const waited = MISSED_INTERVALS * INTERVAL_MS + RESCHEDULE_AFTER_MS;
  const containers = of((x) => x.containers);
  const lost = r.rounds[0]?.reschedule.lostHosts ?? 0;
  const never = r.rounds.filter((x) => x.reschedule.movedMs === Infinity).length;
  const when = total === Infinity
    ? `NEVER within ${secs(RESCHEDULE_TIMEOUT_MS)}`
    : `${secs(total)} after their last poll (${secs(MISSED_INTERVALS * INTERVAL_MS)} offline ` +
      `detection + ${secs(RESCHEDULE_AFTER_MS)} reschedule_after + ${secs(total - waited)})`;
  return `reschedule   ${containers} containers of ${lost} lost hosts (of ${r.hosts}) placed ` +
    `elsewhere ${when}: the new hosts' agents had them all, as ps confirmed (${ofRounds(r)}` +
    (never > 0 ? `; ${never} NEVER, counted as infinite` : "") +
    `; the server's last reschedule event at ${secsOrNever(of((x) => x.serverMs))}, ` +
    `ps showed them at ${secsOrNever(of((x) => x.psMs))}, a ps of all ${r.replicas} taking ${
      ms(median(r.rounds.flatMap((x) => x.reschedule.psCallsMs)))
    } p50)  (no target; the server waits ${secs(waited)}, then up to one ${
      secs(DUTY_EVERY_MS)
    } duty tick)`;
}
