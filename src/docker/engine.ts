/**
 * The one Docker socket adapter: typed calls to the Engine API over docker-modem.
 * docker-modem loads ssh2 eagerly, so callers import this module lazily.
 */
import Modem from "docker-modem";
import type { IncomingMessage } from "node:http";
import * as v from "valibot";
import { DockerError } from "./errors.ts";
import {
  FrameDecoder,
  LineDecoder,
  type LogChunk,
  type LogStreamName,
  splitTimestamp,
} from "./log_stream.ts";
import type { CreateContainerBody } from "./wire.ts";

export type { LogChunk, LogStreamName } from "./log_stream.ts";

/** The engine's version, as `GET /version` reports it. */
export interface EngineVersion {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
}

/** What `GET /info` reports about the machine behind the engine. */
export interface EngineInfo {
  /** The engine's host name. */
  name: string;
  ncpu: number;
  /** Bytes. */
  memTotal: number;
  operatingSystem: string;
}

/** One container as `GET /containers/json` lists it. */
export interface ContainerSummary {
  id: string;
  /** Names without Docker's leading slash. */
  names: string[];
  image: string;
  state: string;
  status: string;
  labels: Record<string, string>;
  /** Unix seconds. */
  created: number;
}

/** A container's run state, as `GET /containers/{id}/json` reports it. */
export interface ContainerState {
  /** created, running, paused, restarting, removing, exited or dead. */
  status: string;
  running: boolean;
  exitCode: number;
  error: string;
  startedAt: string;
  finishedAt: string;
  oomKilled: boolean;
  /** starting, healthy or unhealthy; absent without a health check. */
  health?: string;
}

/** One container as `GET /containers/{id}/json` describes it. */
export interface ContainerDetails {
  id: string;
  /** The name without Docker's leading slash. */
  name: string;
  /** The image reference the container was created from. */
  image: string;
  labels: Record<string, string>;
  state: ContainerState;
}

/** One container event from the engine's event stream. */
export interface ContainerEvent {
  /** start, die, kill, oom, destroy, create, stop, health_status, exec_start, ... */
  action: string;
  id: string;
  /** The container's name, when the engine sends it. */
  name?: string;
  /** The container's labels (the event's attributes without the engine's own keys). */
  labels: Record<string, string>;
  /** On die events. */
  exitCode?: number;
  /** On health_status events: starting, healthy or unhealthy. */
  health?: string;
  /** Unix milliseconds. */
  time: number;
}

/** Options of `DockerEngine.events`. */
/** Options of `DockerEngine.logs`. */
export interface LogsOptions {
  /** Keep the stream open for new output until the container stops. */
  follow: boolean;
  /** Start each message with the engine's time (split off into `LogChunk.time`). */
  timestamps: boolean;
  /** The last N lines only (default all). */
  tail?: number;
  /** Messages from this time on: Unix seconds, with up to nine decimals (`1700000000.5`). */
  since?: string;
}

/** Options of `DockerEngine.events`. */
export interface EventsOptions {
  /** Replay events since this time (unix milliseconds) before following new ones. */
  since?: number;
}

const LabelsSchema = v.nullish(v.record(v.string(), v.string()), {});

const VersionSchema = v.object({
  Version: v.string(),
  ApiVersion: v.string(),
  Os: v.string(),
  Arch: v.string(),
});

const InfoSchema = v.object({
  Name: v.string(),
  NCPU: v.number(),
  MemTotal: v.number(),
  OperatingSystem: v.string(),
});

const SummarySchema = v.object({
  Id: v.string(),
  Names: v.nullish(v.array(v.string()), []),
  Image: v.string(),
  State: v.string(),
  Status: v.string(),
  Labels: LabelsSchema,
  Created: v.number(),
});

const DetailsSchema = v.object({
  Id: v.string(),
  Name: v.string(),
  Config: v.object({ Image: v.string(), Labels: LabelsSchema }),
  State: v.object({
    Status: v.string(),
    Running: v.boolean(),
    ExitCode: v.number(),
    Error: v.nullish(v.string(), ""),
    StartedAt: v.string(),
    FinishedAt: v.string(),
    OOMKilled: v.boolean(),
    Health: v.nullish(v.object({ Status: v.string() })),
  }),
});

const CreatedSchema = v.object({ Id: v.string() });

const TtySchema = v.object({ Config: v.object({ Tty: v.optional(v.boolean(), false) }) });

