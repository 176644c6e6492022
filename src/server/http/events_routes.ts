/**
 * `GET /events`: the event history, filtered by manifest, host and age, and followed with a
 * long-poll on the event id (`after` and `wait`). Needs a read token.
 */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import type { Context } from "hono";
import * as v from "valibot";
import { HostSchema, NameSchema } from "../../api/schemas.ts";
import { DurationError, parseDuration } from "../../duration.ts";
import { InvalidQueryError } from "../../api/errors.ts";
import { type EventFilter, type EventLog, MAX_EVENTS_LIMIT } from "../events.ts";

/** What the events route needs. */
export interface EventRouteDeps {
  events: EventLog;
  /** Upper bound of a long-poll's `wait`. */
  maxWaitMs: number;
}

/** A query parameter checked by a schema; undefined when absent. */
function checked(c: Context, name: string, schema: v.GenericSchema<string>): string | undefined {
  const text = c.req.query(name);
  if (text === undefined) return undefined;
  const parsed = v.safeParse(schema, text);
  if (!parsed.success) {
    const message = parsed.issues[0].message;
    throw new InvalidQueryError(`${name} is invalid: ${message}`, [{ path: name, message }]);
  }
  return parsed.output;
}

/** A duration query parameter in milliseconds; undefined when absent. */
function duration(c: Context, name: string): number | undefined {
  const text = c.req.query(name);
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    throw new InvalidQueryError(`${name} is invalid: ${error.message}`, [
      { path: name, message: error.message },
    ]);
  }
}

/** A whole-number query parameter from `min` to `max`; undefined when absent. */
function integer(c: Context, name: string, min: number, max: number): number | undefined {
  const text = c.req.query(name);
  if (text === undefined) return undefined;
  const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new InvalidQueryError(
      `${name} must be a whole number from ${min} to ${max}, got ${text}`,
    );
  }
  return value;
}

/** `since`: a duration back from now (`10m`) or an ISO 8601 time, as epoch milliseconds. */
function since(c: Context): number | undefined {
  const text = c.req.query("since");
  if (text !== undefined && /^\d{4}-\d\d-\d\dT/.test(text)) {
    const time = Date.parse(text);
    if (Number.isNaN(time)) throw new InvalidQueryError(`since is not a valid time: ${text}`);
    return time;
  }
  const back = duration(c, "since");
  return back === undefined ? undefined : Date.now() - back;
}

/** The filter a request asks for. */
function filterOf(c: Context): EventFilter {
  const filter: EventFilter = {};
  const manifest = checked(c, "manifest", NameSchema);
  const host = checked(c, "host", HostSchema);
  const from = since(c);
  const after = integer(c, "after", 0, Number.MAX_SAFE_INTEGER);
  const limit = integer(c, "limit", 1, MAX_EVENTS_LIMIT);
  if (manifest !== undefined) filter.manifest = manifest;
  if (host !== undefined) filter.host = host;
  if (from !== undefined) filter.since = from;
  if (after !== undefined) filter.after = after;
  if (limit !== undefined) filter.limit = limit;
  return filter;
}

/** The events route, to mount under `/api/v1` after the access middleware. */
export function eventsRoutes({ events, maxWaitMs }: EventRouteDeps) {
  return new Hono<AppEnv>()
    .get("/events", async (c) => {
      const filter = filterOf(c);
      const wait = duration(c, "wait");
      if (wait !== undefined && filter.after === undefined) {
        throw new InvalidQueryError("wait needs after: pass the last event id seen (0: none)");
      }
      let page = events.list(filter);
      if (wait === undefined) return c.json(page, 200);
      const deadline = Date.now() + Math.min(wait, maxWaitMs);
      // A new event that the filter leaves out moves the cursor on and waits again.
      while (
        page.events.length === 0 &&
        await events.wait(page.last, deadline - Date.now(), c.req.raw.signal)
      ) {
        page = events.list({ ...filter, after: page.last });
      }
      return c.json(page, 200);
    });
}
