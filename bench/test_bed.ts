/**
 * The bed figures 1 to 4 and 6 run on: two hosts as two engines in network namespaces, one server
 * and one agent per host (the e2e Cluster), each agent talking to its engine through a socket tap
 * from its first start, a Docker adapter per engine for the raw figures (straight to the engine,
 * not through the tap), and a record of each engine's container events.
 */
import type { ContainerStatus } from "../src/api/schemas.ts";
import type { LauncherClient } from "../src/client/client.ts";
import { ApiError } from "../src/client/errors.ts";
import type { ContainerEvent } from "../src/docker/engine.ts";
import { DockerEngine } from "../src/docker/docker_engine.ts";
import type { CreateContainerBody } from "../src/docker/wire.ts";
import { Cluster, SLEEPER } from "../tests/e2e/cluster.ts";
import { TEST_IMAGE } from "../tests/e2e/engines.ts";
import { type Cleanup, killPid, removeDirSync } from "./cleanup.ts";
import { EngineTaps } from "./engine_taps.ts";
import { readPidFile } from "./proc_stats.ts";
import type { SocketTap } from "./socket_tap.ts";
import { pollUntil } from "../tests/poll_until.ts";
import { now } from "./stats.ts";

/** The two host names of the bed. */
export const HOSTS = ["host-a", "host-b"] as const;

/** The create body of a raw container: what the agent sends, with a label of the bench's own. */
export function rawCreateBody(): CreateContainerBody {
  return { Image: TEST_IMAGE, Cmd: SLEEPER, Labels: { "bench.raw": "1" }, HostConfig: {} };
}

/** A manifest of `count` sleeper containers named `c00`.., spread over the hosts in turn. */
export function sleeperManifest(name: string, count: number, hosts: readonly string[]): string {
  const width = String(Math.max(count - 1, 0)).length;
  const lines = [`name: ${name}`, "containers:"];
  for (let i = 0; i < count; i++) {
    lines.push(
      `  - name: c${String(i).padStart(width, "0")}`,
      `    host: ${hosts[i % hosts.length]}`,
      `    image: ${TEST_IMAGE}`,
      `    cmd: ${JSON.stringify(SLEEPER)}`,
    );
  }
  return lines.join("\n") + "\n";
}

/** The container events of one engine since the log started, with waits on what comes next. */
export class EventLog {
  readonly events: ContainerEvent[] = [];
  readonly #waiters = new Set<{ match: (e: ContainerEvent) => boolean; wake: () => void }>();
  #since = Date.now();

  constructor(private readonly engine: DockerEngine, private readonly signal: AbortSignal) {
    this.#follow();
  }

