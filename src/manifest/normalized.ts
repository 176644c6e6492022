/**
 * A spec in its normalized form: every string parsed once, at the door, into launcher's own terms.
 * The server stores it beside the spec as written, `manifest diff` compares it, the hash is taken
 * over it, and agents build the engine's create body from it without parsing anything again.
 * Engine-agnostic on purpose: the Docker field names live in `src/docker/wire.ts`.
 */
import type { PortBinding } from "./ports.ts";

export type { PortBinding, Protocol } from "./ports.ts";

/** The restart policies `--restart` and `restart` name. */
export const RESTART_POLICIES = ["no", "always", "unless-stopped", "on-failure"] as const;

/** When the engine restarts a container that stopped; `maxRetries` only with `on-failure`. */
export interface RestartPolicy {
  name: typeof RESTART_POLICIES[number];
  maxRetries?: number;
}

/** A host device made visible in the container (`--device`). */
export interface Device {
  hostPath: string;
  containerPath: string;
  /** Of `r`, `w` and `m`, each at most once. */
  permissions: string;
}

/** A resource limit (`--ulimit`); -1 means unlimited. */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** What a spec's options ask for; a field is absent when no option set it. */
export interface RunOptions {
  networkMode?: string;
  restart?: RestartPolicy;
  /** Volumes as written (`SOURCE:/PATH[:MODES]`), in order. */
  binds?: string[];
  privileged?: boolean;
  /** Bytes. */
  memory?: number;
  /** Billionths of a CPU. */
  nanoCpus?: number;
  /** `name:ip` entries for /etc/hosts. */
  extraHosts?: string[];
  devices?: Device[];
  /** Mount path to mount options (`""` for none). */
  tmpfs?: Record<string, string>;
  hostname?: string;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  ipcMode?: string;
  /** Bytes. */
  shmSize?: number;
  ulimits?: Ulimit[];
  dns?: string[];
  dnsSearch?: string[];
  labels?: Record<string, string>;
}

/** A health check: the test in its explicit form, durations in nanoseconds. */
export interface NormalizedHealthcheck {
  /** `["NONE"]`, `["CMD", program, ...args]` or `["CMD-SHELL", command]`. */
  test: string[];
  interval?: number;
  timeout?: number;
  retries?: number;
  startPeriod?: number;
}

/** Resource limits set by fields (`resources`), apart from those options set. */
export interface Resources {
  /** Bytes. */
  memory?: number;
  /** Billionths of a CPU. */
  nanoCpus?: number;
}

/** A pull policy other than the default (`missing`, which is the same as none). */
export type NonDefaultPull = "always" | "never";

/** A variable whose value is a secret the server keeps: only its name is in the spec. */
export interface SecretRef {
  secret: string;
}

/** A variable's value: a string, or a reference to a secret. */
export type EnvValue = string | SecretRef;

/** One container spec, parsed and normalized; empty lists and maps mean "not set". */
export interface NormalizedSpec {
  name: string;
  host: string;
  image: string;
  /** Words; an empty list clears the image's entrypoint. Absent: the image's own. */
  entrypoint?: string[];
  /** Words. Absent: the image's own. */
  cmd?: string[];
  /** Published ports, in the order of their canonical spelling. */
  ports: PortBinding[];
  /**
   * Variables. A secret stays a reference everywhere but in the desired list handed to the
   * agent of the container's host, where the server puts its value in.
   */
  environment: Record<string, EnvValue>;
  /** Options in one canonical spelling each (`--memory=1g`), in the order written. */
  options: string[];
  /** What the options ask for. */
  runOptions: RunOptions;
  healthcheck?: NormalizedHealthcheck;
  restart?: RestartPolicy;
  /** Volumes as written (`SOURCE:/PATH[:MODES]`), in order. */
  volumes: string[];
  labels: Record<string, string>;
  resources: Resources;
  pull?: NonDefaultPull;
  /** Whole seconds between the stop signal and SIGKILL. */
  stopTimeout?: number;
}