const ProgressSchema = v.object({
  error: v.optional(v.string()),
  errorDetail: v.optional(v.object({ message: v.optional(v.string()) })),
});

const EventSchema = v.object({
  Type: v.string(),
  Action: v.string(),
  Actor: v.object({ ID: v.string(), Attributes: LabelsSchema }),
  time: v.number(),
  timeNano: v.optional(v.number()),
});

/** Event attributes the engine adds next to a container's labels. */
const ENGINE_ATTRIBUTES = new Set([
  "image",
  "name",
  "exitCode",
  "signal",
  "execID",
  "execDuration",
]);

/** Connection errors that mean the engine is not there (as opposed to answering badly). */
const UNREACHABLE = new Set([
  "ENOENT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EACCES",
]);

/** Typed calls to one Docker engine, reached by a Docker host string. */
export class DockerEngine {
  readonly #modem: Modem;

  /**
   * @param dockerHost `unix:///path/docker.sock`, a plain socket path, or `tcp://host:port`
   *   (`http://` too), as in `DOCKER_HOST`
   */
  constructor(readonly dockerHost: string = "unix:///var/run/docker.sock") {
    this.#modem = new Modem(modemOptions(dockerHost));
  }

  /** Resolves when the engine answers `/_ping`. */
  async ping(): Promise<void> {
    await this.#dial({ path: "/_ping", method: "GET", statusCodes: { 200: true } });
  }

  /** The engine's version and platform. */
  async version(): Promise<EngineVersion> {
    const body = await this.#dial({ path: "/version", method: "GET", statusCodes: { 200: true } });
    const raw = decode(VersionSchema, body);
    return { version: raw.Version, apiVersion: raw.ApiVersion, os: raw.Os, arch: raw.Arch };
  }

  /** The machine behind the engine. */
  async info(): Promise<EngineInfo> {
    const body = await this.#dial({ path: "/info", method: "GET", statusCodes: { 200: true } });
    const raw = decode(InfoSchema, body);
    return {
      name: raw.Name,
      ncpu: raw.NCPU,
      memTotal: raw.MemTotal,
      operatingSystem: raw.OperatingSystem,
    };
  }

