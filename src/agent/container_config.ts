/** Spec to the body of the engine's `POST /containers/create`, in the engine's field names. */
import { splitCommand } from "../manifest/command.ts";
import { parseStopTimeout } from "../manifest/durations.ts";
import { engineHealthcheck } from "../manifest/healthcheck.ts";
import { parseCpus, parseOptions, parseRestartPolicy, parseSize } from "../manifest/options.ts";
import { parsePort } from "../manifest/ports.ts";
import type { Spec } from "../manifest/schema.ts";
import type { CreateContainerBody, CreateHostConfig, EnginePortBinding } from "../docker/wire.ts";

/**
 * Builds the create body for a validated spec. `labels` (launcher's own) are merged over the
 * spec's `labels` and `--label` options, so a spec can never hide a container from launcher.
 * A field and an option for the same setting are rejected at the door, so merging them here
 * never has to pick a winner.
 */
export function containerConfig(spec: Spec, labels: Record<string, string>): CreateContainerBody {
  const options = parseOptions(spec.options ?? []);
  const specLabels = Object.entries(spec.labels ?? {}).map(([key, value]) => [key, String(value)]);
  const body: CreateContainerBody = {
    Image: spec.image,
    Labels: { ...options.labels, ...Object.fromEntries(specLabels), ...labels },
    HostConfig: {},
  };
  if (spec.entrypoint !== undefined) {
    const entrypoint = splitCommand(spec.entrypoint);
    // An empty entrypoint means "none", as `docker run --entrypoint ""`: the engine's documented
    // spelling of that is `[""]`.
    body.Entrypoint = entrypoint.length === 0 ? [""] : entrypoint;
  }
  if (spec.cmd !== undefined) body.Cmd = splitCommand(spec.cmd);
  const environment = Object.entries(spec.environment ?? {});
  if (environment.length > 0) body.Env = environment.map(([key, value]) => `${key}=${value}`);
  if (options.hostname !== undefined) body.Hostname = options.hostname;
  if (spec.healthcheck) body.Healthcheck = engineHealthcheck(spec.healthcheck);
  if (spec.stop_timeout !== undefined) body.StopTimeout = parseStopTimeout(spec.stop_timeout);

  const host = body.HostConfig;
  if (spec.ports?.length) {
    body.ExposedPorts = {};
    host.PortBindings = {};
    for (const port of spec.ports.map(parsePort)) {
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
  set("NetworkMode", options.networkMode);
  const { memory, cpus } = spec.resources ?? {};
  set(
    "RestartPolicy",
    spec.restart === undefined ? options.restartPolicy : parseRestartPolicy(spec.restart),
  );
  set("Binds", spec.volumes?.length ? [...spec.volumes] : options.binds);
  set("Privileged", options.privileged);
  set("Memory", memory === undefined ? options.memory : parseSize(String(memory)));
  set("NanoCpus", cpus === undefined ? options.nanoCpus : parseCpus(String(cpus)));
  set("ExtraHosts", options.extraHosts);
  set("Devices", options.devices);
  set("Tmpfs", options.tmpfs);
  set("CapAdd", options.capAdd);
  set("CapDrop", options.capDrop);
  set("SecurityOpt", options.securityOpt);
  set("IpcMode", options.ipcMode);
  set("ShmSize", options.shmSize);
  set("Ulimits", options.ulimits);
  set("Dns", options.dns);
  set("DnsSearch", options.dnsSearch);
  return body;
}
