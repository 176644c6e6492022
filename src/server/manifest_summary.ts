/** `manifest ls`: every manifest with its container count and its counts by state. */
import type { ManifestSummary } from "../api/schemas.ts";
import type { Planner } from "./planner.ts";

/** Every manifest, by name, counted from the same list `ps` shows (so the counts agree). */
export function manifestSummaries(planner: Planner): ManifestSummary[] {
  // Both reads run in one synchronous step, so no write can come between them.
  const manifests = planner.store.allManifests();
  const containers = planner.ps();
  const summaries = new Map<string, ManifestSummary>(
    manifests.map((m) => [m.name, {
      name: m.name,
      containers: 0,
      states: {},
      createdAt: m.created_at,
      updatedAt: m.updated_at,
    }]),
  );
  for (const rollout of planner.store.allRollouts()) {
    const summary = summaries.get(rollout.manifest);
    const status = planner.rollouts.status(rollout.manifest);
    if (summary !== undefined && status !== undefined) summary.rollout = status;
  }
  for (const c of containers) {
    const summary = summaries.get(c.manifestName);
    if (summary === undefined) continue;
    summary.containers++;
    summary.states[c.state] = (summary.states[c.state] ?? 0) + 1;
  }
  return [...summaries.values()];
}
