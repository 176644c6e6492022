/** Turns what the engine says about a container into the state report the server stores. */
import type { ContainerStatus, State, StateReport } from "../api/schemas.ts";

/** The parts of an engine inspection that a report needs. */
export interface EngineView {
  id: string;
  state: {
    status: string;
    exitCode: number;
    error: string;
    health?: string;
  };
}

const ENGINE_STATES: ReadonlySet<string> = new Set<State>([
  "created",
  "running",
  "restarting",
  "paused",
  "exited",
  "dead",
  "removing",
]);

/** What the agent knows beyond the engine: a failed operation, or a pull under way. */
export interface Local {
  failure?: string;
  pulling?: boolean;
}

/**
 * The report for one desired container, or undefined when there is nothing to say yet (missing
 * from the engine with no failure: the next pass creates it).
 */
export function observedReport(
  host: string,
  desired: ContainerStatus,
  view: EngineView | null,
  local: Local,
): StateReport | undefined {
  const base = { host, name: desired.config.name, manifest: desired.manifestName };
  if (!view && desired.desired === "removed") return { ...base, state: "removed" };
  if (local.pulling) return { ...base, state: "pulling" };
  if (local.failure !== undefined) {
    return {
      ...base,
      state: "failed",
      error: local.failure,
      ...(view ? { containerId: view.id } : {}),
    };
  }
  if (!view) return undefined;
  const status = view.state.status;
  const state: State = ENGINE_STATES.has(status) ? status as State : "unknown";
  const report: StateReport = { ...base, state, containerId: view.id };
  if (state === "exited" || state === "dead") report.exitCode = view.state.exitCode;
  if (view.state.error) report.error = view.state.error;
  if (view.state.health) report.health = view.state.health;
  return report;
}
