/**
 * Figure 4, idle cost: CPU time (utime + stime from /proc/PID/stat) and resident memory (VmRSS,
 * sampled every second, the highest sample kept) of the server and of each agent over a window
 * in which the containers run and nothing changes. Raw: each host's dockerd over the same window
 * (containerd is shown beside it). dockerd's CPU includes answering the agents' periodic checks.
 */
import { clockTicksPerSecond, cpuTicks, rssBytes } from "./proc_stats.ts";
import { delay, mb, now, pct, secs, verdict } from "./stats.ts";
import type { TestBed } from "./test_bed.ts";

/** How the figure runs. */
export interface IdleOptions {
  windowMs: number;
  /** The agents' `--interval`, shown with the figure since it sets the periodic work. */
  interval: string;
  intervalMs: number;
  log: (line: string) => void;
}

/** One process's cost over the window. */
export interface ProcessCost {
  role: string;
  pid: number;
  /** Percent of one core over the window. */
  cpuPercent: number;
  /** CPU seconds over the window. */
  cpuSeconds: number;
  /** The highest VmRSS sample, bytes. */
  rssBytes: number;
}

/** The figure's result. */
export interface IdleResult {
  windowMs: number;
  interval: string;
  containers: number;
  server: ProcessCost;
  agents: ProcessCost[];
  dockerds: ProcessCost[];
  containerds: ProcessCost[];
}

const TARGET_AGENT_RSS = 50 * 1024 * 1024;
const TARGET_AGENT_CPU_PERCENT = 0.5;
const MIN_SETTLE_MS = 3_000;
const SAMPLE_EVERY_MS = 1_000;

/** Measures the window; `containers` is how many run during it (for the line only). */
export async function idleCost(
  bed: TestBed,
  containers: number,
  opts: IdleOptions,
): Promise<IdleResult> {
  // The last changes' reports and passes, and the garbage they left, settle first: two agent
  // intervals (each runs one periodic check), at least MIN_SETTLE_MS.
  await delay(Math.max(MIN_SETTLE_MS, 2 * opts.intervalMs));
  const ticksPerSecond = await clockTicksPerSecond();
  const pids = bed.cluster.pids();
  if (pids.server === undefined) throw new Error("the server is not running");
  const watched: { role: string; pid: number; group: keyof Groups }[] = [
    { role: "server", pid: pids.server, group: "server" },
    ...Object.entries(pids.agents).map(([host, pid]) => ({
      role: `agent ${host}`,
      pid,
      group: "agents" as const,
    })),
  ];
  for (const host of bed.hosts) {
    const dockerd = bed.dockerdPid(host);
    const containerd = bed.containerdPid(host);
    if (dockerd !== undefined) {
      watched.push({ role: `dockerd ${host.name}`, pid: dockerd, group: "dockerds" });
    }
    if (containerd !== undefined) {
      watched.push({ role: `containerd ${host.name}`, pid: containerd, group: "containerds" });
    }
  }

  const startTicks = watched.map((w) => cpuTicks(w.pid));
  const peakRss = watched.map((w) => rssBytes(w.pid));
  const t0 = now();
  opts.log(`  idle window of ${secs(opts.windowMs)} started (${containers} containers running)`);
  while (now() - t0 < opts.windowMs) {
    await delay(Math.min(SAMPLE_EVERY_MS, Math.max(0, opts.windowMs - (now() - t0))));
    watched.forEach((w, i) => peakRss[i] = Math.max(peakRss[i], rssBytes(w.pid)));
  }
  const elapsed = now() - t0;
  const groups: Groups = { server: [], agents: [], dockerds: [], containerds: [] };
  watched.forEach((w, i) => {
    const cpuSeconds = (cpuTicks(w.pid) - startTicks[i]) / ticksPerSecond;
    const cost: ProcessCost = {
      role: w.role,
      pid: w.pid,
      cpuSeconds,
      cpuPercent: (cpuSeconds / (elapsed / 1000)) * 100,
      rssBytes: peakRss[i],
    };
    groups[w.group].push(cost);
    opts.log(
      `  idle ${cost.role.padEnd(18)} cpu ${pct(cost.cpuPercent)} (${
        cost.cpuSeconds.toFixed(2)
      } s)  rss ${mb(cost.rssBytes)}`,
    );
  });
  return {
    windowMs: elapsed,
    interval: opts.interval,
    containers,
    server: groups.server[0],
    agents: groups.agents,
    dockerds: groups.dockerds,
    containerds: groups.containerds,
  };
}

/** The figure's summary line: the worse agent, the server, and the busier dockerd. */
export function idleLine(r: IdleResult): string {
  const worst = (list: ProcessCost[], key: "cpuPercent" | "rssBytes") =>
    Math.max(...list.map((c) => c[key]));
  const agentCpu = worst(r.agents, "cpuPercent");
  const agentRss = worst(r.agents, "rssBytes");
  const met = agentCpu < TARGET_AGENT_CPU_PERCENT && agentRss < TARGET_AGENT_RSS;
  return `idle         ${
    secs(r.windowMs)
  } with ${r.containers} running, --interval ${r.interval}  ` +
    `agent cpu ${pct(agentCpu)} rss ${mb(agentRss)} (worse of ${r.agents.length})  ` +
    `server cpu ${pct(r.server.cpuPercent)} rss ${mb(r.server.rssBytes)}  ` +
    `raw dockerd cpu ${pct(worst(r.dockerds, "cpuPercent"))} rss ${
      mb(worst(r.dockerds, "rssBytes"))
    }  (target agent < ${TARGET_AGENT_CPU_PERCENT}% of a core, < ${
      TARGET_AGENT_RSS / 1024 / 1024
    } MB)  ${verdict(met)}`;
}

interface Groups {
  server: ProcessCost[];
  agents: ProcessCost[];
  dockerds: ProcessCost[];
  containerds: ProcessCost[];
}
