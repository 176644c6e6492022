/** Starts an agent with its own engine connection; the Docker adapter is loaded only here. */
import { LauncherClient } from "../client/client.ts";
import { pinnedHttpClient } from "../client/trust.ts";
import { Agent } from "./agent.ts";
import type { DockerConfig } from "./docker_config.ts";
import { configPath, dockerConfigCredentials, readDockerConfig } from "./registry_auth.ts";

/** How an agent process is set up (the flags of `launcher agent`). */
export interface StartAgentOptions {
  /** The servers, tried in turn when one cannot be reached. */
  urls: string[];
  token?: string;
  host: string;
  dockerHost: string;
  intervalMs: number;
  parallel: number;
  /** The deadline of a non-streaming engine call. */
  engineTimeoutMs?: number;
  labels?: Record<string, string>;
  /** The Docker config folder with the `config.json` of registry credentials (none: pull without). */
  dockerConfigDir?: string;
  /** The CA (PEM) every connection to the servers must chain to (`--ca`, or a join string's). */
  ca?: string;
  log: (line: string) => void;
}

/**
 * Runs an agent until `signal` aborts. docker-modem loads ssh2 at import (about 170 ms), so the
 * adapter is imported here and not by the CLI's client commands.
 */
export async function startAgent(opts: StartAgentOptions, signal: AbortSignal): Promise<void> {
  const dir = opts.dockerConfigDir;
  // Read once here so that a broken file stops the start with its message, not the first pull.
  if (dir !== undefined) opts.log(describeCredentials(dir, await readDockerConfig(dir)));
  const { DockerEngine } = await import("../docker/docker_engine.ts");
  const agent = new Agent({
    api: new LauncherClient(opts.urls, opts.token, {
      onFailover: (from, to, reason) =>
        opts.log(`server ${from} unreachable (${reason}); using ${to}`),
      ...(opts.ca === undefined ? {} : { httpClient: pinnedHttpClient(opts.ca) }),
    }),
    engine: new DockerEngine(opts.dockerHost),
    host: opts.host,
    intervalMs: opts.intervalMs,
    parallel: opts.parallel,
    engineTimeoutMs: opts.engineTimeoutMs,
    labels: opts.labels,
    credentials: dir === undefined ? undefined : dockerConfigCredentials(dir),
    log: opts.log,
  });
  await agent.run(signal);
}

/** The agent's start line about registry credentials: where from, for which registries. */
function describeCredentials(dir: string, config: DockerConfig | undefined): string {
  if (config === undefined) {
    return `registry credentials: no ${configPath(dir)}, images are pulled without credentials`;
  }
  const registries = [...config.auths.keys()];
  const which = registries.length === 0 ? "no registry" : registries.join(", ");
  return `registry credentials: ${config.path} (${which}), read again at every pull`;
}
