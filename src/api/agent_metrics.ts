/** What an agent says about its own work, sent with its state reports: the server's metrics show it. */
import * as v from "valibot";
import { apiObject } from "./validation.ts";

/**
 * An agent's figures (optional in `POST /state`: older agents send none). Unknown fields are
 * ignored, so that a newer agent's figures do not fail against an older server.
 */
export const AgentMetricsSchema = apiObject({
  /** How long the agent's last reconcile pass took, in seconds, the work it started included. */
  reconcileSeconds: v.pipe(v.number(), v.finite(), v.minValue(0)),
  /** How many calls to the engine failed since the agent started. */
  engineErrors: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
export type AgentMetrics = v.InferOutput<typeof AgentMetricsSchema>;
