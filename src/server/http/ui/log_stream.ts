/**
 * A container's logs for the viewer (`GET .../logs`): the agent's output, followed, as `lines`
 * events of whole lines; `problem` when it cannot be had or fails, `end` when it ends.
 */
import { openContainerLogs } from "../../container_logs.ts";
import type { Planner } from "../../planner.ts";
import { logBatches, logProblem } from "./log_lines.ts";
import type { SendEvent } from "./sse.ts";

/** What following one container's logs needs. */
export interface LogStreamDeps {
  planner: Planner;
  manifest: string;
  container: string;
  /** Start with the last N lines (default: all). */
  tail?: number;
  /** Keep one stream only. */
  only?: "stdout" | "stderr";
  send: SendEvent;
  signal: AbortSignal;
}

/** Follows a container's logs until they end, fail or the page leaves. */
export async function logStream(deps: LogStreamDeps): Promise<void> {
  const { planner, manifest, container, tail, only, send, signal } = deps;
  let body: ReadableStream<Uint8Array>;
  try {
    body = await openContainerLogs(
      { store: planner.store, hosts: planner.hosts, relay: planner.logs },
      {
        manifest,
        container,
        follow: true,
        timestamps: false,
        ...(tail === undefined ? {} : { tail }),
      },
      signal,
    );
  } catch (error) {
    if (!signal.aborted) await send("problem", logProblem(error));
    return;
  }
  try {
    for await (const batch of logBatches(body, only)) {
      if (signal.aborted) return;
      if ("error" in batch) {
        await send("problem", batch.error);
        return;
      }
      await send("lines", JSON.stringify(batch.lines));
    }
    await send("end", "the log stream ended");
  } catch (error) {
    if (!signal.aborted) await send("problem", logProblem(error));
  } finally {
    await body.cancel().catch(() => {});
  }
}
