/**
 * An in-memory container engine behind the agent's Engine port: containers, images and an event
 * stream that behave as Docker's do for what the agent relies on, plus hooks for a test to make a
 * call fail, hang or wait, and a log of every call.
 */
import type {
  ContainerDetails,
  ContainerEvent,
  ContainerSummary,
  CreateContainerBody,
  Engine,
  EngineInfo,
  EngineVersion,
  EventsOptions,
  LogChunk,
  RegistryAuth,
} from "../../../src/docker/engine.ts";
import { DockerError } from "../../../src/docker/errors.ts";

/** One container of the fake. */
export interface FakeContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** `restarting`: exited, and its restart policy will start it again (set by a test). */
  state: "created" | "running" | "exited" | "restarting";
  exitCode: number;
  health?: string;
  body?: CreateContainerBody;
}

/** One call the fake answered (or is answering). */
export interface Call {
  op: string;
  /** The container id or name the call was about. */
  target: string;
  /** Order numbers of the call's start and end, on one counter shared by all calls. */
  start: number;
  end?: number;
}

type Hook = (op: string, target: string) => Promise<void> | void;

/** A Docker engine in memory. */
export class FakeEngine implements Engine {
  readonly dockerHost = "fake://engine";
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>(["launcher-test:1"]);
  readonly calls: Call[] = [];
  /** The credentials each pull came with, in order (undefined: none). */
  readonly pullAuths: { ref: string; auth?: RegistryAuth }[] = [];
  /** Runs before every call answers: throw to fail it, await to hold it. */
  hook: Hook = () => {};
  #tick = 0;
  #inFlight = 0;
  #maxInFlight = 0;
  #nextId = 1;
  readonly #subscribers = new Set<(e: ContainerEvent) => void>();

  /** The most calls that were under way at once. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /** Calls of one kind (`create`, `start`, `list`, ...). */
  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  /** Adds a container as if someone had made it (state as given), without an event. */
  put(c: Omit<FakeContainer, "id" | "exitCode"> & { id?: string; exitCode?: number }): string {
    const id = c.id ?? this.#newId();
    this.containers.set(id, { exitCode: 0, ...c, id });
    return id;
  }

