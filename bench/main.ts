/**
 * `deno task bench`: launcher's figures next to the raw Docker engine's, on real engines (two
 * hosts as two engines in network namespaces), and on servers of their own for the fan-out and
 * for placement and rescheduling over simulated hosts. Figures are
 * reported, not asserted. Everything started is stopped again, also on failure; a watchdog ends
 * the run if it ever takes longer than WATCHDOG_MS. See docs/benchmarks.md.
 */
import { parseArgs } from "node:util";
import { parseDuration } from "../src/duration.ts";
import { Cleanup } from "./cleanup.ts";
import { convergence, convergenceLine, type ConvergenceResult } from "./convergence.ts";
import { engineCallsLine } from "./engine_calls.ts";
import { fanOut, fanOutLine } from "./fan_out.ts";
import { haFanOut, haFanOutLine, haPropagation, haPropagationLine } from "./ha.ts";
import { idleCost, idleLine } from "./idle_cost.ts";
import { metricsScrape, metricsScrapeLine } from "./metrics_scrape.ts";
import {
  ISSUE_HOSTS,
  ISSUE_REPLICAS,
  placement,
  placementLine,
  type PlacementResult,
  rescheduleLine,
} from "./placement.ts";
import { propagation, propagationLine } from "./propagation.ts";
import { reportLatency, reportLatencyLine } from "./report_latency.ts";
import { silentClients, silentClientsLine } from "./silent_clients.ts";
import { secs } from "./stats.ts";
import { tlsCost, tlsLine } from "./tls.ts";
import { HOSTS, sleeperManifest, TestBed } from "./test_bed.ts";
import { UI_CONTAINERS, UI_HOSTS, uiOverview, uiOverviewLine } from "./ui_overview.ts";

const FIGURES = [
  "convergence",
  "engine-calls",
  "propagation",
  "report",
  "idle",
  "fan-out",
  "placement",
  "reschedule",
  "ha-propagation",
  "ha-fanout",
  "metrics",
  "silent-clients",
  "tls",
  "ui-overview",
] as const;
type Figure = typeof FIGURES[number];

const WATCHDOG_MS = 10 * 60_000;

const USAGE = `usage: deno task bench [options]
  --quick              shorter run: 1 convergence and placement round, 5 runs, idle 10s,
                       2000 replicas over 200 hosts, 1000 agents over two servers
  --idle <duration>    idle window (default 60s; 10s with --quick)
  --runs <n>           runs of propagation and report latency (default 20)
  --rounds <n>         convergence rounds, raw and launcher alternating, and placement
                       rounds (default 3)
  --containers <n>     containers of the convergence and idle figures (default 50)
  --fan-out <n>        simulated agents of the fan-out figure, and of the tls figure's
                       HTTP and HTTPS fan-outs (default 2000)
  --ha-fan-out <n>     simulated agents of the ha-fanout figure, over two servers on one
                       PostgreSQL (default 10000; 1000 with --quick)
  --replicas <n>       replicas of the placement figure (default ${ISSUE_REPLICAS}; 2000 with --quick)
  --sim-hosts <n>      simulated hosts of the placement figure (default ${ISSUE_HOSTS}; 200 with --quick)
  --silent <n>         connections that send nothing, of the silent-clients figure
                       (default 5000; 1000 with --quick)
  --interval <dur>     the agents' --interval (default 5s, the agent's own default)
  --only <list>        comma-separated figures: ${FIGURES.join(",")}
                       (convergence and engine-calls come together: the same rounds;
                       so do placement and reschedule)
  -h, --help           this text`;

interface Settings {
  idleMs: number;
  runs: number;
  rounds: number;
  containers: number;
  fanOut: number;
  haFanOut: number;
  replicas: number;
  simHosts: number;
  silent: number;
  quick: boolean;
  interval: string;
  only: Set<Figure>;
}

