/** The Docker Engine API's own request types, as launcher sends them. */

/** `HostConfig.RestartPolicy`. */
export interface RestartPolicy {
  Name: "no" | "always" | "unless-stopped" | "on-failure";
  MaximumRetryCount?: number;
}

/** One entry of `HostConfig.Devices`. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** One entry of `HostConfig.Ulimits`; -1 means unlimited. */
export interface Ulimit {
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

/** One entry of `HostConfig.PortBindings`; an empty `HostPort` lets the engine pick one. */
export interface EnginePortBinding {
  HostIp?: string;
  HostPort: string;
}

/** `HostConfig` of a create body: only what a spec can set. */
export interface CreateHostConfig {
  PortBindings?: Record<string, EnginePortBinding[]>;
  NetworkMode?: string;
  RestartPolicy?: RestartPolicy;
  Binds?: string[];
  Privileged?: boolean;
  Memory?: number;
  NanoCpus?: number;
  ExtraHosts?: string[];
  Devices?: DeviceMapping[];
  Tmpfs?: Record<string, string>;
  CapAdd?: string[];
  CapDrop?: string[];
  SecurityOpt?: string[];
  IpcMode?: string;
  ShmSize?: number;
  Ulimits?: Ulimit[];
  Dns?: string[];
  DnsSearch?: string[];
}

/** The JSON body of `POST /containers/create`; absent fields take the engine's defaults. */
export interface CreateContainerBody {
  Image: string;
  Entrypoint?: string[];
  Cmd?: string[];
  /** `KEY=value` entries. */
  Env?: string[];
  /** Keys such as `80/tcp`, values always `{}`. */
  ExposedPorts?: Record<string, Record<string, never>>;
  Labels: Record<string, string>;
  Hostname?: string;
  Healthcheck?: EngineHealthcheck;
  /** Seconds between the stop signal and SIGKILL. */
  StopTimeout?: number;
  HostConfig: CreateHostConfig;
}
