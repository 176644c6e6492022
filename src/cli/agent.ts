/** `launcher agent`: make this host's engine match what the server wants. */
import { Command, Option } from "@commander-js/extra-typings";
import * as v from "valibot";
import { joinCa } from "../agent/join_ca.ts";
import { startAgent } from "../agent/start.ts";
import { HostLabelKeySchema, HostLabelValueSchema } from "../api/schemas.ts";
import { type JoinString, JoinStringError, parseJoinString } from "../client/join.ts";
import { parseServerUrls } from "../client/servers.ts";
import { readCaFile } from "../client/trust.ts";
import { plainHttpWarning } from "./plain_http.ts";
import { parseDuration } from "../duration.ts";
import { UsageError } from "./errors.ts";
import { aborted, shutdownSignal } from "./signals.ts";

/** The engine address from `--docker-host`, `DOCKER_HOST`, or the default socket. */
export function defaultDockerHost(): string {
  return Deno.env.get("DOCKER_HOST") || "unix:///var/run/docker.sock";
}

/** The Docker config folder from `DOCKER_CONFIG`, or `~/.docker` as the Docker CLI has it. */
export function defaultDockerConfigDir(): string {
  return Deno.env.get("DOCKER_CONFIG") || `${Deno.env.get("HOME") ?? ""}/.docker`;
}

/** A positive whole number flag. */
export function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number above 0`);
  return n;
}

/** Adds one `--label key=value` to the labels given so far; the key and value are checked. */
export function collectLabel(
  text: string,
  labels: Record<string, string> = {},
): Record<string, string> {
  const equals = text.indexOf("=");
  if (equals < 1) throw new UsageError(`--label must be key=value, got "${text}"`);
  const key = text.slice(0, equals);
  const value = text.slice(equals + 1);
  const problem = v.safeParse(HostLabelKeySchema, key).issues?.[0] ??
    v.safeParse(HostLabelValueSchema, value).issues?.[0];
  if (problem) throw new UsageError(`--label ${text}: ${problem.message}`);
  return { ...labels, [key]: value };
}

/** Parses `--join`; a malformed string is a usage error naming the flag. */
function joinFlag(text: string): JoinString {
  try {
    return parseJoinString(text);
  } catch (error) {
    if (error instanceof JoinStringError) throw new UsageError(`--join: ${error.message}`);
    throw error;
  }
}

/** The `agent` command. */
export function agentCommand(log: (line: string) => void): Command {
  return new Command("agent")
    .description("run the agent for this host")
    .addOption(
      new Option("--master <urls>", "server URL, or a comma-separated list to fail over between")
        .env("LAUNCHER_URL")
        .argParser((text) => parseServerUrls(text, "--master")),
    )
    .option("--host <name>", "this host's name", Deno.hostname())
    .addOption(new Option("--token <token>", "API token").env("LAUNCHER_TOKEN"))
    .addOption(
      new Option("--ca <file>", "trust the server's certificate if this CA (PEM) signed it").env(
        "LAUNCHER_CA",
      ),
    )
    .addOption(
      new Option(
        "--join <string>",
        "a join string from `token generate --join`: the token, and the CA to fetch and pin",
      ).env("LAUNCHER_JOIN"),
    )
    .option("--interval <duration>", "full re-check period and fallback poll", "5s")
    .option("--docker-host <url>", "Docker engine address", defaultDockerHost())
    .option(
      "--docker-config <dir>",
      "folder of the Docker config.json whose auths entries pulls use (DOCKER_CONFIG works too)",
      defaultDockerConfigDir(),
    )
    .option("--parallel <n>", "containers worked on at once", "8")
    .option("--engine-timeout <duration>", "deadline of one engine call (not pulls)", "30s")
    .option(
      "--label <key=value>",
      "a label of this host, shown by `launcher hosts` (repeatable)",
      collectLabel,
    )
    .action(async (opts) => {
      if (!opts.master) throw new UsageError("--master URL (or LAUNCHER_URL) is required");
      const intervalMs = parseDuration(opts.interval);
      const parallel = positiveInt("--parallel", opts.parallel);
      const engineTimeoutMs = parseDuration(opts.engineTimeout);
      const join = opts.join ? joinFlag(opts.join) : undefined;
      if (join && opts.token) throw new UsageError("give --join or --token, not both");
      if (join && opts.ca) throw new UsageError("give --join or --ca, not both");
      // An empty LAUNCHER_CA or LAUNCHER_JOIN counts as unset.
      let ca = opts.ca ? readCaFile("--ca", opts.ca) : undefined;
      const token = join?.token ?? opts.token;
      // A join string refuses plain HTTP outright (nothing is sent), so it needs no warning.
      const warning = token && !join ? plainHttpWarning(opts.master, "the token") : undefined;
      if (warning) log(warning);
      const { signal, dispose } = shutdownSignal();
      const servers = opts.master.join(", ");
      log(`launcher agent for host ${opts.host}: server ${servers}, engine ${opts.dockerHost}`);
      if (join) {
        try {
          ca = await joinCa(opts.master, join.caSha256, signal, log);
        } catch (error) {
          dispose();
          throw error;
        }
        if (ca === undefined) {
          dispose();
          return;
        }
        log(`trusting the CA with SHA-256 ${join.caSha256}`);
      }
      const running = startAgent({
        urls: opts.master,
        token,
        ...(ca === undefined ? {} : { ca }),
        host: opts.host,
        dockerHost: opts.dockerHost,
        intervalMs,
        parallel,
        engineTimeoutMs,
        labels: opts.label,
        dockerConfigDir: opts.dockerConfig,
        log,
      }, signal);
      try {
        await Promise.race([running, aborted(signal)]);
      } finally {
        // Also when the start fails (a broken Docker config), so no signal listener is left.
        dispose();
      }
      log("agent stopping; containers keep running");
    });
}
