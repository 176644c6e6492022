/**
 * Log routes: `GET /logs` (a reader asks for a container's output, answered as NDJSON lines) and
 * the agent's log channel, which the agent opens itself: `GET /agent/logs/requests?host=H` (a
 * long-poll for log requests) and `POST /agent/logs/{id}?host=H` (the output, as a streaming
 * request body). Who may call each is decided in access.ts.
 */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import type { Context } from "hono";
import * as v from "valibot";
import { HostSchema, NameSchema } from "../../api/schemas.ts";
import { DurationError, parseDuration } from "../../duration.ts";
import { InvalidQueryError } from "../../api/errors.ts";
import { type LogQuery, openContainerLogs } from "../logs.ts";
import type { Planner } from "../planner.ts";

/** What the log routes need. */
export interface LogRouteDeps {
  planner: Planner;
  /** Upper bound of an agent poll's `wait`. */
  maxWaitMs: number;
}

/** The default wait of an agent's poll for log requests. */
const DEFAULT_WAIT_MS = 30_000;
/** The largest `tail`. */
const MAX_TAIL = 1_000_000_000;

function invalid(name: string, message: string): InvalidQueryError {
  return new InvalidQueryError(`${name} ${message}`, [{ path: name, message }]);
}

/** A required query parameter checked by a schema. */
function required(c: Context, name: string, schema: v.GenericSchema<string>): string {
  const text = c.req.query(name);
  if (text === undefined || text === "") {
    throw new InvalidQueryError(`query parameter ${name} is required`, [
      { path: name, message: "is required" },
    ]);
  }
  const parsed = v.safeParse(schema, text);
  if (!parsed.success) throw invalid(name, `is invalid: ${parsed.issues[0].message}`);
  return parsed.output;
}

/** A flag: absent is false; empty, `1` and `true` are true; `0` and `false` are false. */
function flag(c: Context, name: string): boolean {
  const text = c.req.query(name);
  if (text === undefined) return false;
  if (text === "" || text === "1" || text === "true") return true;
  if (text === "0" || text === "false") return false;
  throw invalid(name, `must be true or false, got ${text}`);
}

/** `tail`: a whole number of lines, or `all` (the same as leaving it out). */
function tail(c: Context): number | undefined {
  const text = c.req.query("tail");
  if (text === undefined || text === "all") return undefined;
  const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 0 && value <= MAX_TAIL)) {
    throw invalid("tail", `must be a whole number or all, got ${text}`);
  }
  return value;
}

/** `since`: a duration back from now (`10m`) or an ISO 8601 time, as Unix seconds. */
function since(c: Context): number | undefined {
  const text = c.req.query("since");
  if (text === undefined) return undefined;
  if (/^\d{4}-\d\d-\d\dT/.test(text)) {
    const time = Date.parse(text);
    if (Number.isNaN(time)) throw invalid("since", `is not a valid time: ${text}`);
    return time / 1000;
  }
  try {
    return (Date.now() - parseDuration(text)) / 1000;
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    throw invalid("since", `is invalid: ${error.message}`);
  }
}

/** What a `GET /logs` request asks for. */
function logQuery(c: Context): LogQuery {
  const query: LogQuery = {
    manifest: required(c, "manifest", NameSchema),
    container: required(c, "container", NameSchema),
    follow: flag(c, "follow"),
    timestamps: flag(c, "timestamps"),
  };
  const lines = tail(c);
  const from = since(c);
  if (lines !== undefined) query.tail = lines;
  if (from !== undefined) query.since = from;
  return query;
}

/** An agent poll's `wait`, capped. */
function waitOf(c: Context, maxWaitMs: number): number {
  const text = c.req.query("wait");
  if (text === undefined) return Math.min(DEFAULT_WAIT_MS, maxWaitMs);
  try {
    return Math.min(parseDuration(text), maxWaitMs);
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    throw invalid("wait", `is invalid: ${error.message}`);
  }
}

/** The log routes, to mount under `/api/v1` after the access middleware. */
export function logsRoutes({ planner, maxWaitMs }: LogRouteDeps) {
  const deps = { store: planner.store, hosts: planner.hosts, relay: planner.logs };
  return new Hono<AppEnv>()
    .get("/logs", async (c) => {
      const query = logQuery(c);
      const signal = c.req.raw.signal;
      let stream: ReadableStream<Uint8Array>;
      try {
        stream = await openContainerLogs(deps, query, signal);
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
    .get("/agent/logs/requests", async (c) => {
      const host = required(c, "host", HostSchema);
      const requests = await planner.logs.poll(host, waitOf(c, maxWaitMs), c.req.raw.signal);
      return c.json({ requests }, 200);
    })
    .post("/agent/logs/:id", async (c) => {
      const host = required(c, "host", HostSchema);
      await planner.logs.attach(host, c.req.param("id"), c.req.raw.body, c.req.raw.signal);
      return c.body(null, 204);
    });
}
