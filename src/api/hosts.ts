/** The contract of hosts: what agents register, and how the server shows a host. */
import * as v from "valibot";
import { HostSchema } from "../manifest/schema.ts";
import { apiObject, apiRecord, apiStrictObject } from "./validation.ts";

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
  apiRecord(HostLabelKeySchema, HostLabelValueSchema),
  v.check((labels) => Object.keys(labels).length <= 64, "must hold at most 64 labels"),
);

/** A short text an agent reports about its host (engine version, OS, ...). */
const FactSchema = v.pipe(v.string(), v.maxLength(200, "must be at most 200 characters"));
const CountSchema = v.pipe(v.number(), v.integer(), v.minValue(0));

/** `POST /hosts/register`: what an agent says about its host, on its first contact. */
export const HostRegistrationSchema = apiStrictObject({
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
export const HostStatusSchema = apiObject({
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
  labels: apiRecord(v.string(), v.string()),
  /** Containers placed on it: running (as last reported) and all. */
  containers: apiObject({ running: v.number(), total: v.number() }),
});
export type HostStatus = v.InferOutput<typeof HostStatusSchema>;

/** `POST /hosts/drain`. */
export const HostNameBodySchema = apiStrictObject({ host: HostSchema });

/** `POST /hosts/remove`: `force` also forgets what is left on a drained, offline host. */
export const HostRemoveBodySchema = apiStrictObject({
  host: HostSchema,
  force: v.optional(v.boolean(), false),
});

/** `POST /hosts/drain`: the containers it marked for removal (`manifest/container`). */
export const HostDrainResultSchema = apiObject({
  host: HostSchema,
  /** Pinned containers marked for removal (`manifest/container`). */
  removed: v.array(v.string()),
  /** Placed containers that get a replacement elsewhere, removed once it runs. */
  moved: v.optional(v.array(v.string())),
});
export type HostDrainResult = v.InferOutput<typeof HostDrainResultSchema>;