  /** The first recorded event that matches, waiting up to `timeoutMs` for it. */
  async find(match: (e: ContainerEvent) => boolean, timeoutMs = 15_000): Promise<ContainerEvent> {
    const seen = this.events.find(match);
    if (seen) return seen;
    let entry: { match: (e: ContainerEvent) => boolean; wake: () => void } | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        entry = { match, wake: resolve };
        this.#waiters.add(entry);
        timer = setTimeout(
          () => reject(new Error(`no matching engine event within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
    } finally {
      clearTimeout(timer);
      if (entry) this.#waiters.delete(entry);
    }
    return this.events.find(match)!;
  }

  /** Follows the engine's events; `since` replays whatever a late or broken connection missed. */
  async #follow(): Promise<void> {
    while (!this.signal.aborted) {
      try {
        for await (const event of this.engine.events([], this.signal, { since: this.#since })) {
          this.#since = Math.max(this.#since, event.time);
          this.events.push(event);
          for (const waiter of [...this.#waiters]) {
            if (waiter.match(event)) waiter.wake();
          }
        }
      } catch {
        // The engine went away for a moment: follow again from the last event seen.
      }
      if (!this.signal.aborted) await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** One host of the bed: its engine adapter, event log, the agent's tap and dockerd's folder. */
export interface BedHost {
  name: string;
  engine: DockerEngine;
  events: EventLog;
  /** Every engine call the host's agent made, as it went through. */
  tap: SocketTap;
  /** The host's own folder: the pid files of dockerd and containerd live under it. */
  dir: string;
}

/** The running bed. */
export class TestBed {
  private constructor(
    readonly cluster: Cluster,
    readonly hosts: BedHost[],
    readonly client: LauncherClient,
    /** Stops engines, server and agents now (the cleanup would do it at the end). */
    readonly stop: () => Promise<void>,
  ) {}

  /** Starts engines, server, taps and agents; every part is registered with `cleanup`. */
  static async start(cleanup: Cleanup, interval: string): Promise<TestBed> {
    // Registered first, so closed last: after the agents that talk through them have stopped.
    const taps = new EngineTaps(cleanup);
    // Cluster.start stops what it started when it fails part way.
    const cluster = await Cluster.start([...HOSTS], {
      interval,
      agentDockerHost: (host) => taps.dockerHost(host),
    });
    const events = new AbortController();
    const stop = cleanup.add({
      name: "engines, server and agents",
      run: async () => {
        events.abort();
        await cluster.stop();
      },
      emergency: () => {
        events.abort();
        const pids = cluster.pids();
        killPid(pids.server);
        for (const pid of Object.values(pids.agents)) killPid(pid);
        removeDirSync(cluster.workDir);
        // The engines sweep themselves on unload (engines.ts).
      },
    });
    const hosts = cluster.engines.hosts.map((host) => {
      const engine = new DockerEngine(host.dockerHost);
      const socket = new URL(host.dockerHost).pathname;
      return {
        name: host.name,
        engine,
        events: new EventLog(engine, events.signal),
        tap: taps.get(host.name),
        dir: socket.slice(0, socket.lastIndexOf("/")),
      };
    });
    return new TestBed(cluster, hosts, cluster.client(), stop);
  }

  /** The host of this name. */
  host(name: string): BedHost {
    const host = this.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no host ${name}`);
    return host;
  }

  /** dockerd's pid on a host, from its pid file. */
  dockerdPid(host: BedHost): number | undefined {
    return readPidFile(`${host.dir}/docker.pid`);
  }

  /** containerd's pid on a host (dockerd starts it under its exec root). */
  containerdPid(host: BedHost): number | undefined {
    return readPidFile(`${host.dir}/exec/containerd/containerd.pid`);
  }

  /** `ps` of one manifest, polled until `ok` holds for the list; resolves with the time seen. */
  async psUntil(
    manifest: string,
    ok: (list: ContainerStatus[]) => boolean,
    timeoutMs: number,
    everyMs: number,
  ): Promise<number> {
    let last = "nothing yet";
    return await pollUntil(
      () => `ps of ${manifest} (last seen: ${last})`,
      async () => {
        const list = await this.client.ps(manifest);
        if (ok(list)) return now();
        last = stateCounts(list);
        return undefined;
      },
      { timeoutMs, everyMs },
    );
  }

  /** Removes a manifest and waits until its containers are gone from ps and from the engines. */
  async downAndWait(manifest: string, timeoutMs = 60_000): Promise<void> {
    await this.client.down(manifest);
    await pollUntil(
      `${manifest} to be removed`,
      async () => {
        try {
          await this.client.ps(manifest);
          return false;
        } catch (error) {
          // Not found: the agents reported every container removed and the manifest is gone.
          if (!(error instanceof ApiError && error.status === 404)) throw error;
        }
        for (const host of this.hosts) {
          const left = await host.engine.listContainers([`launcher.manifest=${manifest}`]);
          if (left.length > 0) return false;
        }
        return true;
      },
      { timeoutMs, everyMs: 100 },
    );
  }
}

/** `running 40, pending 10`: how many containers of a list are in each state. */
export function stateCounts(list: ContainerStatus[]): string {
  const counts = new Map<string, number>();
  for (const c of list) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${state} ${n}`).join(", ") || "no containers";
}