  /** A container by its name. */
  byName(name: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.name === name);
  }

  /** Makes a container exit by itself (a crash), with its events. */
  crash(id: string, exitCode: number): void {
    const c = this.#get(id);
    c.state = "exited";
    c.exitCode = exitCode;
    this.#emit("die", c, { exitCode });
  }

  version(signal?: AbortSignal): Promise<EngineVersion> {
    return this.#call("version", "", signal, () => ({
      version: "28.0.0-fake",
      apiVersion: "1.48",
      os: "linux",
      arch: "amd64",
    }));
  }

  info(signal?: AbortSignal): Promise<EngineInfo> {
    return this.#call("info", "", signal, () => ({
      name: "fake",
      ncpu: 2,
      memTotal: 2 ** 31,
      operatingSystem: "fake",
    }));
  }

  listContainers(labelFilters: string[], signal?: AbortSignal): Promise<ContainerSummary[]> {
    return this.#call("list", "", signal, () =>
      [...this.containers.values()]
        .filter((c) => labelFilters.every((f) => matches(c.labels, f)))
        .map((c) => ({
          id: c.id,
          names: [c.name],
          image: c.body?.Image ?? "launcher-test:1",
          state: c.state,
          status: c.state === "exited"
            ? `Exited (${c.exitCode}) 1 second ago`
            : c.state === "restarting"
            ? `Restarting (${c.exitCode}) 1 second ago`
            : c.state === "running"
            ? `Up 1 second${c.health ? ` (${c.health})` : ""}`
            : "Created",
          labels: { ...c.labels },
          created: 0,
        })));
  }

  inspectContainer(idOrName: string, signal?: AbortSignal): Promise<ContainerDetails | null> {
    return this.#call("inspect", idOrName, signal, () => {
      const c = this.containers.get(idOrName) ?? this.byName(idOrName);
      if (c === undefined) return null;
      return {
        id: c.id,
        name: c.name,
        image: c.body?.Image ?? "launcher-test:1",
        labels: { ...c.labels },
        state: {
          status: c.state,
          running: c.state === "running",
          exitCode: c.exitCode,
          error: "",
          startedAt: "",
          finishedAt: "",
          oomKilled: false,
          ...(c.health ? { health: c.health } : {}),
        },
      };
    });
  }

  pullImage(ref: string, signal?: AbortSignal, auth?: RegistryAuth): Promise<void> {
    this.pullAuths.push({ ref, auth });
    return this.#call("pull", ref, signal, () => void this.images.add(ref));
  }

  createContainer(
    name: string,
    body: CreateContainerBody,
    signal?: AbortSignal,
  ): Promise<string> {
    return this.#call("create", name, signal, () => {
      if (!this.images.has(body.Image)) {
        throw new DockerError("not_found", `No such image: ${body.Image}`, 404);
      }
      if (this.byName(name)) {
        throw new DockerError("conflict", `The container name "/${name}" is already in use`, 409);
      }
      const c: FakeContainer = {
        id: this.#newId(),
        name,
        labels: { ...body.Labels },
        state: "created",
        exitCode: 0,
        body,
      };
      this.containers.set(c.id, c);
      this.#emit("create", c);
      return c.id;
    });
  }

  startContainer(id: string, signal?: AbortSignal): Promise<void> {
    return this.#call("start", id, signal, () => {
      const c = this.#get(id);
      if (c.state === "running") return;
      c.state = "running";
      this.#emit("start", c);
    });
  }

  stopContainer(id: string, _timeout?: number, signal?: AbortSignal): Promise<void> {
    return this.#call("stop", id, signal, () => {
      const c = this.#get(id);
      if (c.state !== "running") return;
      c.state = "exited";
      c.exitCode = 0;
      this.#emit("kill", c);
      this.#emit("die", c, { exitCode: 0 });
      this.#emit("stop", c);
    });
  }

  killContainer(id: string, signal?: AbortSignal): Promise<void> {
    return this.#call("kill", id, signal, () => {
      const c = this.#get(id);
      if (c.state !== "running") return;
      c.state = "exited";
      c.exitCode = 137;
      this.#emit("kill", c);
      this.#emit("die", c, { exitCode: 137 });
    });
  }

  restartContainer(id: string, _timeout?: number, signal?: AbortSignal): Promise<void> {
    return this.#call("restart", id, signal, () => {
      const c = this.#get(id);
      if (c.state === "running") this.#emit("die", c, { exitCode: 0 });
      c.state = "running";
      this.#emit("start", c);
      this.#emit("restart", c);
    });
  }

  removeContainer(id: string, options: { force?: boolean }, signal?: AbortSignal): Promise<void> {
    return this.#call("remove", id, signal, () => {
      const c = this.containers.get(id);
      if (c === undefined) return;
      if (c.state === "running") {
        if (!options.force) throw new DockerError("conflict", "container is running", 409);
        c.state = "exited";
        c.exitCode = 137;
        this.#emit("kill", c);
        this.#emit("die", c, { exitCode: 137 });
      }
      this.containers.delete(id);
      this.#emit("destroy", c);
    });
  }

  async *events(
    labelFilters: string[],
    signal: AbortSignal,
    options: EventsOptions = {},
  ): AsyncGenerator<ContainerEvent, void, undefined> {
    this.calls.push({ op: "events", target: "", start: ++this.#tick, end: this.#tick });
    const queue: ContainerEvent[] = [];
    let wake: (() => void) | undefined;
    const push = (e: ContainerEvent) => {
      if (!labelFilters.every((f) => matches(e.labels, f))) return;
      queue.push(e);
      wake?.();
    };
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    this.#subscribers.add(push);
    options.onOpen?.();
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      this.#subscribers.delete(push);
      signal.removeEventListener("abort", onAbort);
    }
  }

  // deno-lint-ignore require-yield
  async *logs(): AsyncGenerator<LogChunk, void, undefined> {
    throw new DockerError("engine_error", "the fake engine keeps no logs");
  }

  #newId(): string {
    return (this.#nextId++).toString(16).padStart(12, "0").repeat(2);
  }

  #get(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (c === undefined) throw new DockerError("not_found", `No such container: ${id}`, 404);
    return c;
  }

  #emit(action: string, c: FakeContainer, extra: Partial<ContainerEvent> = {}): void {
    const event = { action, id: c.id, name: c.name, labels: { ...c.labels }, time: 0, ...extra };
    for (const push of this.#subscribers) push(event);
  }

  /** Logs a call, runs the test's hook (which may fail or hold it), then answers. */
  async #call<T>(op: string, target: string, signal: AbortSignal | undefined, answer: () => T) {
    const call: Call = { op, target, start: ++this.#tick };
    this.calls.push(call);
    this.#inFlight++;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    try {
      const aborted = new Promise<never>((_, reject) => {
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
      aborted.catch(() => {});
      await Promise.race([this.hook(op, target), aborted]);
      signal?.throwIfAborted();
      return answer();
    } finally {
      this.#inFlight--;
      call.end = ++this.#tick;
    }
  }
}

function matches(labels: Record<string, string>, filter: string): boolean {
  const equals = filter.indexOf("=");
  if (equals < 0) return filter in labels;
  return labels[filter.slice(0, equals)] === filter.slice(equals + 1);
}
