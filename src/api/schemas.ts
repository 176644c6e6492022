/**
 * Schemas of every API body, shared by the server (validation), the typed client and the CLI.
 * The vocabulary is DESIGN.md's: desired, state, index, host, manifest.
 */
import * as v from "valibot";
import { HostSchema, NameSchema, SpecSchema } from "../manifest/schema.ts";
import { parseDuration } from "../duration.ts";

export { HostSchema, ManifestSchema, NameSchema, SpecSchema } from "../manifest/schema.ts";
export type { Manifest, Spec } from "../manifest/schema.ts";

/** What the user wants for a container. */
export const DESIRED = ["running", "stopped", "killed", "removed"] as const;
export const DesiredSchema = v.picklist(DESIRED);
export type Desired = v.InferOutput<typeof DesiredSchema>;

/** What an agent last observed (`pending`: not yet seen by its agent). */
export const STATES = [
  "pending",
  "pulling",
  "created",
  "running",
  "restarting",
  "paused",
  "exited",
  "dead",
  "removing",
  "removed",
  "failed",
  "unknown",
] as const;
export const StateSchema = v.picklist(STATES);
export type State = v.InferOutput<typeof StateSchema>;

/** Actions a client may request on one container. */
export const ACTIONS = ["stop", "kill", "restart", "rm"] as const;
export const ActionSchema = v.picklist(ACTIONS);
export type Action = v.InferOutput<typeof ActionSchema>;

/** What a token may do: everything, one host's agent work, or read without changing anything. */
export const ROLES = ["admin", "agent", "read"] as const;
export const RoleSchema = v.picklist(ROLES);
export type Role = v.InferOutput<typeof RoleSchema>;

/** The longest lifetime a token may be given (ten years). */
export const MAX_TOKEN_TTL_MS = 3650 * 86_400_000;

/** Whether a `ttl` is a duration from 1 ms to ten years. */
function isTokenTtl(text: string): boolean {
  try {
    const ms = parseDuration(text);
    return ms >= 1 && ms <= MAX_TOKEN_TTL_MS;
  } catch {
    return false;
  }
}

/** The scope of a new token: its role (default admin), the host of an agent token, a lifetime. */
const TOKEN_SCOPE_ENTRIES = {
  role: v.optional(RoleSchema),
  host: v.optional(HostSchema),
  ttl: v.optional(
    v.pipe(
      v.string(),
      v.check(isTokenTtl, "must be a duration such as 30d, 12h or 90m, at most 3650d"),
    ),
  ),
};

/** An agent token needs its host, and only an agent token has one. */
function agentHostCheck(scope: { role?: Role; host?: string }): boolean {
  return (scope.role === "agent") === (scope.host !== undefined);
}
const AGENT_HOST_MESSAGE = "is required for role agent and allowed for no other role";

/** `POST /token`: the password, and optionally the scope of the token (admin by default). */
export const TokenRequestSchema = v.pipe(
  v.strictObject({ password: v.string(), ...TOKEN_SCOPE_ENTRIES }),
  v.forward(v.check((scope) => agentHostCheck(scope), AGENT_HOST_MESSAGE), ["host"]),
);
export const TokenResponseSchema = v.object({ token: v.string() });

/** `POST /tokens`: a new token made with an admin token. */
export const TokenCreateSchema = v.pipe(
  v.strictObject(TOKEN_SCOPE_ENTRIES),
  v.forward(v.check((scope) => agentHostCheck(scope), AGENT_HOST_MESSAGE), ["host"]),
);
export type TokenScope = v.InferOutput<typeof TokenCreateSchema>;

/** A new token, shown this once: `id` is public and names it in lists and revocations. */
export const TokenCreatedSchema = v.object({
  id: v.string(),
  token: v.string(),
  role: RoleSchema,
  host: v.optional(HostSchema),
  expiresAt: v.optional(v.string()),
});
export type TokenCreated = v.InferOutput<typeof TokenCreatedSchema>;

