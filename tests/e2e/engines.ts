/**
 * Real Docker engines as separate hosts for end-to-end tests: one network namespace and one
 * dockerd per host, each with its own socket, data, exec root and cgroup parent, all removed
 * again by `stop()` (or, as a last resort, when the process unloads or gets SIGINT/SIGTERM).
 */
import { DockerEngine } from "../../src/docker/docker_engine.ts";
import { isAlive, run, signal } from "../processes.ts";

/** The image every engine holds: busybox and its applets, `CMD ["sh"]`. */
export const TEST_IMAGE = "launcher-test:1";

/** One test host: its name, how to reach its engine, and its network namespace. */
export interface EngineHost {
  name: string;
  /** `unix:///...`: the engine's socket. */
  dockerHost: string;
  /** The network namespace the engine and its published ports live in. */
  netns: string;
}

/** Running engines, one per host. */
export interface Engines {
  hosts: EngineHost[];
  /** Runs the docker CLI against one host's engine; resolves with stdout, throws with stderr. */
  docker(host: string | EngineHost, ...args: string[]): Promise<string>;
  /** Restarts one host's dockerd (its containers stop, as on a real engine restart). */
  restart(host: string): Promise<void>;
  /**
   * SIGKILLs one host's dockerd (a crash), then starts it again on the same state; resolves when
   * the new engine answers.
   */
  crash(host: string): Promise<void>;
  /** Stops every engine, its containers, namespace and files; safe to call more than once. */
  stop(): Promise<void>;
}

