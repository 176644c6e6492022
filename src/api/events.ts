/** The contract of the event history (`GET /events`). */
import * as v from "valibot";
import {
  HostSchema,
  InstanceNameSchema,
  NameSchema,
  SecretNameSchema,
} from "../manifest/schema.ts";
import { FieldChangeSchema } from "./containers.ts";
import { apiObject } from "./validation.ts";

/** The most events one `GET /events` answer holds. */
export const MAX_EVENTS_LIMIT = 10_000;

/**
 * What an event records: an applied manifest, a removal, a container action (the scheduler's
 * `place`, `reschedule` and `drain` too), a new state, a rollout's start, batch and end, a secret
 * set or removed.
 */
export const EVENT_KINDS = ["up", "down", "action", "state", "rollout", "secret"] as const;
export const EventKindSchema = v.picklist(EVENT_KINDS);
export type EventKind = v.InferOutput<typeof EventKindSchema>;

/** One entry of the event history. */
export const EventSchema = apiObject({
  /** Grows with every event and is never reused; `GET /events?after=` reads on from it. */
  id: v.number(),
  time: v.string(),
  kind: EventKindSchema,
  /** Who caused it: the calling token's id and role, or `admin` when none is known. */
  actor: v.string(),
  manifest: v.optional(NameSchema),
  host: v.optional(HostSchema),
  container: v.optional(InstanceNameSchema),
  /**
   * `create`, `recreate`, `update`, `remove` (up, down) or `rollback` (up, with no container);
   * `stop`, `kill`, `restart`, `rm`.
   */
  action: v.optional(v.string()),
  /** A state change: the state before and after, as `ps` shows them (`exited (137)`). */
  from: v.optional(v.string()),
  to: v.optional(v.string()),
  /**
   * The fields a recreate changed; a rollback's `revision`, from the current one to the one
   * re-applied.
   */
  changes: v.optional(v.array(FieldChangeSchema)),
  error: v.optional(v.string()),
  /** The secret a `secret` event (action `set` or `remove`) names: never its value. */
  secret: v.optional(SecretNameSchema),
});
export type EventRecord = v.InferOutput<typeof EventSchema>;

/** `GET /events`: events by id, and the id to pass as `after` to read on from them. */
export const EventPageSchema = apiObject({ events: v.array(EventSchema), last: v.number() });
export type EventPage = v.InferOutput<typeof EventPageSchema>;