/** `GET /tokens`: one token without its secret. */
export const TokenInfoSchema = v.object({
  id: v.string(),
  role: RoleSchema,
  host: v.optional(HostSchema),
  createdAt: v.string(),
  expiresAt: v.optional(v.string()),
  lastUsedAt: v.optional(v.string()),
  revoked: v.boolean(),
});
export type TokenInfo = v.InferOutput<typeof TokenInfoSchema>;

/** `POST /tokens/revoke`. */
export const TokenRevokeSchema = v.strictObject({ id: v.pipe(v.string(), v.nonEmpty()) });

/** `POST /manifest/down`. */
export const ManifestDownSchema = v.strictObject({ manifest: NameSchema });

/** `POST /manifest/ps`: an empty body or no `manifest` lists every manifest. */
export const ManifestPsSchema = v.strictObject({ manifest: v.optional(NameSchema) });

/** `POST /container/action`. */
export const ContainerActionSchema = v.strictObject({
  action: ActionSchema,
  host: HostSchema,
  container: NameSchema,
  manifest: v.optional(NameSchema),
});
export type ContainerAction = v.InferOutput<typeof ContainerActionSchema>;

/** One observed state, as an agent reports it. */
export const StateReportSchema = v.strictObject({
  host: HostSchema,
  name: NameSchema,
  manifest: v.optional(NameSchema),
  state: StateSchema,
  containerId: v.optional(v.string()),
  exitCode: v.optional(v.pipe(v.number(), v.integer())),
  error: v.optional(v.string()),
  health: v.optional(v.string()),
});
export type StateReport = v.InferOutput<typeof StateReportSchema>;

/** `POST /state`: one report (the original body) or a batch of them. */
export const StateBodySchema = v.union([
  StateReportSchema,
  v.pipe(v.array(StateReportSchema), v.minLength(1, "must hold at least one report")),
]);

/** A container as the server knows it: its spec, where it runs, what is desired and seen. */
export const ContainerStatusSchema = v.object({
  manifestName: NameSchema,
  config: SpecSchema,
  host: HostSchema,
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
  createdAt: v.string(),
  updatedAt: v.string(),
});
export type ContainerStatus = v.InferOutput<typeof ContainerStatusSchema>;

/** `GET /container?host=H&index=N`: the host's desired list and the index it is at. */
export const HostDesiredSchema = v.object({
  index: v.number(),
  containers: v.array(ContainerStatusSchema),
  /** Present (true) once the host has registered; its agent registers again when it is absent. */
  registered: v.optional(v.literal(true)),
});
export type HostDesired = v.InferOutput<typeof HostDesiredSchema>;

/** `POST /manifest/up`: what changed, by container name. */
export const UpResultSchema = v.object({
  manifest: NameSchema,
  created: v.array(v.string()),
  updated: v.array(v.string()),
  unchanged: v.array(v.string()),
  removed: v.array(v.string()),
});
export type UpResult = v.InferOutput<typeof UpResultSchema>;

/**
 * What `manifest up` would do to one container (`update`: same spec, desired set back to
 * `running`); `up` reports `recreate` and `update` both as `updated`.
 */
export const PLAN_ACTIONS = ["create", "recreate", "update", "unchanged", "remove"] as const;
export const PlanActionSchema = v.picklist(PLAN_ACTIONS);
export type PlanAction = v.InferOutput<typeof PlanActionSchema>;

/** One field that differs, by its path in the normalized spec (`environment.MODE`). */
export const FieldChangeSchema = v.object({
  field: v.string(),
  /** Absent when the field was not set before. */
  from: v.optional(v.unknown()),
  /** Absent when the field is no longer set. */
  to: v.optional(v.unknown()),
});
export type FieldChange = v.InferOutput<typeof FieldChangeSchema>;

/** One container's line of a plan. */
export const ContainerPlanSchema = v.object({
  name: NameSchema,
  host: HostSchema,
  action: PlanActionSchema,
  changes: v.array(FieldChangeSchema),
});
export type ContainerPlan = v.InferOutput<typeof ContainerPlanSchema>;

