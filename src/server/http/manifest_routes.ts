/**
 * Manifest routes: apply, remove and roll back (`POST /manifest/up`, `/manifest/down`,
 * `/manifest/rollback`, admin), and read without changing anything (`POST /manifest/ps`,
 * `/manifest/diff`, `/manifest/history`, `/manifest/revision`, `GET /manifests`, read).
 */
import { Hono } from "hono";
import {
  ManifestDownSchema,
  ManifestHistoryRequestSchema,
  ManifestPsSchema,
  RevisionRequestSchema,
  RollbackRequestSchema,
} from "../../api/schemas.ts";
import { actorName } from "../events.ts";
import { manifestSummaries } from "../manifest_summary.ts";
import type { ParseOptions } from "../../manifest/parse.ts";
import type { Planner } from "../planner.ts";
import { manifestHistory, manifestRevision } from "../revisions.ts";
import { rollback } from "../rollback.ts";
import type { AppEnv } from "./env.ts";
import { jsonBody } from "./validate.ts";
import { readManifestBody, readManifestSource } from "./manifest_body.ts";

/** What a manifest is checked against beside its schema: the secrets that exist. */
async function doorOptions(planner: Planner): Promise<ParseOptions> {
  return { secretMissing: await planner.secrets.doorCheck() };
}

/** The manifest routes, to mount under `/api/v1` after the access middleware. */
export function manifestRoutes(planner: Planner) {
  return new Hono<AppEnv>()
    .post("/manifest/up", async (c) => {
      const { manifest, source } = await readManifestSource(c, await doorOptions(planner));
      return c.json(await planner.up(manifest, actorName(c.var.principal), source), 200);
    })
    .post("/manifest/down", jsonBody(ManifestDownSchema), async (c) => {
      const { manifest } = c.req.valid("json");
      await planner.down(manifest, actorName(c.var.principal));
      return c.json({ manifest }, 202);
    })
    .post("/manifest/ps", jsonBody(ManifestPsSchema, true), async (c) => {
      return c.json(await planner.ps(c.req.valid("json").manifest), 200);
    })
    .post("/manifest/diff", async (c) => {
      return c.json(await planner.diff(await readManifestBody(c, await doorOptions(planner))), 200);
    })
    .get("/manifests", async (c) => c.json(await manifestSummaries(planner), 200))
    .post("/manifest/history", jsonBody(ManifestHistoryRequestSchema), async (c) => {
      return c.json(await manifestHistory(planner.store, c.req.valid("json").manifest), 200);
    })
    .post("/manifest/revision", jsonBody(RevisionRequestSchema), async (c) => {
      const { manifest, number } = c.req.valid("json");
      return c.json(await manifestRevision(planner.store, manifest, number), 200);
    })
    .post("/manifest/rollback", jsonBody(RollbackRequestSchema), async (c) => {
      const { manifest, to } = c.req.valid("json");
      return c.json(await rollback(planner, manifest, to, actorName(c.var.principal)), 200);
    });
}
