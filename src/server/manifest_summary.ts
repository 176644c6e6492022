/** `manifest ls`: every manifest with its container count and its counts by state. */
import type { ManifestSummary } from "../api/schemas.ts";
import type { Planner } from "./planner.ts";
import { rolloutOf } from "./rollouts.ts";

/** Every manifest, by name, counted from the same list `ps` shows (so the counts agree). */
export function manifestSummaries(planner: Planner): Promise<ManifestSummary[]> {
  // Every read runs in one transaction, so no write can come between them.
  return planner.store.transaction(async (tx) => {
    const manifests = await tx.allManifests();
    const containers = await planner.ps(undefined, tx);
    const summaries = new Map<string, ManifestSummary>(
      manifests.map((m) => [m.name, {
        name: m.name,
        containers: 0,
        states: {},
        createdAt: m.created_at,
        updatedAt: m.updated_at,
      }]),
    );
    for (const rollout of await tx.allRollouts()) {
      const summary = summaries.get(rollout.manifest);
      if (summary !== undefined) summary.rollout = rolloutOf(rollout);
    }
    for (const c of containers) {
      const summary = summaries.get(c.manifestName);
      if (summary === undefined) continue;
      summary.containers++;
      summary.states[c.state] = (summary.states[c.state] ?? 0) + 1;
    }
    return [...summaries.values()];
  });
}