/** Everything one host's start created, so that any part of it can be undone. */
interface HostState {
  host: EngineHost;
  dir: string;
  cgroupParent: string;
  netnsCreated: boolean;
  child?: Deno.ChildProcess;
  exited?: Promise<Deno.CommandStatus>;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** Hosts started and not yet swept, for the cleanup on unload and signals. */
const live = new Set<HostState>();
/** Run folders not yet removed, for the same cleanup. */
const liveRunDirs = new Set<string>();
let imageTar: Promise<string> | undefined;
let imageDir: string | undefined;
let hooksInstalled = false;

/**
 * Starts one engine per name, in parallel, each with TEST_IMAGE imported. On failure everything
 * already started is removed before the error is thrown.
 */
export async function startEngines(names: string[]): Promise<Engines> {
  for (const name of names) {
    if (!NAME.test(name)) throw new Error(`Invalid host name "${name}"`);
  }
  if (new Set(names).size !== names.length) throw new Error("Host names must be unique");
  installHooks();
  const tag = `${Deno.pid}-${crypto.randomUUID().slice(0, 6)}`;
  const runDir = await Deno.makeTempDir({ prefix: `lt-${tag}-` });
  liveRunDirs.add(runDir);
  // Socket paths are limited to 108 bytes, so host folders are numbered, not named.
  const states: HostState[] = names.map((name, i) => ({
    host: { name, dockerHost: `unix://${runDir}/h${i}/docker.sock`, netns: `lt-${tag}-${name}` },
    dir: `${runDir}/h${i}`,
    cgroupParent: `/lt-${tag}-${name}`,
    netnsCreated: false,
  }));
  for (const state of states) live.add(state);

  let stopping: Promise<void> | undefined;
  const engines: Engines = {
    hosts: states.map((state) => state.host),
    docker: async (host, ...args) => {
      const name = typeof host === "string" ? host : host.name;
      const state = states.find((s) => s.host.name === name);
      if (!state) throw new Error(`Unknown host "${name}"`);
      return await run("docker", ["-H", state.host.dockerHost, ...args]);
    },
    restart: (name) => {
      const state = states.find((s) => s.host.name === name);
      if (!state) throw new Error(`Unknown host "${name}"`);
      return restartHost(state);
    },
    crash: (name) => {
      const state = states.find((s) => s.host.name === name);
      if (!state) throw new Error(`Unknown host "${name}"`);
      return crashHost(state);
    },
    stop: () => {
      stopping ??= Promise.all(states.map(stopHost)).then(async () => {
        await Deno.remove(runDir, { recursive: true });
        liveRunDirs.delete(runDir);
      });
      return stopping;
    },
  };

  const tar = buildImageTar();
  const started = await Promise.allSettled(states.map((state) => startHost(state, tar)));
  const failures = started.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
  if (failures.length > 0) {
    await engines.stop().catch(() => {});
    throw failures.length === 1
      ? failures[0]
      : new AggregateError(failures, "Some engines failed to start");
  }
  return engines;
}

/** Runs a command inside a host's network namespace (to reach its published ports). */
export function execInHost(netns: string, args: string[]): Promise<string> {
  return run("nsenter", [`--net=/var/run/netns/${netns}`, "--", ...args]);
}

async function startHost(state: HostState, tar: Promise<string>): Promise<void> {
  const { host, dir } = state;
  await run("ip", ["netns", "add", host.netns]);
  state.netnsCreated = true;
  await run("ip", ["-n", host.netns, "link", "set", "lo", "up"]);
  await Deno.mkdir(dir, { recursive: true });
  // An own config file keeps /etc/docker/daemon.json out, and an own key file gives each
  // engine its own ID instead of sharing /etc/docker/key.json.
  await Deno.writeTextFile(
    `${dir}/daemon.json`,
    JSON.stringify({ "deprecated-key-path": `${dir}/key.json` }),
  );
  await launchDockerd(state);
  await run("docker", [
    "-H",
    host.dockerHost,
    "import",
    "--change",
    'CMD ["sh"]',
    await tar,
    TEST_IMAGE,
  ]);
}

/** Starts a host's dockerd in its namespace and waits until it answers. */
async function launchDockerd(state: HostState): Promise<void> {
  const { host, dir } = state;
  const dockerd = [
    "dockerd",
    `--config-file=${dir}/daemon.json`,
    `--host=${host.dockerHost}`,
    `--data-root=${dir}/data`,
    `--exec-root=${dir}/exec`,
    `--pidfile=${dir}/docker.pid`,
    // Containers of each engine in a cgroup of their own, so stragglers can be found and
    // swept; cgroupfs because a systemd driver would demand a slice name here.
    `--cgroup-parent=${state.cgroupParent}`,
    "--exec-opt=native.cgroupdriver=cgroupfs",
  ];
  // nsenter and not `ip netns exec`: the latter remounts /sys and dockerd then fails with
  // "Devices cgroup isn't mounted". The shell only sends the log to a file and execs.
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'exec "$@" >"$0" 2>&1',
      `${dir}/dockerd.log`,
      "nsenter",
      `--net=/var/run/netns/${host.netns}`,
      "--",
      ...dockerd,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Unref'd so a test that forgets stop() still lets the process end (and unload sweep it).
  child.unref();
  state.child = child;
  state.exited = child.status;

  const engine = new DockerEngine(host.dockerHost);
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  state.exited.then(() => exited = true);
  for (;;) {
    if (exited) throw new Error(`dockerd for ${host.name} exited: ${await logTail(dir)}`);
    if (Date.now() > deadline) {
      throw new Error(`dockerd for ${host.name} did not answer in time: ${await logTail(dir)}`);
    }
    try {
      await engine.ping();
      break;
    } catch {
      await delay(25);
    }
  }
}

/** Stops a host's dockerd as its init system would (SIGTERM, containers stopped) and starts it again. */
async function restartHost(state: HostState): Promise<void> {
  if (!state.child || !state.exited) {
    throw new Error(`dockerd for ${state.host.name} is not running`);
  }
  signal(state.child.pid, "SIGTERM");
  await withTimeout(state.exited, STOP_TIMEOUT_MS);
  await launchDockerd(state);
}

/**
 * Kills a host's dockerd with SIGKILL and starts it again. Its containerd is left behind as a
 * zombie nothing here reaps, and a pid file naming it makes the next dockerd wait ~80 s and give
 * up (DESIGN.md section 7): that pid file goes first.
 */
async function crashHost(state: HostState): Promise<void> {
  if (!state.child || !state.exited) {
    throw new Error(`dockerd for ${state.host.name} is not running`);
  }
  signal(state.child.pid, "SIGKILL");
  await withTimeout(state.exited, STOP_TIMEOUT_MS);
  const pidFile = `${state.dir}/exec/containerd/containerd.pid`;
  const containerd = await Deno.readTextFile(pidFile).then((p) => Number(p.trim()), () => 0);
  // containerd follows its dockerd out within moments; a new dockerd must not find it half gone.
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (containerd > 0 && isAlive(containerd) && Date.now() < deadline) await delay(20);
  if (containerd > 0 && !isAlive(containerd)) await Deno.remove(pidFile).catch(() => {});
  await launchDockerd(state);
}

async function stopHost(state: HostState): Promise<void> {
  if (state.child && state.exited) {
    // Removing the containers through the engine first lets runc tear down their cgroups and
    // mounts itself; the sweep below only catches what is left.
    await withTimeout(removeAllContainers(state.host.dockerHost), STOP_TIMEOUT_MS).catch(() => {});
    // dockerd finishes its shutdown in milliseconds, then sends SIGTERM to its containerd and
    // polls it once a second. Ending dockerd as soon as containerd is gone saves that second.
    // (Signalling containerd ourselves races dockerd's health check, which then asks
    // containerd for a stack dump in /tmp before killing it.)
    const containerd = await Deno.readTextFile(`${state.dir}/exec/containerd/containerd.pid`)
      .then((pid) => Number(pid.trim()), () => undefined);
    signal(state.child.pid, "SIGTERM");
    let exited = false;
    state.exited.then(() => exited = true);
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    let shutDown = false;
    while (!exited && Date.now() < deadline) {
      shutDown ||= (await Deno.readTextFile(`${state.dir}/dockerd.log`).catch(() => ""))
        .includes("Daemon shutdown complete");
      if (shutDown && (containerd === undefined || !isAlive(containerd))) break;
      await delay(10);
    }
    if (!exited) signal(state.child.pid, "SIGKILL");
    await withTimeout(state.exited, STOP_TIMEOUT_MS).catch(() => {});
  }
  sweep(state);
}

async function removeAllContainers(dockerHost: string): Promise<void> {
  const engine = new DockerEngine(dockerHost);
  const containers = await engine.listContainers([]);
  await Promise.all(containers.map((c) => engine.removeContainer(c.id, { force: true })));
}

/**
 * Synchronously removes whatever is left of a host: every process in its namespace, cgroup or
 * folder, the mounts under its folder, its cgroups, its namespace and its folder. Synchronous
 * so that it can run from an unload handler.
 */
function sweep(state: HostState): void {
  const pids = strayProcesses(state);
  for (const pid of pids) signal(pid, "SIGKILL");
  const deadline = Date.now() + 5_000;
  while ([...pids].some(isAlive) && Date.now() < deadline) sleepSync(20);
  for (const mountPoint of mountsUnder(state.dir)) {
    runSync("umount", ["-l", mountPoint]);
  }
  for (const root of cgroupRoots()) removeCgroupTree(`${root}${state.cgroupParent}`);
  if (state.netnsCreated) {
    runSync("ip", ["netns", "del", state.host.netns]);
    state.netnsCreated = false;
  }
  try {
    Deno.removeSync(state.dir, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  live.delete(state);
}

function strayProcesses(state: HostState): Set<number> {
  const pids = new Set<number>();
  let netnsInode: number | undefined;
  if (state.netnsCreated) {
    try {
      netnsInode = Deno.statSync(`/var/run/netns/${state.host.netns}`).ino ?? undefined;
    } catch {
      netnsInode = undefined;
    }
  }
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    try {
      if (netnsInode !== undefined) {
        const link = Deno.readLinkSync(`/proc/${pid}/ns/net`);
        if (link === `net:[${netnsInode}]`) pids.add(pid);
      }
      const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
      if (cmdline.includes(`${state.dir}/`)) pids.add(pid);
    } catch {
      // The process ended while we looked.
    }
  }
  for (const root of cgroupRoots()) {
    for (const file of cgroupFiles(`${root}${state.cgroupParent}`, "cgroup.procs")) {
      try {
        for (const line of Deno.readTextFileSync(file).split("\n")) {
          if (line !== "") pids.add(Number(line));
        }
      } catch {
        // The cgroup went away while we looked.
      }
    }
  }
  return pids;
}

/** The cgroup hierarchies: the v2 root itself, or one folder per v1 controller. */
function cgroupRoots(): string[] {
  try {
    Deno.statSync("/sys/fs/cgroup/cgroup.controllers");
    return ["/sys/fs/cgroup"];
  } catch {
    try {
      return [...Deno.readDirSync("/sys/fs/cgroup")]
        .filter((e) => e.isDirectory)
        .map((e) => `/sys/fs/cgroup/${e.name}`);
    } catch {
      return [];
    }
  }
}

function cgroupFiles(dir: string, fileName: string): string[] {
  const found: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return found;
  }
  found.push(`${dir}/${fileName}`);
  for (const entry of entries) {
    if (entry.isDirectory) found.push(...cgroupFiles(`${dir}/${entry.name}`, fileName));
  }
  return found;
}

/** Cgroup folders go with rmdir only, children first. */
function removeCgroupTree(dir: string): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.isDirectory) removeCgroupTree(`${dir}/${entry.name}`);
  }
  try {
    Deno.removeSync(dir);
  } catch {
    // Still in use: nothing more a test harness can do.
  }
}

