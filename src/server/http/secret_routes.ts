/**
 * Secret routes, admin only (access.ts): set one (`POST /secrets`), list them without their
 * values (`GET /secrets`), remove one (`POST /secrets/remove`).
 */
import { Hono } from "hono";
import { SecretRemoveSchema, SecretSetSchema } from "../../api/schemas.ts";
import { actorName } from "../events.ts";
import type { Planner } from "../planner.ts";
import type { AppEnv } from "./env.ts";
import { jsonBody } from "./validate.ts";

/** The secret routes, to mount under `/api/v1` after the access middleware. */
export function secretRoutes(planner: Planner) {
  return new Hono<AppEnv>()
    .post("/secrets", jsonBody(SecretSetSchema), async (c) => {
      const { name, value } = c.req.valid("json");
      const result = await planner.secrets.set(name, value, actorName(c.var.principal));
      return c.json(result, result.created ? 201 : 200);
    })
    .get("/secrets", async (c) => c.json(await planner.secrets.list(), 200))
    .post("/secrets/remove", jsonBody(SecretRemoveSchema), async (c) => {
      await planner.secrets.remove(c.req.valid("json").name, actorName(c.var.principal));
      return c.body(null, 204);
    });
}