/** `POST /manifest/diff`: what `up` would do, container by container, changing nothing. */
export const ManifestPlanSchema = v.object({
  manifest: NameSchema,
  /** Whether `up` would change anything. */
  changed: v.boolean(),
  containers: v.array(ContainerPlanSchema),
});
export type ManifestPlan = v.InferOutput<typeof ManifestPlanSchema>;

/** `GET /manifests`: one manifest with its container count and its counts by state. */
export const ManifestSummarySchema = v.object({
  name: NameSchema,
  containers: v.number(),
  /** Containers by state, as `ps` shows them; states with none are left out. */
  states: v.record(v.string(), v.number()),
  createdAt: v.string(),
  updatedAt: v.string(),
});
export type ManifestSummary = v.InferOutput<typeof ManifestSummarySchema>;

/** What an event records: an applied manifest, a removal, a container action, a new state. */
export const EVENT_KINDS = ["up", "down", "action", "state"] as const;
export const EventKindSchema = v.picklist(EVENT_KINDS);
export type EventKind = v.InferOutput<typeof EventKindSchema>;

/** One entry of the event history. */
export const EventSchema = v.object({
  /** Grows with every event and is never reused; `GET /events?after=` reads on from it. */
  id: v.number(),
  time: v.string(),
  kind: EventKindSchema,
  /** Who caused it: the calling token's id and role, or `admin` when none is known. */
  actor: v.string(),
  manifest: v.optional(NameSchema),
  host: v.optional(HostSchema),
  container: v.optional(NameSchema),
  /** `create`, `recreate`, `update` or `remove` (up, down); `stop`, `kill`, `restart`, `rm`. */
  action: v.optional(v.string()),
  /** A state change: the state before and after, as `ps` shows them (`exited (137)`). */
  from: v.optional(v.string()),
  to: v.optional(v.string()),
  /** The fields a recreate changed. */
  changes: v.optional(v.array(FieldChangeSchema)),
  error: v.optional(v.string()),
});
export type EventRecord = v.InferOutput<typeof EventSchema>;

/** `GET /events`: events by id, and the id to pass as `after` to read on from them. */
export const EventPageSchema = v.object({ events: v.array(EventSchema), last: v.number() });
export type EventPage = v.InferOutput<typeof EventPageSchema>;

/** Every error answer: `{"error": {"code", "message", "details"?}}`. */
export const ErrorDetailSchema = v.object({
  path: v.optional(v.string()),
  message: v.string(),
  line: v.optional(v.number()),
  column: v.optional(v.number()),
});
export type ErrorDetail = v.InferOutput<typeof ErrorDetailSchema>;
export const ErrorBodySchema = v.object({
  error: v.object({
    code: v.string(),
    message: v.string(),
    details: v.optional(v.array(ErrorDetailSchema)),
  }),
});
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>;

/** A host label key: `zone`, `example.com/rack`. */
export const HostLabelKeySchema = v.pipe(
  v.string(),
  v.regex(
    /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/,
    "must be 1-63 letters, digits, '.', '_', '/' or '-', starting and ending with a letter or digit",
  ),
);

/** A host label value: printable, at most 255 characters. */
export const HostLabelValueSchema = v.pipe(
  v.string(),
  v.maxLength(255, "must be at most 255 characters"),
  v.check(
    (text) => ![...text].some((ch) => ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127),
    "must not contain control characters",
  ),
);

/** A host's labels: at most 64. */
export const HostLabelsSchema = v.pipe(
  v.record(HostLabelKeySchema, HostLabelValueSchema),
  v.check((labels) => Object.keys(labels).length <= 64, "must hold at most 64 labels"),
);

/** A short text an agent reports about its host (engine version, OS, ...). */
const FactSchema = v.pipe(v.string(), v.maxLength(200, "must be at most 200 characters"));
const CountSchema = v.pipe(v.number(), v.integer(), v.minValue(0));

