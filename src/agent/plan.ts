/**
 * The agent's decision for one container: compare what is desired with what the engine holds and
 * return the steps that close the gap. Pure, so every rule is unit-tested without an engine.
 */
import type { ContainerStatus } from "../api/schemas.ts";

/** What the engine holds for one launcher container, as far as planning needs. */
export interface Observed {
  id: string;
  /** The engine's state word: created, running, restarting, paused, exited, dead, removing. */
  state: string;
  specHash: string;
}

/** One operation on the engine, in the order it must run. */
export type Step =
  | { op: "remove"; id: string }
  | { op: "create"; start: boolean }
  | { op: "start"; id: string }
  | { op: "stop"; id: string }
  | { op: "kill"; id: string }
  | { op: "restart"; id: string };

const ACTIVE = new Set(["running", "restarting", "paused"]);

/**
 * Takes a container away: a running one is stopped first (SIGTERM, then its stop timeout) so its
 * process can finish; `force` (`container rm`) removes it at once.
 */
export function removal(o: Observed, force = false): Step[] {
  const remove: Step = { op: "remove", id: o.id };
  return !force && ACTIVE.has(o.state) ? [{ op: "stop", id: o.id }, remove] : [remove];
}

/**
 * Plans one desired container. `appliedGeneration` is the generation this agent last acted on
 * (undefined: never, as after an agent restart, which adopts what is there instead of redoing
 * past intents). Extra engine containers for the same name are removed first.
 */
export function planContainer(
  desired: ContainerStatus,
  observed: Observed[],
  appliedGeneration: number | undefined,
): Step[] {
  const [current, ...extra] = observed;
  const steps: Step[] = extra.flatMap((o) => removal(o));
  if (desired.desired === "removed") {
    return current ? [...steps, ...removal(current, desired.force === true)] : steps;
  }
  const wantsRunning = desired.desired === "running";
  if (!current) return [...steps, { op: "create", start: wantsRunning }];
  if (current.specHash !== desired.specHash) {
    return [...steps, ...removal(current), { op: "create", start: wantsRunning }];
  }
  const isActive = ACTIVE.has(current.state);
  const applied = appliedGeneration ?? desired.generation;
  const intentIsNew = desired.generation > applied;
  switch (desired.desired) {
    case "stopped":
      if (isActive) steps.push({ op: "stop", id: current.id });
      break;
    case "killed":
      if (isActive) steps.push({ op: "kill", id: current.id });
      break;
    case "running":
      if (intentIsNew && desired.restartGeneration > applied) {
        steps.push({ op: "restart", id: current.id });
      } else if (current.state === "created" || (intentIsNew && !isActive)) {
        // A created container never ran: starting it is always what was meant. An exited one is
        // started again only on a new intent, so a crash stays visible and restart policy is the
        // user's choice, not ours.
        steps.push({ op: "start", id: current.id });
      }
      break;
  }
  return steps;
}

/** Engine containers that no desired container claims, with the steps that take them away. */
export function orphans(
  desiredKeys: Set<string>,
  observed: Map<string, Observed[]>,
): { key: string; steps: Step[] }[] {
  const result: { key: string; steps: Step[] }[] = [];
  for (const [key, list] of observed) {
    if (!desiredKeys.has(key)) result.push({ key, steps: list.flatMap((o) => removal(o)) });
  }
  return result;
}
