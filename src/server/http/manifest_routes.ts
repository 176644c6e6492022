/**
 * Manifest routes: apply and remove (`POST /manifest/up`, `/manifest/down`, admin), and read
 * without changing anything (`POST /manifest/ps`, `/manifest/diff`, `GET /manifests`, read).
 */
import { Hono } from "hono";
import { ManifestDownSchema, ManifestPsSchema } from "../../api/schemas.ts";
import { actorName } from "../events.ts";
import { manifestSummaries } from "../manifest_summary.ts";
import type { Planner } from "../planner.ts";
import type { AppEnv } from "./env.ts";
import { jsonBody } from "./validate.ts";
import { readManifestBody } from "./manifest_body.ts";

/** The manifest routes, to mount under `/api/v1` after the access middleware. */
export function manifestRoutes(planner: Planner) {
  return new Hono<AppEnv>()
    .post("/manifest/up", async (c) => {
      const manifest = await readManifestBody(c);
      return c.json(planner.up(manifest, actorName(c.var.principal)), 200);
    })
    .post("/manifest/down", jsonBody(ManifestDownSchema), (c) => {
      const { manifest } = c.req.valid("json");
      planner.down(manifest, actorName(c.var.principal));
      return c.json({ manifest }, 202);
    })
    .post("/manifest/ps", jsonBody(ManifestPsSchema, true), (c) => {
      return c.json(planner.ps(c.req.valid("json").manifest), 200);
    })
    .post("/manifest/diff", async (c) => c.json(planner.diff(await readManifestBody(c)), 200))
    .get("/manifests", (c) => c.json(manifestSummaries(planner), 200));
}