function settings(): Settings {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      idle: { type: "string" },
      runs: { type: "string" },
      rounds: { type: "string" },
      containers: { type: "string" },
      "fan-out": { type: "string" },
      "ha-fan-out": { type: "string" },
      replicas: { type: "string" },
      "sim-hosts": { type: "string" },
      silent: { type: "string" },
      interval: { type: "string", default: "5s" },
      only: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const count = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number above 0`);
    return n;
  };
  const only = new Set<Figure>();
  for (const name of (values.only ?? FIGURES.join(",")).split(",").map((s) => s.trim())) {
    if (!(FIGURES as readonly string[]).includes(name)) {
      throw new Error(`--only: unknown figure "${name}"; pick from ${FIGURES.join(", ")}`);
    }
    only.add(name as Figure);
  }
  // The engine calls are counted during the convergence figure's launcher rounds.
  if (only.has("convergence") || only.has("engine-calls")) {
    only.add("convergence").add("engine-calls");
  }
  // The rescheduling figure moves the containers the placement figure placed.
  if (only.has("placement") || only.has("reschedule")) only.add("placement").add("reschedule");
  parseDuration(values.interval);
  return {
    idleMs: parseDuration(values.idle ?? (values.quick ? "10s" : "60s")),
    runs: count("runs", values.runs, values.quick ? 5 : 20),
    rounds: count("rounds", values.rounds, values.quick ? 1 : 3),
    containers: count("containers", values.containers, 50),
    fanOut: count("fan-out", values["fan-out"], 2000),
    haFanOut: count("ha-fan-out", values["ha-fan-out"], values.quick ? 1000 : 10_000),
    replicas: count("replicas", values.replicas, values.quick ? 2000 : ISSUE_REPLICAS),
    simHosts: count("sim-hosts", values["sim-hosts"], values.quick ? 200 : ISSUE_HOSTS),
    silent: count("silent", values.silent, values.quick ? 1000 : 5000),
    quick: values.quick,
    interval: values.interval,
    only,
  };
}

async function commandLine(command: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(command, { args, stdin: "null", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "unavailable";
  }
}

async function machine(): Promise<string> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => ""))
    .match(/^model name\s*:\s*(.*)$/m)?.[1] ?? "unknown cpu";
  const memKb = Number(
    (await Deno.readTextFile("/proc/meminfo").catch(() => "")).match(/^MemTotal:\s+(\d+)/m)?.[1],
  );
  return [
    `machine  nproc ${await commandLine("nproc", [])} (${cpu})`,
    `mem ${(memKb / 1024 / 1024).toFixed(1)} GB`,
    `kernel ${Deno.osRelease()}`,
    // Other work on the machine moves every wall-clock figure: say how busy it was at the start.
    `load ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}`,
    `deno ${Deno.version.deno}`,
    `${await commandLine("docker", ["--version"])} (CLI)`,
    `${await commandLine("dockerd", ["--version"])} (engine)`,
  ].join("  ");
}

async function main(): Promise<number> {
  const s = settings();
  const log = (line: string) => console.log(line);
  const cleanup = new Cleanup();
  const started = Date.now();
  const watchdog = setTimeout(async () => {
    log(`watchdog: the bench ran for ${secs(WATCHDOG_MS)}; stopping everything`);
    await cleanup.runAll(log);
    Deno.exit(2);
  }, WATCHDOG_MS);
  Deno.unrefTimer(watchdog);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    // Deno.exit runs the unload event, where the cleanup's emergency parts run.
    Deno.addSignalListener(signal, () => Deno.exit(signal === "SIGINT" ? 130 : 143));
  }

  log(await machine());
  log(
    `settings  containers ${s.containers}  rounds ${s.rounds}  runs ${s.runs}  idle ${
      secs(s.idleMs)
    }  fan-out ${s.fanOut}  ha-fan-out ${s.haFanOut}  placement ${s.replicas} over ${s.simHosts}  agent --interval ${s.interval}  figures ${
      FIGURES.filter((f) => s.only.has(f)).join(",")
    }`,
  );
  const summary = new Map<Figure, string>();
  let setupFailure: string | undefined;
  let liveBed: TestBed | undefined;
  const attempt = async (figure: Figure, run: () => Promise<string>) => {
    if (!s.only.has(figure)) return;
    const t0 = Date.now();
    try {
      summary.set(figure, await run());
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      summary.set(figure, `${figure.padEnd(12)} FAILED: ${reason}`);
      // The processes' own words are the best clue to what went wrong.
      if (liveBed) log(liveBed.cluster.logs().split("\n").slice(-40).join("\n"));
    }
    log(`${summary.get(figure)}  [${secs(Date.now() - t0)}]`);
  };

  try {
    const needsBed = ["convergence", "propagation", "report", "idle"].some((f) =>
      s.only.has(f as Figure)
    );
    if (needsBed) {
      log(
        `starting two engines, a server and two agents behind socket taps (--interval ${s.interval})`,
      );
      const bed = await TestBed.start(cleanup, s.interval);
      liveBed = bed;
      const engine = await bed.hosts[0].engine.version();
      log(`engines up: Docker ${engine.version} (API ${engine.apiVersion}) on ${HOSTS.join(", ")}`);

      let converged: ConvergenceResult | undefined;
      await attempt("convergence", async () => {
        converged = await convergence(bed, {
          containers: s.containers,
          rounds: s.rounds,
          intervalMs: parseDuration(s.interval),
          log,
        });
        return convergenceLine(converged);
      });
      await attempt("engine-calls", () => {
        if (converged === undefined) throw new Error("the convergence figure did not finish");
        return Promise.resolve(
          engineCallsLine(converged.containers, converged.rounds.map((r) => r.calls)),
        );
      });
      await attempt("idle", async () => {
        if (converged?.manifest === undefined) {
          const manifest = "idle";
          await bed.client.up(sleeperManifest(manifest, s.containers, HOSTS));
          await bed.psUntil(
            manifest,
            (list) => list.length === s.containers && list.every((c) => c.state === "running"),
            120_000,
            100,
          );
        }
        return idleLine(
          await idleCost(bed, s.containers, {
            windowMs: s.idleMs,
            interval: s.interval,
            intervalMs: parseDuration(s.interval),
            log,
          }),
        );
      });
      await attempt(
        "report",
        async () => reportLatencyLine(await reportLatency(bed, { runs: s.runs, log })),
      );
      await attempt(
        "propagation",
        async () => propagationLine(await propagation(bed, { runs: s.runs, log })),
      );
      // The fan-out runs on a quiet machine: engines and containers are gone by then.
      liveBed = undefined;
      await bed.stop();
    }
    await attempt(
      "fan-out",
      async () => fanOutLine(await fanOut(cleanup, { agents: s.fanOut, log })),
    );
    let placed: PlacementResult | undefined;
    await attempt("placement", async () => {
      placed = await placement(cleanup, {
        replicas: s.replicas,
        hosts: s.simHosts,
        rounds: s.rounds,
        quick: s.quick,
        log,
      });
      return placementLine(placed);
    });
    await attempt("reschedule", () => {
      if (placed === undefined) throw new Error("the placement figure did not finish");
      return Promise.resolve(rescheduleLine(placed));
    });
    await attempt(
      "ha-propagation",
      async () => haPropagationLine(await haPropagation(cleanup, { runs: s.runs, log })),
    );
    await attempt(
      "ha-fanout",
      async () =>
        haFanOutLine(await haFanOut(cleanup, { agents: s.haFanOut, quick: s.quick, log })),
    );
    await attempt(
      "metrics",
      async () =>
        metricsScrapeLine(await metricsScrape(cleanup, { runs: s.quick ? 20 : 100, log })),
    );
    await attempt(
      "silent-clients",
      async () => silentClientsLine(await silentClients(cleanup, { connections: s.silent, log })),
    );
    await attempt("tls", async () => tlsLine(await tlsCost(cleanup, { agents: s.fanOut, log })));
    await attempt("ui-overview", async () =>
      uiOverviewLine(
        await uiOverview(cleanup, {
          hosts: UI_HOSTS,
          containers: UI_CONTAINERS,
          requests: s.runs * 5,
          log,
        }),
      ));
  } catch (error) {
    setupFailure = error instanceof Error ? error.stack ?? error.message : String(error);
    log(`bench setup FAILED: ${setupFailure}`);
  } finally {
    log("cleaning up");
    await cleanup.runAll(log);
    clearTimeout(watchdog);
  }

  log("");
  log(`summary (${secs(Date.now() - started)} in all)`);
  for (const figure of FIGURES) {
    const line = summary.get(figure);
    if (line !== undefined) log(line);
  }
  if (setupFailure !== undefined) log(`setup FAILED: ${setupFailure.split("\n")[0]}`);
  const failed = setupFailure !== undefined ||
    [...summary.values()].some((line) => line.includes("FAILED"));
  return failed ? 1 : 0;
}

Deno.exit(await main());