/** Mount points under a folder (deepest first), from /proc/self/mountinfo. */
function mountsUnder(dir: string): string[] {
  const mountInfo = Deno.readTextFileSync("/proc/self/mountinfo");
  return mountInfo.split("\n")
    .map((line) => line.split(" ")[4])
    .filter((field): field is string => field !== undefined)
    .map((field) => field.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** The image folder (busybox and one link per applet) as a tar, built once per process. */
function buildImageTar(): Promise<string> {
  imageTar ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: `lt-image-${Deno.pid}-` });
    imageDir = dir;
    await Deno.mkdir(`${dir}/root/bin`, { recursive: true });
    // A /tmp as real images have, so that the README's example runs on this image as written.
    await Deno.mkdir(`${dir}/root/tmp`);
    await Deno.chmod(`${dir}/root/tmp`, 0o1777);
    await Deno.copyFile("/bin/busybox", `${dir}/root/bin/busybox`);
    await Deno.chmod(`${dir}/root/bin/busybox`, 0o755);
    const applets = (await run("/bin/busybox", ["--list"])).split("\n")
      .filter((a) => a !== "" && a !== "busybox");
    await Promise.all(applets.map((a) => Deno.symlink("busybox", `${dir}/root/bin/${a}`)));
    await run("tar", ["-C", `${dir}/root`, "-cf", `${dir}/image.tar`, "."]);
    return `${dir}/image.tar`;
  })();
  return imageTar;
}

/** Sweeps whatever is still live when the process ends without `stop()`. */
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  globalThis.addEventListener("unload", () => {
    for (const state of [...live]) {
      if (state.child) signal(state.child.pid, "SIGKILL");
      sweep(state);
    }
    for (const dir of liveRunDirs) Deno.removeSync(dir, { recursive: true });
    if (imageDir) Deno.removeSync(imageDir, { recursive: true });
  });
  // Deno.exit dispatches unload, so a signal only has to end the process.
  Deno.addSignalListener("SIGINT", () => Deno.exit(130));
  Deno.addSignalListener("SIGTERM", () => Deno.exit(143));
}

function runSync(command: string, args: string[]): void {
  new Deno.Command(command, { args, stdin: "null", stdout: "null", stderr: "null" })
    .outputSync();
}

async function logTail(dir: string): Promise<string> {
  try {
    const log = await Deno.readTextFile(`${dir}/dockerd.log`);
    return log.trim().split("\n").slice(-5).join("\n");
  } catch {
    return "no log";
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
