/**
 * The Engine port: the calls the agent makes to a container engine, in launcher's own terms.
 * `DockerEngine` (docker_engine.ts) implements it over docker-modem; unit tests implement it in
 * memory. Every non-streaming call takes a signal, so a caller can put a deadline on it.
 */
import type { LogChunk } from "./log_stream.ts";
import type { CreateContainerBody } from "./wire.ts";

export type { LogChunk, LogStreamName } from "./log_stream.ts";
export type { CreateContainerBody } from "./wire.ts";

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
  /** created, running, paused, restarting, removing, exited or dead. */
  state: string;
  /** The engine's words for it: `Up 2 minutes (healthy)`, `Exited (137) 5 seconds ago`. */
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
  /** start, die, kill, oom, destroy, create, stop, health_status, rename, ... */
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

/**
 * Credentials for one registry, as the engine takes them with a pull (`X-Registry-Auth`): a user
 * name and password, or an identity token from an earlier login. `serveraddress` names the
 * registry they belong to.
 */
export type RegistryAuth =
  | { username: string; password: string; serveraddress: string }
  | { identitytoken: string; serveraddress: string };

/** Options of `Engine.logs`. */
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

/** Options of `Engine.events`. */
export interface EventsOptions {
  /** Replay events since this time (unix milliseconds) before following new ones. */
  since?: number;
  /** Called once the engine has answered and the stream is open. */
  onOpen?: () => void;
}

/** The calls launcher makes to a container engine. */
export interface Engine {
  /** Where the engine is, for messages: `unix:///var/run/docker.sock`. */
  readonly dockerHost: string;
  version(signal?: AbortSignal): Promise<EngineVersion>;
  info(signal?: AbortSignal): Promise<EngineInfo>;
  /** Every container, running or not, that carries all the given labels (`key` or `key=v`). */
  listContainers(labelFilters: string[], signal?: AbortSignal): Promise<ContainerSummary[]>;
  /** One container by id or name, or null when the engine does not know it. */
  inspectContainer(idOrName: string, signal?: AbortSignal): Promise<ContainerDetails | null>;
  /**
   * Pulls an image, with `auth` for its registry when given; resolves once the engine has it. A
   * stream: no deadline of its own.
   */
  pullImage(ref: string, signal?: AbortSignal, auth?: RegistryAuth): Promise<void>;
  /** Creates a container; returns its id. Throws `not_found` when the image is absent. */
  createContainer(name: string, body: CreateContainerBody, signal?: AbortSignal): Promise<string>;
  /** Starts a container; starting a running one is not an error. */
  startContainer(id: string, signal?: AbortSignal): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutSeconds` (default: the container's own stop timeout). */
  stopContainer(id: string, timeoutSeconds?: number, signal?: AbortSignal): Promise<void>;
  /** Sends SIGKILL; a container that is not running is already killed. */
  killContainer(id: string, signal?: AbortSignal): Promise<void>;
  /** Stops (with the timeout) and starts a container again. */
  restartContainer(id: string, timeoutSeconds?: number, signal?: AbortSignal): Promise<void>;
  /** Removes a container (`force` kills it first); one already gone is fine. */
  removeContainer(id: string, options: { force?: boolean }, signal?: AbortSignal): Promise<void>;
  /**
   * Follows container events for containers with all the given labels until `signal` aborts;
   * throws `engine_unreachable` when the engine ends the stream, so the caller reconnects.
   */
  events(
    labelFilters: string[],
    signal: AbortSignal,
    options?: EventsOptions,
  ): AsyncGenerator<ContainerEvent, void, undefined>;
  /** A container's output, one chunk per log message. */
  logs(
    id: string,
    options: LogsOptions,
    signal: AbortSignal,
  ): AsyncGenerator<LogChunk, void, undefined>;
}
