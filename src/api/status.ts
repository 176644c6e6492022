/** The contract of `GET /status`: which server answered, its store, and who runs the duties. */
import * as v from "valibot";
import { apiObject } from "./validation.ts";

/** `GET /status`: the server that answered, as it sees itself and its store now. */
export const ServerStatusSchema = apiObject({
  /** This server's id: the host it runs on and the port it listens on (`ctl-1:8080`). */
  server: v.string(),
  version: v.string(),
  store: apiObject({
    kind: v.picklist(["sqlite", "postgres"]),
    /** The SQLite file, or the database's address without its password. */
    location: v.string(),
  }),
  /** The cluster duties (rescheduling, placing, rollouts, event retention): who runs them. */
  duties: apiObject({
    /** Whether this server runs them now. */
    holding: v.boolean(),
    /** The server holding the duty lease; absent when nobody does, or it could not be read. */
    holder: v.optional(v.string()),
    /** Since when it holds it (ISO time). */
    since: v.optional(v.string()),
    /** Why the holder could not be read (the database is unreachable). */
    error: v.optional(v.string()),
  }),
  /** How commits reach the requests other servers hold: `in-process` with one server. */
  wakeups: apiObject({
    kind: v.picklist(["in-process", "postgres"]),
    /** Whether this server hears the other servers' commits right now. */
    listening: v.boolean(),
  }),
  /** Requests this server holds open right now. */
  held: apiObject({
    /** Agents' desired-list long-polls. */
    polls: v.number(),
    /** `events -f` follows. */
    follows: v.number(),
  }),
});
export type ServerStatus = v.InferOutput<typeof ServerStatusSchema>;
