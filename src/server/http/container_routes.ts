/**
 * The agent's desired list (`GET /container?host=H`, long-polled with `index` and `wait`), its
 * state reports (`POST /state`), and one container's actions (`POST /container/action`, admin).
 */
import { Hono } from "hono";
import * as v from "valibot";
import {
  ContainerActionSchema,
  HostSchema,
  StateBodySchema,
  StateReportSchema,
} from "../../api/schemas.ts";
import { InvalidQueryError } from "../../api/errors.ts";
import { DurationError, parseDuration } from "../../duration.ts";
import { actorName } from "../events.ts";
import type { Planner } from "../planner.ts";
import type { AppEnv } from "./env.ts";
import { jsonBody } from "./json_body.ts";

/** The default wait of a long-poll. */
const DEFAULT_WAIT_MS = 30_000;

/** `POST /state` takes one report or a non-empty list; picking by shape keeps error paths exact. */
const StateReportListSchema = StateBodySchema.options[1];
const StateRequestSchema = v.lazy((input: unknown) =>
  Array.isArray(input) ? StateReportListSchema : StateReportSchema
);

/** Parses a `wait` such as `500ms`, `30s`, `2m` or `30` (seconds) into milliseconds. */
function parseWait(text: string | undefined): number {
  if (text === undefined) return DEFAULT_WAIT_MS;
  try {
    return parseDuration(text);
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    throw new InvalidQueryError(`wait is invalid: ${error.message}`, [
      { path: "wait", message: error.message },
    ]);
  }
}

/** Parses the `index` of a long-poll: a non-negative integer. */
function parseIndex(text: string): number {
  const index = /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(index)) {
    throw new InvalidQueryError(`index must be a non-negative integer, got ${text}`);
  }
  return index;
}

/** Validates the `host` query parameter. */
function parseHost(text: string | undefined): string {
  if (text === undefined || text === "") {
    throw new InvalidQueryError("query parameter host is required");
  }
  const parsed = v.safeParse(HostSchema, text);
  if (!parsed.success) {
    throw new InvalidQueryError(`host is invalid: ${parsed.issues[0].message}`, [
      { path: "host", message: parsed.issues[0].message },
    ]);
  }
  return parsed.output;
}

/** The container routes, to mount under `/api/v1` after the access middleware. */
export function containerRoutes({ planner, maxWaitMs }: { planner: Planner; maxWaitMs: number }) {
  return new Hono<AppEnv>()
    .get("/container", async (c) => {
      const host = parseHost(c.req.query("host"));
      const indexText = c.req.query("index");
      if (indexText === undefined) {
        const desired = planner.desired(host);
        c.header("X-Launcher-Index", String(desired.index));
        return c.json(desired.containers, 200);
      }
      const afterIndex = parseIndex(indexText);
      const waitMs = Math.min(parseWait(c.req.query("wait")), maxWaitMs);
      await planner.waitForHost(host, afterIndex, waitMs, c.req.raw.signal);
      const desired = planner.desired(host);
      c.header("X-Launcher-Index", String(desired.index));
      return c.json(desired, 200);
    })
    .post("/container/action", jsonBody(ContainerActionSchema), (c) => {
      const action = c.req.valid("json");
      planner.action(action, actorName(c.var.principal));
      return c.json(action, 202);
    })
    .post("/state", jsonBody(StateRequestSchema), (c) => {
      const body = c.req.valid("json");
      const actor = actorName(c.var.principal);
      if (Array.isArray(body)) return c.json(planner.reportMany(body, actor), 200);
      planner.report(body, actor);
      return c.body(null, 204);
    });
}
