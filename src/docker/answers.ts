/**
 * The engine's answers as launcher reads them: each decoded by a schema at the door, so a
 * surprising answer fails here and not deep in a caller.
 */
import * as v from "valibot";
import { DockerError } from "./errors.ts";
import type { ContainerDetails, ContainerEvent, ContainerSummary } from "./engine.ts";

const LabelsSchema = v.nullish(v.record(v.string(), v.string()), {});

export const VersionSchema = v.object({
  Version: v.string(),
  ApiVersion: v.string(),
  Os: v.string(),
  Arch: v.string(),
});

export const InfoSchema = v.object({
  Name: v.string(),
  NCPU: v.number(),
  MemTotal: v.number(),
  OperatingSystem: v.string(),
});

const SummarySchema = v.object({
  Id: v.string(),
  Names: v.nullish(v.array(v.string()), []),
  Image: v.string(),
  State: v.string(),
  Status: v.string(),
  Labels: LabelsSchema,
  Created: v.number(),
});
export const SummaryListSchema = v.array(SummarySchema);

export const DetailsSchema = v.object({
  Id: v.string(),
  Name: v.string(),
  Config: v.object({ Image: v.string(), Labels: LabelsSchema }),
  State: v.object({
    Status: v.string(),
    Running: v.boolean(),
    ExitCode: v.number(),
    Error: v.nullish(v.string(), ""),
    StartedAt: v.string(),
    FinishedAt: v.string(),
    OOMKilled: v.boolean(),
    Health: v.nullish(v.object({ Status: v.string() })),
  }),
});

export const CreatedSchema = v.object({ Id: v.string() });

export const TtySchema = v.object({ Config: v.object({ Tty: v.optional(v.boolean(), false) }) });

export const ProgressSchema = v.object({
  error: v.optional(v.string()),
  errorDetail: v.optional(v.object({ message: v.optional(v.string()) })),
});

export const EventSchema = v.object({
  Type: v.string(),
  Action: v.string(),
  Actor: v.object({ ID: v.string(), Attributes: LabelsSchema }),
  time: v.number(),
  timeNano: v.optional(v.number()),
});

/** Event attributes the engine adds next to a container's labels. */
const ENGINE_ATTRIBUTES = new Set([
  "image",
  "name",
  "exitCode",
  "signal",
  "execID",
  "execDuration",
]);

/** Decodes an engine answer, or throws `engine_error` naming what was unexpected. */
export function decode<T extends v.GenericSchema>(schema: T, body: unknown): v.InferOutput<T> {
  const result = v.safeParse(schema, body);
  if (result.success) return result.output;
  const issue = result.issues[0];
  throw new DockerError(
    "engine_error",
    `Unexpected answer from the Docker engine: ${v.getDotPath(issue) ?? "body"}: ${issue.message}`,
  );
}

/** A name without Docker's leading slash. */
export function withoutSlash(name: string): string {
  return name.startsWith("/") ? name.slice(1) : name;
}

/** One entry of `GET /containers/json`. */
export function toSummary(raw: v.InferOutput<typeof SummarySchema>): ContainerSummary {
  return {
    id: raw.Id,
    names: raw.Names.map(withoutSlash),
    image: raw.Image,
    state: raw.State,
    status: raw.Status,
    labels: raw.Labels,
    created: raw.Created,
  };
}

/** The answer of `GET /containers/{id}/json`. */
export function toDetails(raw: v.InferOutput<typeof DetailsSchema>): ContainerDetails {
  const state: ContainerDetails["state"] = {
    status: raw.State.Status,
    running: raw.State.Running,
    exitCode: raw.State.ExitCode,
    error: raw.State.Error,
    startedAt: raw.State.StartedAt,
    finishedAt: raw.State.FinishedAt,
    oomKilled: raw.State.OOMKilled,
  };
  if (raw.State.Health) state.health = raw.State.Health.Status;
  return {
    id: raw.Id,
    name: withoutSlash(raw.Name),
    image: raw.Config.Image,
    labels: raw.Config.Labels,
    state,
  };
}

/** One line of the event stream. */
export function toEvent(raw: v.InferOutput<typeof EventSchema>): ContainerEvent {
  const separator = raw.Action.indexOf(":");
  const action = separator === -1 ? raw.Action : raw.Action.slice(0, separator).trim();
  const attributes = raw.Actor.Attributes;
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!ENGINE_ATTRIBUTES.has(key)) labels[key] = value;
  }
  const event: ContainerEvent = {
    action,
    id: raw.Actor.ID,
    labels,
    time: raw.timeNano === undefined ? raw.time * 1000 : Math.floor(raw.timeNano / 1e6),
  };
  if (attributes.name !== undefined) event.name = attributes.name;
  if (action === "die" && attributes.exitCode !== undefined) {
    event.exitCode = Number(attributes.exitCode);
  }
  if (action === "health_status" && separator !== -1) {
    event.health = raw.Action.slice(separator + 1).trim();
  }
  return event;
}

/** Image references keep their `/`, `:` and `@` in the path; anything else is escaped. */
export function imagePath(ref: string): string {
  return encodeURIComponent(ref).replace(/%2F/gi, "/").replace(/%3A/gi, ":").replace(/%40/gi, "@");
}

/**
 * `fromImage` and `tag` of a pull, as the Docker CLI sends them: a digest goes in `tag`, a
 * missing tag means `latest`, and a registry port (`registry:5000/name`) is not a tag.
 */
export function splitImageRef(ref: string): { fromImage: string; tag: string } {
  const at = ref.indexOf("@");
  const [name, digest] = at === -1 ? [ref, undefined] : [ref.slice(0, at), ref.slice(at + 1)];
  const colon = name.lastIndexOf(":");
  const hasTag = colon > name.lastIndexOf("/");
  const repository = hasTag ? name.slice(0, colon) : name;
  return { fromImage: repository, tag: digest ?? (hasTag ? name.slice(colon + 1) : "latest") };
}