/** `POST /hosts/register`: what an agent says about its host, on its first contact. */
export const HostRegistrationSchema = v.strictObject({
  host: HostSchema,
  engineVersion: FactSchema,
  os: FactSchema,
  arch: FactSchema,
  cpus: CountSchema,
  /** Bytes. */
  memory: CountSchema,
  agentVersion: FactSchema,
  labels: v.optional(HostLabelsSchema, {}),
  /** The agent's `--interval`: the host is offline after 3 of them without a poll. */
  intervalMs: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86_400_000)),
});
export type HostRegistration = v.InferOutput<typeof HostRegistrationSchema>;

/** How a host stands: `draining` is a draining host that is online. */
export const HOST_STATUSES = ["online", "offline", "draining"] as const;
export const HostStatusNameSchema = v.picklist(HOST_STATUSES);

/** `GET /hosts`: one host, as its agent registered it and as the server sees it now. */
export const HostStatusSchema = v.object({
  name: HostSchema,
  status: HostStatusNameSchema,
  online: v.boolean(),
  draining: v.boolean(),
  /** Whether its agent registered (hosts named in manifests are listed before that). */
  registered: v.boolean(),
  /** The last poll of its agent (now while one is held); absent when never seen. */
  lastSeen: v.optional(v.string()),
  registeredAt: v.optional(v.string()),
  engineVersion: v.optional(v.string()),
  os: v.optional(v.string()),
  arch: v.optional(v.string()),
  cpus: v.optional(v.number()),
  memory: v.optional(v.number()),
  agentVersion: v.optional(v.string()),
  intervalMs: v.optional(v.number()),
  labels: v.record(v.string(), v.string()),
  /** Containers placed on it: running (as last reported) and all. */
  containers: v.object({ running: v.number(), total: v.number() }),
});
export type HostStatus = v.InferOutput<typeof HostStatusSchema>;

/** `POST /hosts/drain`. */
export const HostNameBodySchema = v.strictObject({ host: HostSchema });

/** `POST /hosts/remove`: `force` also forgets what is left on a drained, offline host. */
export const HostRemoveBodySchema = v.strictObject({
  host: HostSchema,
  force: v.optional(v.boolean(), false),
});

/** `POST /hosts/drain`: the containers it marked for removal (`manifest/container`). */
export const HostDrainResultSchema = v.object({ host: HostSchema, removed: v.array(v.string()) });
export type HostDrainResult = v.InferOutput<typeof HostDrainResultSchema>;

/** Which stream a log line came from. */
export const LogStreamNameSchema = v.picklist(["stdout", "stderr"]);

/** One log request as the server hands it to the agent of the container's host. */
export const LogRequestSchema = v.object({
  id: v.string(),
  manifest: NameSchema,
  container: NameSchema,
  follow: v.boolean(),
  timestamps: v.boolean(),
  /** The last N lines only; absent: all. */
  tail: v.optional(v.number()),
  /** Lines from this time on (Unix seconds); absent: from the start. */
  since: v.optional(v.number()),
});
export type LogRequest = v.InferOutput<typeof LogRequestSchema>;

/** `GET /agent/logs/requests`: the log requests waiting for an agent's host. */
export const LogRequestListSchema = v.object({ requests: v.array(LogRequestSchema) });

/** One line of `GET /logs` (NDJSON): a piece of output, with its engine time when asked. */
export const LogLineSchema = v.object({
  stream: LogStreamNameSchema,
  data: v.string(),
  time: v.optional(v.string()),
});
export type LogLine = v.InferOutput<typeof LogLineSchema>;

/** A line of `GET /logs` that ends the stream with an error (the agent or engine failed). */
export const LogErrorLineSchema = v.object({
  error: v.object({ code: v.string(), message: v.string() }),
});

/** Any line of `GET /logs`. */
export const LogFrameSchema = v.union([LogLineSchema, LogErrorLineSchema]);

/**
 * The first line of an agent's log upload (`POST /agent/logs/{id}`): ready, after which the lines
 * of `GET /logs` follow, or an error that answers the client's request.
 */
export const LogUploadStartSchema = v.union([
  v.object({ ready: v.literal(true) }),
  LogErrorLineSchema,
]);
