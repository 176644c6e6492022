/**
 * The one Docker socket adapter: the Engine port over docker-modem. docker-modem loads ssh2
 * eagerly, so callers import this module lazily.
 */
import Modem from "docker-modem";
import type { IncomingMessage } from "node:http";
import * as v from "valibot";
import {
  CreatedSchema,
  decode,
  DetailsSchema,
  EventSchema,
  InfoSchema,
  ProgressSchema,
  splitImageRef,
  SummaryListSchema,
  toDetails,
  toEvent,
  toSummary,
  TtySchema,
  VersionSchema,
} from "./answers.ts";
import type {
  ContainerDetails,
  ContainerEvent,
  ContainerSummary,
  CreateContainerBody,
  Engine,
  EngineInfo,
  EngineVersion,
  EventsOptions,
  LogsOptions,
  RegistryAuth,
} from "./engine.ts";
import { DockerError } from "./errors.ts";
import {
  FrameDecoder,
  LineDecoder,
  type LogChunk,
  type LogStreamName,
  splitTimestamp,
} from "./log_stream.ts";
import { jsonLines, modemOptions, toDockerError } from "./modem.ts";
import { registryAuthHeader } from "./registry_header.ts";

/** Typed calls to one Docker engine, reached by a Docker host string. */
export class DockerEngine implements Engine {
  readonly #modem: Modem;

  /**
   * @param dockerHost `unix:///path/docker.sock`, a plain socket path, or `tcp://host:port`
   *   (`http://` too), as in `DOCKER_HOST`
   */
  constructor(readonly dockerHost: string = "unix:///var/run/docker.sock") {
    this.#modem = new Modem(modemOptions(dockerHost));
  }

  /** Resolves when the engine answers `/_ping`. */
  async ping(signal?: AbortSignal): Promise<void> {
    await this.#dial({ path: "/_ping", method: "GET", statusCodes: { 200: true } }, signal);
  }

  async version(signal?: AbortSignal): Promise<EngineVersion> {
    const body = await this.#dial(
      { path: "/version", method: "GET", statusCodes: { 200: true } },
      signal,
    );
    const raw = decode(VersionSchema, body);
    return { version: raw.Version, apiVersion: raw.ApiVersion, os: raw.Os, arch: raw.Arch };
  }

  async info(signal?: AbortSignal): Promise<EngineInfo> {
    const body = await this.#dial(
      { path: "/info", method: "GET", statusCodes: { 200: true } },
      signal,
    );
    const raw = decode(InfoSchema, body);
    return {
      name: raw.Name,
      ncpu: raw.NCPU,
      memTotal: raw.MemTotal,
      operatingSystem: raw.OperatingSystem,
    };
  }

  async listContainers(labelFilters: string[], signal?: AbortSignal): Promise<ContainerSummary[]> {
    const body = await this.#dial({
      path: "/containers/json?",
      method: "GET",
      options: { _query: { all: true, filters: labelQuery(labelFilters) } },
      statusCodes: { 200: true },
    }, signal);
    return decode(SummaryListSchema, body).map(toSummary);
  }

  async inspectContainer(idOrName: string, signal?: AbortSignal): Promise<ContainerDetails | null> {
    let body: unknown;
    try {
      body = await this.#dial({
        path: `/containers/${encodeURIComponent(idOrName)}/json`,
        method: "GET",
        statusCodes: { 200: true, 404: "no such container" },
      }, signal);
    } catch (error) {
      if (error instanceof DockerError && error.code === "not_found") return null;
      throw error;
    }
    return toDetails(decode(DetailsSchema, body));
  }

  /**
   * Pulls an image and resolves once the engine has it. A pull that fails inside the progress
   * stream still ends the stream normally, so every line is checked for an error. `auth` goes
   * in the `X-Registry-Auth` header, never in the query or a message.
   */
  async pullImage(ref: string, signal?: AbortSignal, auth?: RegistryAuth): Promise<void> {
    const res = await this.#dialStream({
      path: "/images/create?",
      method: "POST",
      options: { _query: splitImageRef(ref), _body: {} },
      ...(auth === undefined ? {} : { authconfig: { base64: registryAuthHeader(auth) } }),
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

  async createContainer(
    name: string,
    body: CreateContainerBody,
    signal?: AbortSignal,
  ): Promise<string> {
    const answer = await this.#dial({
      path: "/containers/create?",
      method: "POST",
      options: { _query: { name }, _body: body },
      statusCodes: { 201: true, 404: "no such image", 409: "conflict" },
    }, signal);
    return decode(CreatedSchema, answer).Id;
  }

  async startContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.#dial({
      path: `/containers/${encodeURIComponent(id)}/start`,
      method: "POST",
      statusCodes: { 204: true, 304: true, 404: "no such container" },
    }, signal);
  }

  async stopContainer(id: string, timeoutSeconds?: number, signal?: AbortSignal): Promise<void> {
    await this.#dial({
      path: `/containers/${encodeURIComponent(id)}/stop?`,
      method: "POST",
      options: { _query: timeoutSeconds === undefined ? {} : { t: timeoutSeconds }, _body: {} },
      statusCodes: { 204: true, 304: true, 404: "no such container" },
    }, signal);
  }

  async killContainer(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#dial({
        path: `/containers/${encodeURIComponent(id)}/kill?`,
        method: "POST",
        options: { _query: {}, _body: {} },
        statusCodes: { 204: true, 404: "no such container", 409: "conflict" },
      }, signal);
    } catch (error) {
      if (
        error instanceof DockerError && error.code === "conflict" &&
        error.message.includes("is not running")
      ) return;
      throw error;
    }
  }

  async restartContainer(id: string, timeoutSeconds?: number, signal?: AbortSignal): Promise<void> {
    await this.#dial({
      path: `/containers/${encodeURIComponent(id)}/restart?`,
      method: "POST",
      options: { _query: timeoutSeconds === undefined ? {} : { t: timeoutSeconds }, _body: {} },
      statusCodes: { 204: true, 404: "no such container" },
    }, signal);
  }

  async removeContainer(
    id: string,
    options: { force?: boolean } = {},
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      await this.#dial({
        path: `/containers/${encodeURIComponent(id)}?`,
        method: "DELETE",
        options: { _query: { force: options.force ?? false } },
        statusCodes: { 204: true, 404: "no such container", 409: "conflict" },
      }, signal);
    } catch (error) {
      if (error instanceof DockerError && error.code === "not_found") return;
      throw error;
    }
  }

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
    options.onOpen?.();
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
    }, signal);
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

  /**
   * One request whose whole answer is read; resolves with the parsed JSON. `signal` aborts the
   * request itself, so a deadline closes the connection instead of leaving it to the engine.
   */
  #dial(options: Modem.DialOptions, signal?: AbortSignal): Promise<unknown> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      this.#modem.dial({ ...options, abortSignal: signal }, (error, result) => {
        if (signal?.aborted) reject(signal.reason);
        else if (error) reject(toDockerError(error, this.dockerHost));
        else resolve(result);
      });
    });
  }

  /** One request whose answer is a stream; docker-modem hands `signal` to the request itself. */
  #dialStream(options: Modem.DialOptions, signal?: AbortSignal): Promise<IncomingMessage> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      this.#modem.dial({ ...options, isStream: true, abortSignal: signal }, (error, result) => {
        if (signal?.aborted) reject(signal.reason);
        else if (error) reject(toDockerError(error, this.dockerHost));
        else resolve(result as IncomingMessage);
      });
    });
  }
}

function labelQuery(labelFilters: string[]): { label?: string[] } {
  return labelFilters.length > 0 ? { label: labelFilters } : {};
}
