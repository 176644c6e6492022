/** The contract of rollouts: how far a manifest's rolling update has come. */
import * as v from "valibot";
import { InstanceNameSchema } from "../manifest/schema.ts";
import { apiObject } from "./validation.ts";

/**
 * Where a rollout is: `running`; `succeeded`; `paused` (a batch failed and `on_failure: pause`
 * left the rest on the old spec); `rolled-back` (a batch failed and the replaced containers went
 * back to the previous spec); `superseded` (a later `up` or `down` of the manifest took over).
 */
export const ROLLOUT_STATUSES = [
  "running",
  "succeeded",
  "paused",
  "rolled-back",
  "superseded",
] as const;
export const RolloutStatusSchema = v.picklist(ROLLOUT_STATUSES);
export type RolloutStatus = v.InferOutput<typeof RolloutStatusSchema>;

/** A manifest's rollout, in progress or last. */
export const RolloutSchema = apiObject({
  status: RolloutStatusSchema,
  /** The revision it rolls out, when it was stored as one. */
  revision: v.optional(v.number()),
  /** The batch in progress, or the last one (1-based; 0 before the first). */
  batch: v.number(),
  batches: v.number(),
  /** How many containers it replaces, and how many are done. */
  containers: v.number(),
  done: v.number(),
  startedAt: v.string(),
  /** Why it failed. */
  error: v.optional(v.string()),
  /** The container whose replacement failed. */
  failed: v.optional(InstanceNameSchema),
});
export type Rollout = v.InferOutput<typeof RolloutSchema>;
