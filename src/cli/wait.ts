/** `--wait`: follow a manifest's containers until each has reached what is desired. */
import type { ContainerStatus, Rollout } from "../api/schemas.ts";
import type { LauncherClient } from "../client/client.ts";
import { ApiError } from "../client/errors.ts";
import { systemClock } from "../clock.ts";
import { FailedError } from "./errors.ts";
import { rolloutLine } from "./manifest_output.ts";
import { stateText } from "./output.ts";

/** Where one container stands against what is desired. */
export type Progress = "done" | "pending" | "failed";

const STOPPED = new Set(["exited", "created", "dead"]);

/** Whether a container has reached its desired state, is on its way, or has failed. */
export function progressOf(c: ContainerStatus): Progress {
  // A failure seen before a removal was asked is stale: the agent removes what is there anyway,
  // and a removal that keeps failing runs into the timeout with its error shown.
  if (c.desired === "removed") return c.state === "removed" ? "done" : "pending";
  if (c.state === "failed") return "failed";
  switch (c.desired) {
    case "running":
      // A container that ran to completion has done what was asked of it.
      if (c.state === "completed") return "done";
      if (c.state !== "running") return "pending";
      if (c.health === "unhealthy") return "failed";
      return c.health === undefined || c.health === "healthy" ? "done" : "pending";
    case "stopped":
    case "killed":
      return STOPPED.has(c.state) ? "done" : "pending";
  }
}

/** Writes progress: lines redrawn in place on a terminal, a line per change otherwise. */
class ProgressView {
  private drawn = 0;
  private readonly seen = new Map<string, string>();
  private readonly encoder = new TextEncoder();

  constructor(private readonly tty: boolean) {}

  show(list: ContainerStatus[]): void {
    const lines = list.map((c) => {
      const mark = { done: "✔", pending: "…", failed: "✘" }[progressOf(c)];
      const error = c.error ? `: ${c.error}` : "";
      return {
        key: c.config.name,
        text: `${mark} ${c.config.name} (${c.host || "no host"}): ${stateText(c)}${error}`,
      };
    });
    if (this.tty) {
      const up = this.drawn > 0 ? `\x1b[${this.drawn}F` : "";
      const body = lines.map((l) => `\x1b[2K${l.text}\n`).join("");
      Deno.stderr.writeSync(this.encoder.encode(up + body));
      this.drawn = lines.length;
      return;
    }
    for (const l of lines) {
      if (this.seen.get(l.key) === l.text) continue;
      this.seen.set(l.key, l.text);
      Deno.stderr.writeSync(this.encoder.encode(`${l.text}\n`));
    }
  }
}

/** What a wait follows besides the containers. */
export interface WaitOptions {
  /** The `up` started a rollout: wait for it to end, and fail when it fails. */
  rollout?: boolean;
}

/** Writes a rollout's line each time it changes (batch k of n, how many replaced). */
class RolloutView {
  #last = "";

  show(manifest: string, rollout: Rollout): void {
    const line = rolloutLine(manifest, rollout);
    if (line === this.#last) return;
    this.#last = line;
    Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
  }
}

/**
 * Follows the manifest's rollout, if the `up` started one: true once it succeeded, false while it
 * runs; throws FailedError naming the container that failed when it paused or rolled back.
 */
async function rolloutDone(
  client: LauncherClient,
  manifest: string,
  view: RolloutView,
): Promise<boolean> {
  const rollout = (await client.manifests()).find((m) => m.name === manifest)?.rollout;
  if (rollout === undefined) return true;
  view.show(manifest, rollout);
  switch (rollout.status) {
    case "running":
      return false;
    case "succeeded":
      return true;
    case "superseded":
      throw new FailedError(`${manifest}: the rollout was superseded by a later up or down`);
    default:
      throw new FailedError(
        `${manifest}: rollout ${rollout.status}` +
          (rollout.error === undefined ? "" : `: ${rollout.error}`),
      );
  }
}

/**
 * Polls `ps` until every container of the manifest has reached what is desired (and the rollout
 * the `up` started, if any, has ended); a removed manifest counts as done when the server no
 * longer knows it. Throws FailedError naming each container that failed, or that was still
 * pending at the timeout.
 */
export async function waitForManifest(
  client: LauncherClient,
  manifest: string,
  timeoutMs: number,
  options: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const view = new ProgressView(Deno.stderr.isTerminal());
  const rollouts = new RolloutView();
  let rolledOut = !options.rollout;
  while (true) {
    let list: ContainerStatus[];
    try {
      list = await client.ps(manifest);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return;
      throw error;
    }
    view.show(list);
    // While a rollout runs, a failing replacement is its to judge: it may still come up before
    // the batch's deadline, and past it the rollout says which one failed.
    rolledOut ||= await rolloutDone(client, manifest, rollouts);
    const failed = list.filter((c) => progressOf(c) === "failed");
    const pending = list.filter((c) => progressOf(c) === "pending");
    if (failed.length > 0 && rolledOut) {
      throw new FailedError(
        failed.map((c) => `${c.config.name} on ${c.host} failed: ${c.error ?? c.health}`).join(
          "; ",
        ),
      );
    }
    if (pending.length === 0 && rolledOut) return;
    if (Date.now() >= deadline) {
      const late = pending.map((c) =>
        `${c.config.name} on ${c.host || "no host"} still ${stateText(c)}` +
        (c.host === "" && c.error ? ` (${c.error})` : "")
      );
      if (!rolledOut) late.push(`the rollout of ${manifest} is still running`);
      throw new FailedError(`${late.join("; ")} after ${Math.round(timeoutMs / 1000)}s`);
    }
    await systemClock.sleep(100);
  }
}
