/**
 * The agent's desired list (`GET /container?host=H`, long-polled with `index` and `wait`), its
 * state reports (`POST /state`), and one container's actions (`POST /container/action`, admin).
 */
import { Hono } from "hono";
import * as v from "valibot";
import {
  ContainerActionSchema,
  ContainerQuerySchema,
  DEFAULT_WAIT_MS,
  StateBatchSchema,
  StateBodySchema,
  StateReportSchema,
} from "../../api/schemas.ts";
import { ConflictError, NotFoundError } from "../../api/errors.ts";
import { actorName } from "../events.ts";
import type { Metrics } from "../metrics.ts";
import type { Planner } from "../planner.ts";
import type { AppEnv } from "./env.ts";
import { jsonBody, query } from "./validate.ts";

/**
 * `POST /state` takes one report, a non-empty list, or an agent's batch (an object with
 * `reports`); picking by shape keeps error paths exact.
 */
const StateReportListSchema = StateBodySchema.options[1];
const StateRequestSchema = v.lazy((input: unknown) =>
  Array.isArray(input)
    ? StateReportListSchema
    : typeof input === "object" && input !== null && "reports" in input
    ? StateBatchSchema
    : StateReportSchema
);

/** The container routes, to mount under `/api/v1` after the access middleware. */
export function containerRoutes(
  { planner, maxWaitMs, metrics }: { planner: Planner; maxWaitMs: number; metrics: Metrics },
) {
  return new Hono<AppEnv>()
    .get("/container", query(ContainerQuerySchema), async (c) => {
      const { host, index, wait } = c.req.valid("query");
      if (index === undefined) {
        const desired = await planner.desired(host);
        c.header("X-Launcher-Index", String(desired.index));
        return c.json(desired.containers, 200);
      }
      const waitMs = Math.min(wait ?? DEFAULT_WAIT_MS, maxWaitMs);
      await planner.waitForHost(host, index, waitMs, c.req.raw.signal);
      const desired = await planner.desired(host);
      c.header("X-Launcher-Index", String(desired.index));
      return c.json(desired, 200);
    })
    .post("/container/action", jsonBody(ContainerActionSchema), async (c) => {
      const action = c.req.valid("json");
      await planner.action(action, actorName(c.var.principal));
      return c.json(action, 202);
    })
    .post("/state", jsonBody(StateRequestSchema), async (c) => {
      const body = c.req.valid("json");
      const actor = actorName(c.var.principal);
      if (Array.isArray(body) || "reports" in body) {
        const reports = Array.isArray(body) ? body : body.reports;
        if (!Array.isArray(body) && body.agent !== undefined) {
          metrics.agentSaid(body.host, body.agent);
        }
        const result = reports.length === 0
          ? { applied: 0, unknown: [], stale: 0 }
          : await planner.reportMany(reports, actor);
        metrics.reported(result.applied, result.stale, result.unknown.length);
        return c.json(result, 200);
      }
      try {
        const applied = await planner.report(body, actor);
        metrics.reported(applied ? 1 : 0, applied ? 0 : 1, 0);
      } catch (error) {
        if (error instanceof NotFoundError || error instanceof ConflictError) {
          metrics.reported(0, 0, 1);
        }
        throw error;
      }
      return c.body(null, 204);
    });
}
