/**
 * `GET /events`: the event history, filtered by manifest, host and age, and followed with a
 * long-poll on the event id (`after` and `wait`). Needs a read token.
 */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import { EventsQuerySchema, sinceTime } from "../../api/schemas.ts";
import type { Clock } from "../../clock.ts";
import type { EventFilter, EventLog } from "../events.ts";
import { query } from "./validate.ts";

/** What the events route needs. */
export interface EventRouteDeps {
  events: EventLog;
  /** Upper bound of a long-poll's `wait`. */
  maxWaitMs: number;
  /** What `since` durations count back from, and what a wait's deadline is measured on. */
  clock: Clock;
}

/** The events route, to mount under `/api/v1` after the access middleware. */
export function eventsRoutes({ events, maxWaitMs, clock }: EventRouteDeps) {
  return new Hono<AppEnv>()
    .get("/events", query(EventsQuerySchema), async (c) => {
      const { since, wait, ...rest } = c.req.valid("query");
      const filter: EventFilter = { ...rest };
      if (since !== undefined) filter.since = sinceTime(since, clock.now());
      let page = await events.list(filter);
      if (wait === undefined) return c.json(page, 200);
      const deadline = clock.now() + Math.min(wait, maxWaitMs);
      // A new event that the filter leaves out moves the cursor on and waits again.
      while (
        page.events.length === 0 &&
        await events.wait(page.last, deadline - clock.now(), c.req.raw.signal)
      ) {
        page = await events.list({ ...filter, after: page.last });
      }
      return c.json(page, 200);
    });
}
