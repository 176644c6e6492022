/**
 * A normalized spec to the body of the engine's `POST /containers/create`. Everything was parsed
 * at the door; this only renames into the engine's fields.
 */
import type {
  CreateContainerBody,
  CreateHostConfig,
  EngineHealthcheck,
  EnginePortBinding,
  EngineRestartPolicy,
} from "../docker/wire.ts";
import type { NormalizedSpec, RestartPolicy } from "../manifest/normalized.ts";
import { LauncherError } from "../errors.ts";

/**
 * A variable whose secret the desired list left as a reference: a server hands every value to
 * the agent of the container's host, so this one is older than secrets or broken. The message
 * names the variable and the secret, never a value.
 */
export class UnresolvedSecretError extends LauncherError {
  constructor(variable: string, secret: string) {
    super(
      "unresolved_secret",
      `variable ${variable} refers to secret ${secret}, but the server sent no value for it`,
    );
  }
}

/**
 * Builds the create body for a normalized spec. `launcherLabels` are merged over the spec's
 * `labels` and `--label` options, so a spec can never hide a container from launcher. A field and
 * an option for the same setting are rejected at the door, so merging them here never has to
 * pick a winner.
 */
export function createBody(
  spec: NormalizedSpec,
  launcherLabels: Record<string, string>,
): CreateContainerBody {
  const run = spec.runOptions;
  const host: CreateHostConfig = {};
  const body: CreateContainerBody = {
    Image: spec.image,
    Labels: { ...run.labels, ...spec.labels, ...launcherLabels },
    HostConfig: host,
  };
  if (spec.entrypoint !== undefined) {
    // An empty entrypoint means "none", as `docker run --entrypoint ""`: the engine's documented
    // spelling of that is `[""]`.
    body.Entrypoint = spec.entrypoint.length === 0 ? [""] : [...spec.entrypoint];
  }
  if (spec.cmd !== undefined) body.Cmd = [...spec.cmd];
  const environment = Object.entries(spec.environment);
  if (environment.length > 0) {
    body.Env = environment.map(([key, value]) => {
      if (typeof value !== "string") throw new UnresolvedSecretError(key, value.secret);
      return `${key}=${value}`;
    });
  }
  if (run.hostname !== undefined) body.Hostname = run.hostname;
  if (spec.healthcheck) {
    const check = spec.healthcheck;
    const health: EngineHealthcheck = { Test: [...check.test] };
    if (check.interval !== undefined) health.Interval = check.interval;
    if (check.timeout !== undefined) health.Timeout = check.timeout;
    if (check.retries !== undefined) health.Retries = check.retries;
    if (check.startPeriod !== undefined) health.StartPeriod = check.startPeriod;
    body.Healthcheck = health;
  }
  if (spec.stopTimeout !== undefined) body.StopTimeout = spec.stopTimeout;

  if (spec.ports.length > 0) {
    body.ExposedPorts = {};
    host.PortBindings = {};
    for (const port of spec.ports) {
      const key = `${port.containerPort}/${port.protocol}`;
      body.ExposedPorts[key] = {};
      const binding: EnginePortBinding = { HostPort: port.hostPort?.toString() ?? "" };
      if (port.hostIp !== undefined) binding.HostIp = port.hostIp;
      (host.PortBindings[key] ??= []).push(binding);
    }
  }
  const set = <K extends keyof CreateHostConfig>(key: K, value: CreateHostConfig[K]) => {
    if (value !== undefined) host[key] = value;
  };
  set("NetworkMode", run.networkMode);
  set("RestartPolicy", restartPolicy(spec.restart ?? run.restart));
  set("Binds", spec.volumes.length > 0 ? [...spec.volumes] : run.binds);
  set("Privileged", run.privileged);
  set("Memory", spec.resources.memory ?? run.memory);
  set("NanoCpus", spec.resources.nanoCpus ?? run.nanoCpus);
  set("ExtraHosts", run.extraHosts);
  set(
    "Devices",
    run.devices?.map((device) => ({
      PathOnHost: device.hostPath,
      PathInContainer: device.containerPath,
      CgroupPermissions: device.permissions,
    })),
  );
  set("Tmpfs", run.tmpfs);
  set("CapAdd", run.capAdd);
  set("CapDrop", run.capDrop);
  set("SecurityOpt", run.securityOpt);
  set("IpcMode", run.ipcMode);
  set("ShmSize", run.shmSize);
  set(
    "Ulimits",
    run.ulimits?.map((ulimit) => ({ Name: ulimit.name, Soft: ulimit.soft, Hard: ulimit.hard })),
  );
  set("Dns", run.dns);
  set("DnsSearch", run.dnsSearch);
  return body;
}

function restartPolicy(policy: RestartPolicy | undefined): EngineRestartPolicy | undefined {
  if (policy === undefined) return undefined;
  const engine: EngineRestartPolicy = { Name: policy.name };
  if (policy.maxRetries !== undefined) engine.MaximumRetryCount = policy.maxRetries;
  return engine;
}