  /** Every container, running or not, that carries all the given labels (`key` or `key=value`). */
  async listContainers(labelFilters: string[]): Promise<ContainerSummary[]> {
    const body = await this.#dial({
      path: "/containers/json?",
      method: "GET",
      options: { _query: { all: true, filters: labelQuery(labelFilters) } },
      statusCodes: { 200: true },
    });
    return decode(v.array(SummarySchema), body).map((raw) => ({
      id: raw.Id,
      names: raw.Names.map(withoutSlash),
      image: raw.Image,
      state: raw.State,
      status: raw.Status,
      labels: raw.Labels,
      created: raw.Created,
    }));
  }

  /** One container by id or name, or null when the engine does not know it. */
  async inspectContainer(idOrName: string): Promise<ContainerDetails | null> {
    let body: unknown;
    try {
      body = await this.#dial({
        path: `/containers/${encodeURIComponent(idOrName)}/json`,
        method: "GET",
        statusCodes: { 200: true, 404: "no such container" },
      });
    } catch (error) {
      if (error instanceof DockerError && error.code === "not_found") return null;
      throw error;
    }
    const raw = decode(DetailsSchema, body);
    const state: ContainerState = {
      status: raw.State.Status,
      running: raw.State.Running,
      exitCode: raw.State.ExitCode,
      error: raw.State.Error,
      startedAt: raw.State.StartedAt,
      finishedAt: raw.State.FinishedAt,
      oomKilled: raw.State.OOMKilled,
    };
    if (raw.State.Health) state.health = raw.State.Health.Status;
    return {
      id: raw.Id,
      name: withoutSlash(raw.Name),
      image: raw.Config.Image,
      labels: raw.Config.Labels,
      state,
    };
  }

  /** Whether the engine holds the image (by reference or id). */
  async imageExists(ref: string): Promise<boolean> {
    try {
      await this.#dial({
        path: `/images/${imagePath(ref)}/json`,
        method: "GET",
        statusCodes: { 200: true, 404: "no such image" },
      });
      return true;
    } catch (error) {
      if (error instanceof DockerError && error.code === "not_found") return false;
      throw error;
    }
  }

  /**
   * Pulls an image and resolves once the engine has it. A pull that fails inside the progress
   * stream still ends the stream normally, so every line is checked for an error.
   */
  async pullImage(ref: string, signal?: AbortSignal): Promise<void> {
    const res = await this.#dialStream({
      path: "/images/create?",
      method: "POST",
      options: { _query: splitImageRef(ref), _body: {} },
      statusCodes: { 200: true, 404: "not found" },
    }, signal);
    let failure: string | undefined;
    try {
      for await (const line of jsonLines(res)) {
        const progress = v.safeParse(ProgressSchema, line);
        if (!progress.success) continue;
        const message = progress.output.errorDetail?.message ?? progress.output.error;
        if (message !== undefined) failure ??= message;
      }
    } catch (error) {
      signal?.throwIfAborted();
      throw toDockerError(error, this.dockerHost);
    } finally {
      res.destroy();
    }
    if (failure !== undefined) throw new DockerError("engine_error", failure);
  }

  /** Creates a container named `name` from an Engine API create body; returns its id. */
  async createContainer(name: string, body: CreateContainerBody): Promise<string> {
    const answer = await this.#dial({
      path: "/containers/create?",
      method: "POST",
      options: { _query: { name }, _body: body },
      statusCodes: { 201: true, 404: "no such image", 409: "conflict" },
    });
    return decode(CreatedSchema, answer).Id;
  }

  /** Starts a container; starting a running one is not an error. */
  async startContainer(id: string): Promise<void> {
    await this.#dial({
      path: `/containers/${encodeURIComponent(id)}/start`,
      method: "POST",
      statusCodes: { 204: true, 304: true, 404: "no such container" },
    });
  }

  /** Stops a container (SIGTERM, then SIGKILL after the timeout); stopping a stopped one is fine. */
  async stopContainer(id: string, timeoutSeconds?: number): Promise<void> {
    await this.#dial({
      path: `/containers/${encodeURIComponent(id)}/stop?`,
      method: "POST",
      options: { _query: timeoutSeconds === undefined ? {} : { t: timeoutSeconds }, _body: {} },
      statusCodes: { 204: true, 304: true, 404: "no such container" },
    });
  }

  /** Sends a signal (default SIGKILL); a container that is not running is already killed. */
  async killContainer(id: string, signal?: string): Promise<void> {
    try {
      await this.#dial({
        path: `/containers/${encodeURIComponent(id)}/kill?`,
        method: "POST",
        options: { _query: signal === undefined ? {} : { signal }, _body: {} },
        statusCodes: { 204: true, 404: "no such container", 409: "conflict" },
      });
    } catch (error) {
      if (
        error instanceof DockerError && error.code === "conflict" &&
        error.message.includes("is not running")
      ) return;
      throw error;
    }
  }

  /** Restarts a container, stopping it first with the given timeout. */
  async restartContainer(id: string, timeoutSeconds?: number): Promise<void> {
    await this.#dial({
      path: `/containers/${encodeURIComponent(id)}/restart?`,
      method: "POST",
      options: { _query: timeoutSeconds === undefined ? {} : { t: timeoutSeconds }, _body: {} },
      statusCodes: { 204: true, 404: "no such container" },
    });
  }

  /** Removes a container; one that is already gone is fine. */
  async removeContainer(id: string, options: { force?: boolean } = {}): Promise<void> {
    try {
      await this.#dial({
        path: `/containers/${encodeURIComponent(id)}?`,
        method: "DELETE",
        options: { _query: { force: options.force ?? false } },
        statusCodes: { 204: true, 404: "no such container", 409: "conflict" },
      });
    } catch (error) {
      if (error instanceof DockerError && error.code === "not_found") return;
      throw error;
    }
  }

  /**
   * Follows the engine's container events for containers with all the given labels. Aborting
   * `signal` ends the iteration; if the engine goes away the iteration throws a DockerError
   * `engine_unreachable`, so the caller can reconnect (with `since` to miss nothing).
   */
  async *events(
    labelFilters: string[],
    signal: AbortSignal,
    options: EventsOptions = {},
  ): AsyncGenerator<ContainerEvent, void, undefined> {
    const query: Record<string, unknown> = {
      filters: { type: ["container"], ...labelQuery(labelFilters) },
    };
    if (options.since !== undefined) query.since = (options.since / 1000).toFixed(3);
    let res: IncomingMessage;
    try {
      res = await this.#dialStream({
        path: "/events?",
        method: "GET",
        options: { _query: query },
        statusCodes: { 200: true },
      }, signal);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    try {
      for await (const line of jsonLines(res)) {
        const event = v.safeParse(EventSchema, line);
        if (event.success && event.output.Type === "container") yield toEvent(event.output);
      }
    } catch (error) {
      if (signal.aborted) return;
      throw toDockerError(error, this.dockerHost);
    } finally {
      res.destroy();
    }
    if (signal.aborted) return;
    throw new DockerError(
      "engine_unreachable",
      `The Docker engine at ${this.dockerHost} closed its event stream`,
    );
  }

  /**
   * A container's output: one chunk per log message (per line from a TTY, where stdout and stderr
   * are one stream). With `follow` it lasts until the container stops or `signal` aborts; the
   * engine's stream is closed as soon as the iteration ends, however it ends.
   */
  async *logs(
    id: string,
    options: LogsOptions,
    signal: AbortSignal,
  ): AsyncGenerator<LogChunk, void, undefined> {
    const inspected = await this.#dial({
      path: `/containers/${encodeURIComponent(id)}/json`,
      method: "GET",
      statusCodes: { 200: true, 404: "no such container" },
    });
    const tty = decode(TtySchema, inspected).Config.Tty;
    const query: Record<string, unknown> = {
      stdout: true,
      stderr: true,
      follow: options.follow,
      timestamps: options.timestamps,
      tail: options.tail ?? "all",
    };
    if (options.since !== undefined) query.since = options.since;
    let res: IncomingMessage;
    try {
      res = await this.#dialStream({
        path: `/containers/${encodeURIComponent(id)}/logs?`,
        method: "GET",
        options: { _query: query },
        statusCodes: { 200: true, 404: "no such container" },
      }, signal);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    const chunk = (stream: LogStreamName, message: Uint8Array): LogChunk =>
      options.timestamps ? { stream, ...splitTimestamp(message) } : { stream, data: message };
    const frames = new FrameDecoder();
    const lines = new LineDecoder();
    try {
      for await (const bytes of res as AsyncIterable<Uint8Array>) {
        if (tty) {
          for (const line of lines.push(bytes)) yield chunk("stdout", line);
        } else {
          for (const frame of frames.push(bytes)) yield chunk(frame.stream, frame.payload);
        }
      }
      const rest = lines.flush();
      if (rest !== undefined) yield chunk("stdout", rest);
    } catch (error) {
      if (signal.aborted) return;
      throw toDockerError(error, this.dockerHost);
    } finally {
      res.destroy();
    }
  }

  /** One request whose whole answer is read; resolves with the parsed JSON (or raw bytes). */
  #dial(options: Modem.DialOptions): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#modem.dial(options, (error, result) => {
        if (error) reject(toDockerError(error, this.dockerHost));
        else resolve(result);
      });
    });
  }

  /** One request whose answer is a stream; docker-modem hands `signal` to the request itself. */
  #dialStream(options: Modem.DialOptions, signal?: AbortSignal): Promise<IncomingMessage> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      this.#modem.dial({ ...options, isStream: true, abortSignal: signal }, (error, result) => {
        if (signal?.aborted) {
          reject(signal.reason);
        } else if (error) {
          reject(toDockerError(error, this.dockerHost));
        } else {
          resolve(result as IncomingMessage);
        }
      });
    });
  }
}

