/**
 * Host routes: agents register their host (`POST /hosts/register`), readers list hosts
 * (`GET /hosts`), admins drain and remove them (`POST /hosts/drain`, `POST /hosts/remove`). Who
 * may call each is decided in access.ts.
 */
import { Hono } from "hono";
import {
  HostNameBodySchema,
  HostRegistrationSchema,
  HostRemoveBodySchema,
} from "../../api/schemas.ts";
import { jsonBody } from "./validate.ts";
import type { AppEnv } from "./env.ts";
import { actorName } from "../events.ts";
import type { Planner } from "../planner.ts";

/** The host routes, to mount under `/api/v1` after the access middleware. */
export function hostsRoutes(planner: Planner) {
  return new Hono<AppEnv>()
    .get("/hosts", async (c) => c.json(await planner.hosts.list(planner.store), 200))
    .post("/hosts/register", jsonBody(HostRegistrationSchema), async (c) => {
      const registration = c.req.valid("json");
      await planner.register(registration);
      return c.json(await planner.hosts.status(planner.store, registration.host), 200);
    })
    .post("/hosts/drain", jsonBody(HostNameBodySchema), async (c) => {
      const { host } = c.req.valid("json");
      const { removed, moved } = await planner.drainHost(host, actorName(c.var.principal));
      return c.json({ host, removed, moved }, 200);
    })
    .post("/hosts/remove", jsonBody(HostRemoveBodySchema), async (c) => {
      const { host, force } = c.req.valid("json");
      await planner.hosts.remove(host, force);
      return c.json({ host }, 200);
    });
}
