/** The contract of containers: desired and observed state, actions, reports, plans and lists. */
import * as v from "valibot";
import { HostSchema, InstanceNameSchema, NameSchema } from "../manifest/schema.ts";
import { AgentMetricsSchema } from "./agent_metrics.ts";
import { NormalizedSpecSchema, SpecConfigSchema } from "./normalized.ts";
import { RolloutSchema } from "./rollouts.ts";
import { apiObject, apiRecord, apiStrictObject } from "./validation.ts";

/** What the user wants for a container. */
export const DESIRED = ["running", "stopped", "killed", "removed"] as const;
export const DesiredSchema = v.picklist(DESIRED);
export type Desired = v.InferOutput<typeof DesiredSchema>;

/**
 * What an agent last observed (`pending`: not yet seen by its agent). A container that should run
 * and exited for good (its restart policy will not start it again) is `completed` when it exited
 * 0, and `failed` with its `exitCode` otherwise; `exited` is left for a container desired stopped
 * or killed, and for an exit that the engine's restart policy may follow with a start.
 */
export const STATES = [
  "pending",
  "pulling",
  "created",
  "running",
  "restarting",
  "paused",
  "exited",
  "completed",
  "dead",
  "removing",
  "removed",
  "failed",
  "unknown",
] as const;
export const StateSchema = v.picklist(STATES);
export type State = v.InferOutput<typeof StateSchema>;

/**
 * A state as `ps` and the events show it, with its exit code or health: `exited (137)`,
 * `failed (exit 3)`, `running (healthy)`, `completed`.
 */
export function stateLabel(
  state: string,
  exitCode?: number | null,
  health?: string | null,
): string {
  if (exitCode !== undefined && exitCode !== null) {
    if (state === "exited" || state === "dead") return `${state} (${exitCode})`;
    if (state === "failed") return `failed (exit ${exitCode})`;
  }
  if (state === "running" && health) return `running (${health})`;
  return state;
}

/** Actions a client may request on one container. */
export const ACTIONS = ["stop", "kill", "restart", "rm"] as const;
export const ActionSchema = v.picklist(ACTIONS);
export type Action = v.InferOutput<typeof ActionSchema>;

/** `POST /manifest/down`. */
export const ManifestDownSchema = apiStrictObject({ manifest: NameSchema });

/** `POST /manifest/ps`: an empty body or no `manifest` lists every manifest. */
export const ManifestPsSchema = apiStrictObject({ manifest: v.optional(NameSchema) });

/** `POST /container/action`. */
export const ContainerActionSchema = apiStrictObject({
  action: ActionSchema,
  host: HostSchema,
  container: InstanceNameSchema,
  manifest: v.optional(NameSchema),
});
export type ContainerAction = v.InferOutput<typeof ContainerActionSchema>;

/** One observed state, as an agent reports it. */
export const StateReportSchema = apiStrictObject({
  host: HostSchema,
  name: InstanceNameSchema,
  manifest: v.optional(NameSchema),
  state: StateSchema,
  containerId: v.optional(v.string()),
  exitCode: v.optional(v.pipe(v.number(), v.integer())),
  error: v.optional(v.string()),
  health: v.optional(v.string()),
  /**
   * The spec hash the report describes; the server ignores a report about a spec it has since
   * replaced (agents older than this field send none).
   */
  specHash: v.optional(v.string()),
});
export type StateReport = v.InferOutput<typeof StateReportSchema>;

/**
 * `POST /state` from an agent that sends its own figures with its reports: the reports of its
 * host (none when only the figures changed) and the figures.
 */
export const StateBatchSchema = v.pipe(
  apiStrictObject({
    host: HostSchema,
    reports: v.array(StateReportSchema),
    agent: v.optional(AgentMetricsSchema),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { host, reports } = dataset.value;
    reports.forEach((report, i) => {
      if (report.host === host) return;
      addIssue({
        message: `is ${report.host}, not the batch's host ${host}`,
        path: [
          {
            type: "object",
            origin: "value",
            input: dataset.value,
            key: "reports",
            value: reports,
          },
          { type: "array", origin: "value", input: reports, key: i, value: report },
          { type: "object", origin: "value", input: report, key: "host", value: report.host },
        ],
      });
    });
  }),
);
export type StateBatch = v.InferOutput<typeof StateBatchSchema>;

/** `POST /state`: one report (the original body), a batch of them, or an agent's batch. */
export const StateBodySchema = v.union([
  StateReportSchema,
  v.pipe(v.array(StateReportSchema), v.minLength(1, "must hold at least one report")),
  StateBatchSchema,
]);