/** docker-modem options for a Docker host string; set explicitly so `DOCKER_HOST` cannot win. */
function modemOptions(dockerHost: string): Modem.ConstructorOptions {
  if (dockerHost.startsWith("/")) {
    return { socketPath: dockerHost, host: undefined, protocol: "http" };
  }
  let url: URL;
  try {
    url = new URL(dockerHost);
  } catch {
    throw unsupportedHost(dockerHost);
  }
  if (url.protocol === "unix:" && url.pathname !== "") {
    return { socketPath: decodeURIComponent(url.pathname), host: undefined, protocol: "http" };
  }
  if ((url.protocol === "tcp:" || url.protocol === "http:") && url.hostname !== "") {
    return {
      socketPath: undefined,
      host: url.hostname,
      port: url.port === "" ? 2375 : Number(url.port),
      protocol: "http",
    };
  }
  throw unsupportedHost(dockerHost);
}

function unsupportedHost(dockerHost: string): DockerError {
  return new DockerError(
    "engine_unreachable",
    `Unsupported Docker host "${dockerHost}": use unix:///path, a socket path or tcp://host:port`,
  );
}

/** The engine's own message from a docker-modem error, with a code that says what went wrong. */
function toDockerError(error: unknown, dockerHost: string): DockerError {
  if (error instanceof DockerError) return error;
  if (!(error instanceof Error)) return new DockerError("engine_error", String(error));
  const { statusCode, json, code } = error as Error & {
    statusCode?: unknown;
    json?: unknown;
    code?: unknown;
  };
  if (typeof statusCode === "number") {
    const message = engineMessage(json) ?? modemCause(error.message);
    const kind = statusCode === 404
      ? "not_found"
      : statusCode === 409
      ? "conflict"
      : "engine_error";
    return new DockerError(kind, message, statusCode);
  }
  if (typeof code === "string" && UNREACHABLE.has(code)) {
    return new DockerError(
      "engine_unreachable",
      `Cannot reach the Docker engine at ${dockerHost}: ${error.message}`,
    );
  }
  return new DockerError("engine_error", error.message);
}

