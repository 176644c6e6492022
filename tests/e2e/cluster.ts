/**
 * An end-to-end fixture: the real program as separate processes (one server, one agent per host)
 * over real Docker engines, one per network namespace (see engines.ts).
 */
import type { ContainerStatus } from "../../src/api/schemas.ts";
import { LauncherClient } from "../../src/client/client.ts";
import { pollUntil } from "../poll_until.ts";
import { freePort } from "../processes.ts";
import { type EngineHost, type Engines, startEngines, TEST_IMAGE } from "./engines.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** The token password of the fixture's server. */
export const PASSWORD = "e2e-password";

/** A long-running command that stops at once on SIGTERM (busybox sleep as PID 1 would not). */
export const SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];

/** Manifest `shop` with one sleeper `web` pinned to host-a, its MODE variable set to `mode`. */
export function shopWeb(mode: string): string {
  return `name: shop
containers:
  - name: web
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
    environment: { MODE: ${mode} }
`;
}

/** What a finished CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A spawned launcher process with its output kept for failure messages. */
export class Proc {
  readonly output: string[] = [];
  private readonly child: Deno.ChildProcess;
  private readonly drained: Promise<void>;

  constructor(readonly label: string, args: string[], env: Record<string, string> = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env,
    }).spawn();
    this.drained = Promise.all([this.keep(this.child.stdout), this.keep(this.child.stderr)])
      .then(() => {});
  }

  private async keep(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) this.output.push(chunk);
  }

  /** Sends a signal and waits for the process to end; returns its exit code. */
  async stop(signal: Deno.Signal = "SIGKILL"): Promise<number> {
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
    const status = await this.child.status;
    await this.drained;
    return status.code;
  }

  /** The process id (the deno process itself: it is spawned directly). */
  get pid(): number {
    return this.child.pid;
  }

  /** Waits for the process to end on its own. */
  async exited(): Promise<number> {
    return (await this.child.status).code;
  }
}

/** Server, agents and engines of one test file. */
export class Cluster {
  readonly url: string;
  token = "";
  private server?: Proc;
  private readonly agents = new Map<string, Proc>();
  private readonly dataDir: string;
  readonly workDir: string;

  /** With `tls`: the folder `tls init` wrote the CA and the server's certificate to. */
  readonly tlsDir?: string;

  private constructor(
    readonly engines: Engines,
    readonly interval: string,
    private readonly agentDockerHost: (host: EngineHost) => string,
    private readonly store?: string,
    private readonly serverArgs: string[] = [],
    tls = false,
  ) {
    this.url = `${tls ? "https" : "http"}://127.0.0.1:${freePort()}`;
    this.workDir = Deno.makeTempDirSync({ prefix: "launcher-e2e-" });
    this.dataDir = `${this.workDir}/data`;
    if (tls) this.tlsDir = `${this.workDir}/tls`;
  }

