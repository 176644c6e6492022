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
  StateBodySchema,
  StateReportSchema,
} from "../../api/schemas.ts";
import { actorName } from "../events.ts";
import type { Planner } from "../planner.ts";
import type { AppEnv } from "./env.ts";
import { jsonBody, query } from "./validate.ts";

/** `POST /state` takes one report or a non-empty list; picking by shape keeps error paths exact. */
const StateReportListSchema = StateBodySchema.options[1];
const StateRequestSchema = v.lazy((input: unknown) =>
  Array.isArray(input) ? StateReportListSchema : StateReportSchema
);

/** The container routes, to mount under `/api/v1` after the access middleware. */
export function containerRoutes({ planner, maxWaitMs }: { planner: Planner; maxWaitMs: number }) {
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
      if (Array.isArray(body)) return c.json(await planner.reportMany(body, actor), 200);
      await planner.report(body, actor);
      return c.body(null, 204);
    });
}