function engineMessage(json: unknown): string | undefined {
  if (typeof json === "object" && json !== null && "message" in json) {
    const { message } = json;
    if (typeof message === "string") return message;
  }
  return undefined;
}

/** Stream errors carry the engine's text only inside docker-modem's own wording. */
function modemCause(message: string): string {
  const match = /^\(HTTP code \d+\) .*? - ([\s\S]*?) ?$/.exec(message);
  return match ? match[1] : message;
}

/** Decodes an engine answer, so a surprising answer fails here and not deep in a caller. */
function decode<T extends v.GenericSchema>(schema: T, body: unknown): v.InferOutput<T> {
  const result = v.safeParse(schema, body);
  if (result.success) return result.output;
  const issue = result.issues[0];
  throw new DockerError(
    "engine_error",
    `Unexpected answer from the Docker engine: ${v.getDotPath(issue) ?? "body"}: ${issue.message}`,
  );
}

function labelQuery(labelFilters: string[]): { label?: string[] } {
  return labelFilters.length > 0 ? { label: labelFilters } : {};
}

function withoutSlash(name: string): string {
  return name.startsWith("/") ? name.slice(1) : name;
}

/** Image references keep their `/`, `:` and `@` in the path; anything else is escaped. */
function imagePath(ref: string): string {
  return encodeURIComponent(ref).replace(/%2F/gi, "/").replace(/%3A/gi, ":").replace(/%40/gi, "@");
}

/**
 * `fromImage` and `tag` of a pull, as the Docker CLI sends them: a digest goes in `tag`, a
 * missing tag means `latest`, and a registry port (`registry:5000/name`) is not a tag.
 */
function splitImageRef(ref: string): { fromImage: string; tag: string } {
  const at = ref.indexOf("@");
  const [name, digest] = at === -1 ? [ref, undefined] : [ref.slice(0, at), ref.slice(at + 1)];
  const colon = name.lastIndexOf(":");
  const hasTag = colon > name.lastIndexOf("/");
  const repository = hasTag ? name.slice(0, colon) : name;
  return { fromImage: repository, tag: digest ?? (hasTag ? name.slice(colon + 1) : "latest") };
}

/** Newline-delimited JSON values from a response body. */
async function* jsonLines(res: IncomingMessage): AsyncGenerator<unknown, void, undefined> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line !== "") yield parseLine(line);
    }
  }
  const rest = (buffer + decoder.decode()).trim();
  if (rest !== "") yield parseLine(rest);
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new DockerError("engine_error", `Unexpected line from the Docker engine: ${line}`);
  }
}

function toEvent(raw: v.InferOutput<typeof EventSchema>): ContainerEvent {
  const separator = raw.Action.indexOf(":");
  const action = separator === -1 ? raw.Action : raw.Action.slice(0, separator).trim();
  const attributes = raw.Actor.Attributes;
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!ENGINE_ATTRIBUTES.has(key)) labels[key] = value;
  }
  const event: ContainerEvent = {
    action,
    id: raw.Actor.ID,
    labels,
    time: raw.timeNano === undefined ? raw.time * 1000 : Math.floor(raw.timeNano / 1e6),
  };
  if (attributes.name !== undefined) event.name = attributes.name;
  if (action === "die" && attributes.exitCode !== undefined) {
    event.exitCode = Number(attributes.exitCode);
  }
  if (action === "health_status" && separator !== -1) {
    event.health = raw.Action.slice(separator + 1).trim();
  }
  return event;
}