  /**
   * Starts engines for `hosts`, the server, a token, and one agent per host (with the host's
   * `agentArgs`, such as `--label zone=a`) except the `idle` ones, whose agents a test starts
   * later with `startAgent`. `agentDockerHost` gives the engine address every agent start uses
   * (the engine's own socket unless given; the bench puts a tap in between). `store` is where the
   * server keeps its store (`serve --store`, a PostgreSQL URL) instead of the work dir.
   * `serverArgs` go to `serve` as well (`--metrics-public`). With
   * `tls`, `tls init` makes a CA and a certificate for 127.0.0.1, the server serves HTTPS with
   * them (`--tls-ca` too), and the CLI and agents trust it through `--ca` (`LAUNCHER_CA`).
   */
  static async start(
    hosts: string[],
    opts: {
      interval?: string;
      agentArgs?: Record<string, string[]>;
      idle?: string[];
      agentDockerHost?: (host: EngineHost) => string;
      store?: string;
      serverArgs?: string[];
      tls?: boolean;
    } = {},
  ): Promise<Cluster> {
    const engines = await startEngines(hosts);
    const dockerHost = opts.agentDockerHost ?? ((host: EngineHost) => host.dockerHost);
    const cluster = new Cluster(
      engines,
      opts.interval ?? "1s",
      dockerHost,
      opts.store,
      opts.serverArgs,
      opts.tls,
    );
    try {
      if (cluster.tlsDir !== undefined) {
        const init = await cluster.cli(
          ["tls", "init", "--dir", cluster.tlsDir, "--name", "localhost", "--ip", "127.0.0.1"],
        );
        if (init.code !== 0) throw new Error(`tls init failed: ${init.stderr}`);
      }
      await cluster.startServer();
      const token = await cluster.cli([
        "token",
        "generate",
        "--url",
        cluster.url,
        "--password-stdin",
      ], {
        stdin: `${PASSWORD}\n`,
      });
      if (token.code !== 0) throw new Error(`token generate failed: ${token.stderr}`);
      cluster.token = token.stdout.trim();
      for (const host of hosts) {
        if (!opts.idle?.includes(host)) cluster.startAgent(host, opts.agentArgs?.[host]);
      }
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The CA file a TLS cluster's clients trust. */
  get caFile(): string | undefined {
    return this.tlsDir === undefined ? undefined : `${this.tlsDir}/ca.pem`;
  }

  #httpClient?: Deno.HttpClient;

  /** A typed client for assertions (trusting the cluster's CA when it runs TLS). */
  client(token = this.token): LauncherClient {
    if (this.caFile !== undefined) {
      this.#httpClient ??= Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(this.caFile)] });
    }
    return new LauncherClient(
      this.url,
      token,
      this.#httpClient ? { httpClient: this.#httpClient } : {},
    );
  }

  /** Starts the server on the cluster's port and store and waits until it answers. */
  async startServer(): Promise<void> {
    const port = new URL(this.url).port;
    this.server = new Proc("server", [
      "serve",
      "--ip",
      "127.0.0.1",
      "--port",
      port,
      ...(this.store === undefined ? ["--data-dir", this.dataDir] : ["--store", this.store]),
      "--token-pass",
      PASSWORD,
      ...this.serverArgs,
      ...(this.tlsDir === undefined ? [] : [
        "--tls-cert",
        `${this.tlsDir}/server.pem`,
        "--tls-key",
        `${this.tlsDir}/server-key.pem`,
        "--tls-ca",
        `${this.tlsDir}/ca.pem`,
      ]),
    ]);
    await pollUntil("the server to answer", async () => {
      await this.client("").healthz();
      return true;
    });
  }

  /** SIGKILLs the server. */
  async killServer(): Promise<void> {
    await this.server?.stop("SIGKILL");
    this.server = undefined;
  }

  /**
   * Starts the agent of `host` against its own engine, or against the engine of `engineHost`
   * (two agents sharing one engine), with the admin token unless given one, polling the
   * cluster's server unless given `master` (a list `a,b` for several servers). A token of ""
   * passes none (an agent given `--join` in `extra`); a TLS cluster's agent with a token trusts
   * the CA through `--ca`.
   */
  startAgent(
    host: string,
    extra: string[] = [],
    token = this.token,
    engineHost = host,
    master = this.url,
  ): void {
    const engine = this.engines.hosts.find((h) => h.name === engineHost);
    if (!engine) throw new Error(`no engine for ${engineHost}`);
    this.agents.set(
      host,
      new Proc(`agent ${host}`, [
        "agent",
        "--master",
        master,
        "--host",
        host,
        ...(token === "" ? [] : ["--token", token]),
        ...(token === "" || this.caFile === undefined ? [] : ["--ca", this.caFile]),
        "--docker-host",
        this.agentDockerHost(engine),
        "--interval",
        this.interval,
        ...extra,
      ]),
    );
  }

  /** Stops the agent of `host` with a signal and returns its exit code. */
  async stopAgent(host: string, signal: Deno.Signal = "SIGKILL"): Promise<number> {
    const agent = this.agents.get(host);
    this.agents.delete(host);
    return agent ? await agent.stop(signal) : -1;
  }

  /** Runs a CLI command against the cluster (URL and token from the environment). */
  async cli(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      env: {
        LAUNCHER_URL: this.url,
        LAUNCHER_TOKEN: this.token,
        NO_COLOR: "1",
        ...(this.caFile === undefined ? {} : { LAUNCHER_CA: this.caFile }),
        ...opts.env,
      },
    }).spawn();
    if (opts.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(opts.stdin));
      await writer.close();
    }
    const out = await child.output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) } as CliResult;
  }

  /** Writes a manifest file in the cluster's work dir and returns its path. */
  writeManifest(name: string, yaml: string): string {
    const path = `${this.workDir}/${name}.yaml`;
    Deno.writeTextFileSync(path, yaml);
    return path;
  }

  /** `ps` of one manifest through the API. */
  async ps(manifest?: string): Promise<ContainerStatus[]> {
    return await this.client().ps(manifest);
  }

  /** Waits until every container of the manifest is in `state` (by name), returning the list. */
  async waitForStates(
    manifest: string,
    states: Record<string, string>,
    timeoutMs = 30_000,
  ): Promise<ContainerStatus[]> {
    return await pollUntil(`${manifest} to reach ${JSON.stringify(states)}`, async () => {
      const list = await this.ps(manifest);
      const ok = Object.entries(states).every(([name, state]) =>
        list.some((c) => c.config.name === name && c.state === state)
      );
      return ok ? list : undefined;
    }, { timeoutMs });
  }

  /** Inspects a container on a host's engine by its engine name (`manifest_name`). */
  async inspect(host: string, engineName: string): Promise<DockerInspect | undefined> {
    try {
      const out = await this.engines.docker(host, "inspect", engineName);
      return (JSON.parse(out) as DockerInspect[])[0];
    } catch {
      return undefined;
    }
  }

  /** Names of the containers on a host's engine. */
  async engineNames(host: string): Promise<string[]> {
    const out = await this.engines.docker(host, "ps", "-a", "--format", "{{.Names}}");
    return out.split("\n").filter(Boolean).sort();
  }

  /** A test step that prints every process's output when it fails. */
  async step(t: Deno.TestContext, name: string, fn: () => Promise<void>): Promise<void> {
    const ok = await t.step(name, async () => {
      try {
        await fn();
      } catch (error) {
        console.error(this.logs());
        throw error;
      }
    });
    if (!ok) throw new Error(`step failed: ${name}`);
  }

  /** What the agent of `host` has printed so far. */
  agentOutput(host: string): string {
    return this.agents.get(host)?.output.join("") ?? "";
  }

  /** The output of every process so far, for a failing test's message. */
  logs(): string {
    const procs = [this.server, ...this.agents.values()].filter((p): p is Proc => !!p);
    return procs.map((p) => `--- ${p.label}\n${p.output.join("")}`).join("\n");
  }

  /** Process ids of the server and of each host's agent, for resource figures. */
  pids(): { server?: number; agents: Record<string, number> } {
    const agents: Record<string, number> = {};
    for (const [host, agent] of this.agents) agents[host] = agent.pid;
    return { server: this.server?.pid, agents };
  }

  /** Stops every process and engine and removes the work dir. */
  async stop(): Promise<void> {
    await Promise.all([...this.agents.keys()].map((h) => this.stopAgent(h)));
    await this.killServer();
    await this.engines.stop();
    this.#httpClient?.close();
    await Deno.remove(this.workDir, { recursive: true }).catch(() => {});
  }
}

/** The parts of `docker inspect` the tests read. */
export interface DockerInspect {
  Id: string;
  Name: string;
  Config: { Labels: Record<string, string>; Env: string[]; Cmd: string[] | null };
  State: { Status: string; Running: boolean; ExitCode: number; StartedAt: string };
  HostConfig: Record<string, unknown>;
}
