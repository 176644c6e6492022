/**
 * Log routes: `GET /logs` (a reader asks for a container's output, answered as NDJSON lines) and
 * the agent's log channel, which the agent opens itself: `GET /agent/logs/requests?host=H` (a
 * long-poll for log requests) and `POST /agent/logs/{id}?host=H` (the output, as a streaming
 * request body). Who may call each is decided in access.ts.
 */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import {
  AgentLogPollQuerySchema,
  AgentLogUploadQuerySchema,
  DEFAULT_WAIT_MS,
  LogsQuerySchema,
  sinceTime,
} from "../../api/schemas.ts";
import { type LogQuery, openContainerLogs } from "../container_logs.ts";
import type { Clock } from "../../clock.ts";
import type { Planner } from "../planner.ts";
import { query } from "./validate.ts";

/** What the log routes need. */
export interface LogRouteDeps {
  planner: Planner;
  /** Upper bound of an agent poll's `wait`. */
  maxWaitMs: number;
  /** What `since` durations count back from. */
  clock: Clock;
}

/** The log routes, to mount under `/api/v1` after the access middleware. */
export function logsRoutes({ planner, maxWaitMs, clock }: LogRouteDeps) {
  const deps = { store: planner.store, hosts: planner.hosts, relay: planner.logs };
  return new Hono<AppEnv>()
    .get("/logs", query(LogsQuerySchema), async (c) => {
      const { since, tail, ...rest } = c.req.valid("query");
      const logQuery: LogQuery = { ...rest };
      if (tail !== undefined) logQuery.tail = tail;
      // The agent's engine takes Unix seconds.
      if (since !== undefined) logQuery.since = sinceTime(since, clock.now()) / 1000;
      const signal = c.req.raw.signal;
      let stream: ReadableStream<Uint8Array>;
      try {
        stream = await openContainerLogs(deps, logQuery, signal);
      } catch (error) {
        // A client that left before its agent answered is owed nothing.
        if (signal.aborted) return c.body(null, 204);
        throw error;
      }
      return c.body(stream, 200, {
        "content-type": "application/x-ndjson",
        "cache-control": "no-store",
      });
    })
    .get("/agent/logs/requests", query(AgentLogPollQuerySchema), async (c) => {
      const { host, wait } = c.req.valid("query");
      const waitMs = Math.min(wait ?? DEFAULT_WAIT_MS, maxWaitMs);
      const requests = await planner.logs.poll(host, waitMs, c.req.raw.signal);
      return c.json({ requests }, 200);
    })
    .post("/agent/logs/:id", query(AgentLogUploadQuerySchema), async (c) => {
      const { host } = c.req.valid("query");
      await planner.logs.attach(host, c.req.param("id"), c.req.raw.body, c.req.raw.signal);
      return c.body(null, 204);
    });
}
