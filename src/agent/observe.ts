/** Turns what the agent knows about a container into the state report the server stores. */
import { type ContainerStatus, type State, type StateReport, STATES } from "../api/schemas.ts";
import type { Seen } from "./engine_view.ts";

/** The engine's state words that are states of the contract as they are. */
const ENGINE_STATES: ReadonlySet<string> = new Set<string>(
  STATES.filter((s) =>
    !["pending", "pulling", "completed", "removed", "failed", "unknown"].includes(s)
  ),
);

/** What the agent knows beyond the engine: a failed operation, or a pull under way. */
export interface Local {
  failure?: string;
  pulling?: boolean;
}

/**
 * Whether a container that should run and exited is done for good, and how: `completed` (exit 0)
 * or `failed` (any other code); undefined while the engine may still start it again, or when it
 * should not run (a stop someone asked for stays `exited`). Its restart policy is the spec's
 * `restart`, else its `--restart` option, else Docker's default `no`:
 * - `no`: the engine never restarts it: every exit is final.
 * - `on-failure`: exit 0 is final; the engine restarts any other exit until its retry limit, and
 *   a die event cannot tell whether it gave up: final once the engine lists it `exited` (not
 *   `restarting`), which `mayRestart` being unset says.
 * - `always`, `unless-stopped`: never final; the engine starts it again.
 */
export function completion(
  desired: Pick<ContainerStatus, "desired" | "normalized">,
  seen: Pick<Seen, "state" | "exitCode" | "mayRestart">,
): "completed" | "failed" | undefined {
  if (desired.desired !== "running" || seen.state !== "exited") return undefined;
  const code = seen.exitCode;
  if (code === undefined) return undefined;
  const { restart, runOptions } = desired.normalized;
  switch ((restart ?? runOptions.restart)?.name ?? "no") {
    case "no":
      break;
    case "on-failure":
      if (code !== 0 && seen.mayRestart) return undefined;
      break;
    default:
      return undefined;
  }
  return code === 0 ? "completed" : "failed";
}

/**
 * The report for one desired container, from the engine container running its current spec
 * (`seen`, null when there is none), or undefined when there is nothing to say yet (missing from
 * the engine with no failure: the next pass creates it). Every report names the spec it is about.
 */
export function observedReport(
  host: string,
  desired: ContainerStatus,
  seen: Seen | null,
  local: Local,
): StateReport | undefined {
  const base = {
    host,
    name: desired.config.name,
    manifest: desired.manifestName,
    specHash: desired.specHash,
  };
  if (!seen && desired.desired === "removed") return { ...base, state: "removed" };
  if (local.pulling) return { ...base, state: "pulling" };
  if (local.failure !== undefined) {
    return {
      ...base,
      state: "failed",
      error: local.failure,
      ...(seen ? { containerId: seen.id } : {}),
    };
  }
  if (!seen) return undefined;
  const done = completion(desired, seen);
  if (done !== undefined) {
    const exitCode = seen.exitCode!;
    return done === "completed"
      ? { ...base, state: done, containerId: seen.id, exitCode }
      : { ...base, state: done, containerId: seen.id, exitCode, error: exitError(exitCode) };
  }
  const state: State = ENGINE_STATES.has(seen.state) ? seen.state as State : "unknown";
  const report: StateReport = { ...base, state, containerId: seen.id };
  if ((state === "exited" || state === "dead") && seen.exitCode !== undefined) {
    report.exitCode = seen.exitCode;
  }
  // Until its first check the engine says `starting`; events only tell of later changes.
  const check = desired.normalized.healthcheck;
  const health = seen.health ??
    (state === "running" && check !== undefined && check.test[0] !== "NONE"
      ? "starting"
      : undefined);
  if (health !== undefined) report.health = health;
  return report;
}

/** The error of a container that failed by exiting: `exited with code 3`. */
function exitError(exitCode: number): string {
  return `exited with code ${exitCode}`;
}