/** A container as the server knows it: its spec, where it runs, what is desired and seen. */
export const ContainerStatusSchema = v.object({
  manifestName: NameSchema,
  /** The spec as written, for people and for clients of the original design. */
  config: SpecConfigSchema,
  /** The spec as parsed at the door; agents build containers from it. */
  normalized: NormalizedSpecSchema,
  /** "" while a placed container waits for a host (`state` pending, `error` says why). */
  host: v.union([HostSchema, v.literal("")]),
  /** The spec a placed instance belongs to (`web` of `web.2`); absent for a pinned one. */
  template: v.optional(NameSchema),
  desired: DesiredSchema,
  state: StateSchema,
  containerId: v.optional(v.string()),
  exitCode: v.optional(v.number()),
  error: v.optional(v.string()),
  health: v.optional(v.string()),
  /** Hash of the normalized spec; agents label containers with it. */
  specHash: v.string(),
  /** Grows with every user intent on this container (up, stop, kill, restart, rm). */
  generation: v.number(),
  /** The generation at which the last restart was requested (0: never). */
  restartGeneration: v.number(),
  /** Set by `container rm`: removed at once, without a graceful stop. */
  force: v.optional(v.literal(true)),
  createdAt: v.string(),
  updatedAt: v.string(),
});
export type ContainerStatus = v.InferOutput<typeof ContainerStatusSchema>;

/** `GET /container?host=H&index=N`: the host's desired list and the index it is at. */
export const HostDesiredSchema = apiObject({
  index: v.number(),
  containers: v.array(ContainerStatusSchema),
  /** Present (true) once the host has registered; its agent registers again when it is absent. */
  registered: v.optional(v.literal(true)),
  /**
   * The installation's id: agents label what they create with it and touch nothing labelled
   * with another.
   */
  cluster: v.optional(v.string()),
});
export type HostDesired = v.InferOutput<typeof HostDesiredSchema>;

/** The fields of `UpResultSchema`, which a rollback's answer extends. */
export const UP_RESULT_ENTRIES = {
  manifest: NameSchema,
  created: v.array(v.string()),
  updated: v.array(v.string()),
  unchanged: v.array(v.string()),
  removed: v.array(v.string()),
  /** The revision the manifest was stored as; absent when nothing changed. */
  revision: v.optional(v.number()),
  /**
   * Present when the manifest's `update:` left its changed containers to a rollout, which
   * replaces those listed in `updated` batch by batch (`GET /manifests` shows how far it is).
   */
  rollout: v.optional(v.literal(true)),
};

/** `POST /manifest/up`: what changed, by container name. */
export const UpResultSchema = apiObject(UP_RESULT_ENTRIES);
export type UpResult = v.InferOutput<typeof UpResultSchema>;

/**
 * What `manifest up` would do to one container (`update`: same spec, desired set back to
 * `running`); `up` reports `recreate` and `update` both as `updated`.
 */
export const PLAN_ACTIONS = ["create", "recreate", "update", "unchanged", "remove"] as const;
export const PlanActionSchema = v.picklist(PLAN_ACTIONS);
export type PlanAction = v.InferOutput<typeof PlanActionSchema>;

/** One field that differs, by its path in the normalized spec (`environment.MODE`). */
export const FieldChangeSchema = apiObject({
  field: v.string(),
  /** Absent when the field was not set before. */
  from: v.optional(v.unknown()),
  /** Absent when the field is no longer set. */
  to: v.optional(v.unknown()),
});
export type FieldChange = v.InferOutput<typeof FieldChangeSchema>;

/** One container's line of a plan. */
export const ContainerPlanSchema = apiObject({
  name: InstanceNameSchema,
  /** Where it runs or would run; "" when no host fits (`pending` says why). */
  host: v.union([HostSchema, v.literal("")]),
  action: PlanActionSchema,
  changes: v.array(FieldChangeSchema),
  pending: v.optional(v.string()),
});
export type ContainerPlan = v.InferOutput<typeof ContainerPlanSchema>;

/** `POST /manifest/diff`: what `up` would do, container by container, changing nothing. */
export const ManifestPlanSchema = apiObject({
  manifest: NameSchema,
  /** Whether `up` would change anything. */
  changed: v.boolean(),
  containers: v.array(ContainerPlanSchema),
});
export type ManifestPlan = v.InferOutput<typeof ManifestPlanSchema>;

/** `GET /manifests`: one manifest with its container count and its counts by state. */
export const ManifestSummarySchema = apiObject({
  name: NameSchema,
  containers: v.number(),
  /** Containers by state, as `ps` shows them; states with none are left out. */
  states: apiRecord(v.string(), v.number()),
  /** Its rollout, in progress or last (absent: it never had one). */
  rollout: v.optional(RolloutSchema),
  createdAt: v.string(),
  updatedAt: v.string(),
});
export type ManifestSummary = v.InferOutput<typeof ManifestSummarySchema>;
