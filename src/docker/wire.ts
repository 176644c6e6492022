/**
 * The Docker Engine API's own shapes for creating a container (`POST /containers/create`), in
 * the engine's field names. Only what launcher sets is typed; absent fields take the engine's
 * (and the image's) defaults. These types live here and nowhere else.
 */

/** One entry of `HostConfig.PortBindings`; an empty `HostPort` lets the engine pick one. */
export interface EnginePortBinding {
  HostIp?: string;
  HostPort: string;
}

/** `HostConfig.RestartPolicy`. */
export interface EngineRestartPolicy {
  Name: "no" | "always" | "unless-stopped" | "on-failure";
  MaximumRetryCount?: number;
}

/** One entry of `HostConfig.Devices`. */
export interface EngineDeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** One entry of `HostConfig.Ulimits`; -1 means unlimited. */
export interface EngineUlimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** `Healthcheck` of a create body; durations in nanoseconds. */
export interface EngineHealthcheck {
  /** `["NONE"]`, `["CMD", program, ...args]` or `["CMD-SHELL", command]`. */
  Test: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}

/** `HostConfig` of a create body. */
export interface CreateHostConfig {
  PortBindings?: Record<string, EnginePortBinding[]>;
  NetworkMode?: string;
  RestartPolicy?: EngineRestartPolicy;
  Binds?: string[];
  Privileged?: boolean;
  /** Bytes. */
  Memory?: number;
  /** Billionths of a CPU. */
  NanoCpus?: number;
  ExtraHosts?: string[];
  Devices?: EngineDeviceMapping[];
  Tmpfs?: Record<string, string>;
  CapAdd?: string[];
  CapDrop?: string[];
  SecurityOpt?: string[];
  IpcMode?: string;
  /** Bytes. */
  ShmSize?: number;
  Ulimits?: EngineUlimit[];
  Dns?: string[];
  DnsSearch?: string[];
}

/** The JSON body of `POST /containers/create`. */
export interface CreateContainerBody {
  Image: string;
  Entrypoint?: string[];
  Cmd?: string[];
  /** `KEY=value` entries. */
  Env?: string[];
  /** Keys such as `80/tcp`, values always `{}`. */
  ExposedPorts?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
  Hostname?: string;
  Healthcheck?: EngineHealthcheck;
  /** Seconds between the stop signal and SIGKILL. */
  StopTimeout?: number;
  HostConfig?: CreateHostConfig;
}
