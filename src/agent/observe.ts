/** Turns what the agent knows about a container into the state report the server stores. */
import { type ContainerStatus, type State, type StateReport, STATES } from "../api/schemas.ts";
import type { Seen } from "./engine_view.ts";

/** The engine's state words that are states of the contract as they are. */
const ENGINE_STATES: ReadonlySet<string> = new Set<string>(
  STATES.filter((s) => !["pending", "pulling", "removed", "failed", "unknown"].includes(s)),
);

/** What the agent knows beyond the engine: a failed operation, or a pull under way. */
export interface Local {
  failure?: string;
  pulling?: boolean;
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
