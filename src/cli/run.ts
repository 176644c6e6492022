/**
 * `launcher run NAME --image IMG [-- CMD ARGS...]`: one container as a manifest of its own, run
 * once (`restart: "no"`). With `--wait` it prints the container's output as it comes and exits with
 * the container's exit code, as `docker run` does.
 */
import { Command } from "@commander-js/extra-typings";
import type { ContainerStatus } from "../api/schemas.ts";
import type { LauncherClient, LogsQuery } from "../client/client.ts";
import { ApiError } from "../client/errors.ts";
import { systemClock } from "../clock.ts";
import { errorMessage } from "../errors.ts";
import { caOption, clientFor, tokenOption, urlOption } from "./context.ts";
import { ExitStatus, FailedError, UsageError } from "./errors.ts";
import { type LogWriters, STANDARD_WRITERS } from "./logs.ts";
import { upText } from "./manifest_output.ts";
import { OutputCursor, type RunEnd, runEnd, runManifest, runObjections } from "./run_manifest.ts";
import { shutdownSignal } from "./signals.ts";

/** How often `--wait` looks at the container's state. */
const POLL_MS = 100;
/** How soon a follow that broke (the host was away a moment) is tried again. */
const REFOLLOW_MS = 1000;
/** The exit code of a wait cut short by Ctrl-C, as a shell reports SIGINT. */
const INTERRUPTED = 130;

/** A repeatable flag's values, in order. */
const collect = (value: string, previous: string[] | undefined) => [...previous ?? [], value];

/** The `run` command; `writers` default to the process's stdout and stderr. */
export function runCommand(
  print: (text: string) => void,
  log: (line: string) => void,
  writers: LogWriters = STANDARD_WRITERS,
) {
  return new Command("run")
    .description(
      "run one container as a manifest of its own (restart: no); with --wait, print its output " +
        "and exit with its exit code, as docker run does",
    )
    .argument("<name>", "name of the manifest and of its container")
    .argument("[command...]", "command and arguments, after --: launcher run job -- sh -c 'date'")
    .requiredOption("--image <image>", "image reference")
    .option("--host <host>", "the host that runs it (default: the server places it)")
    .option("-e, --env <KEY=VALUE>", "environment variable (repeatable)", collect)
    .option("-p, --publish <port>", "published port, such as 8080:80 (repeatable)", collect)
    .option("--wait", "print its output until it exits, then exit with its exit code")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (name, command, opts) => {
      const manifest = runManifest({
        name,
        image: opts.image,
        host: opts.host,
        env: opts.env ?? [],
        publish: opts.publish ?? [],
        cmd: command,
      });
      const client = clientFor(opts);
      await refuseTaken(client, name);
      let result;
      try {
        result = await client.up(manifest);
      } catch (error) {
        if (error instanceof ApiError && error.code === "invalid_manifest") {
          throw new UsageError(runObjections(error.message, error.details));
        }
        throw error;
      }
      // With --wait, stdout carries the container's output only, as with docker run.
      (opts.wait ? log : print)(upText(result));
      if (!opts.wait) return;
      const end = await waitForRun(client, name, writers, log);
      if (end.error !== undefined) throw new FailedError(end.error);
      if (end.code !== 0) throw new ExitStatus(end.code);
    });
}

/**
 * A run makes a manifest of its own: one with a container is refused rather than replaced (its
 * other containers would be removed) or left unchanged (an identical run would not run again).
 */
async function refuseTaken(client: LauncherClient, name: string): Promise<void> {
  if (await runContainer(client, name) === undefined) return;
  throw new FailedError(
    `manifest ${name} exists already; remove it first (launcher manifest down --name ${name} ` +
      "--wait) or choose another name",
  );
}

/** The one container of a run's manifest, or undefined once the server no longer knows it. */
async function runContainer(
  client: LauncherClient,
  manifest: string,
): Promise<ContainerStatus | undefined> {
  try {
    return (await client.ps(manifest))[0];
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * Waits until the run's container has exited for good (or failed to run), printing its output
 * meanwhile once it is on a host's engine. The container is found through `ps` of its manifest,
 * whatever its name and host: the server may place it (`NAME.1` on a host of its choice).
 */
async function waitForRun(
  client: LauncherClient,
  manifest: string,
  writers: LogWriters,
  log: (line: string) => void,
): Promise<RunEnd> {
  const { signal, dispose } = shutdownSignal();
  const output = new RunOutput(client, writers);
  let waiting: string | undefined;
  try {
    while (true) {
      const c = await runContainer(client, manifest);
      if (c === undefined) return { code: 1, error: `manifest ${manifest} was removed` };
      // No host fits yet: say why once (and again if the reason changes), then keep waiting.
      if (c.host === "" && c.error !== undefined && c.error !== waiting) {
        waiting = c.error;
        log(`${c.config.name} waits for a host: ${c.error}`);
      }
      // Placed on a host, and made on its engine: there is output to read.
      const target = c.host !== "" && c.containerId !== undefined
        ? { manifest, container: c.config.name }
        : undefined;
      const end = runEnd(c);
      if (end !== undefined) {
        if (target !== undefined) await output.finish(target, log);
        return end;
      }
      if (target !== undefined) output.follow(target);
      await systemClock.sleep(POLL_MS, signal);
      if (signal.aborted) {
        log(
          `stopped waiting; ${manifest} keeps running (launcher manifest down --name ${manifest} ` +
            "removes it)",
        );
        return { code: INTERRUPTED };
      }
    }
  } finally {
    output.stop();
    dispose();
  }
}

/** The container whose output is read. */
type Target = Pick<LogsQuery, "manifest" | "container">;

/**
 * A run's output, followed while it runs and read to its end once it has exited: the state may be
 * seen before the last lines have come through the follow. The cursor writes each line once.
 */
class RunOutput {
  readonly #client: LauncherClient;
  readonly #writers: LogWriters;
  readonly #encoder = new TextEncoder();
  readonly #stopping = new AbortController();
  #following?: Promise<void>;
  #refollowAt = 0;
  readonly #cursor = new OutputCursor();

  constructor(client: LauncherClient, writers: LogWriters) {
    this.#client = client;
    this.#writers = writers;
  }

  /** Follows the container's output, unless already following (or the follow broke just now). */
  follow(target: Target): void {
    if (this.#following !== undefined || Date.now() < this.#refollowAt) return;
    this.#following = this.#read(target, true, this.#stopping.signal)
      // A follow that breaks is tried again; the final read catches up on what it missed.
      .catch(() => {})
      .finally(() => {
        this.#following = undefined;
        this.#refollowAt = Date.now() + REFOLLOW_MS;
      });
  }

  /** Ends the follow and writes what it has not (all of it when there was none). */
  async finish(target: Target, log: (line: string) => void): Promise<void> {
    this.stop();
    await this.#following;
    try {
      await this.#read(target, false);
    } catch (error) {
      log(`warning: cannot read the rest of the output: ${errorMessage(error)}`);
    }
  }

  /** Ends the follow. */
  stop(): void {
    this.#stopping.abort();
  }

  async #read(target: Target, follow: boolean, signal?: AbortSignal): Promise<void> {
    const query: LogsQuery = { ...target, follow, timestamps: true };
    const since = this.#cursor.startRead();
    if (since !== undefined) query.since = since;
    for await (const line of this.#client.logs(query, signal)) {
      if (!this.#cursor.admit(line.time)) continue;
      await this.#writers[line.stream](this.#encoder.encode(line.data));
    }
  }
}
