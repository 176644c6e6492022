/**
 * Reading manifests without changing them: `POST /manifest/diff` (what `up` would do) and
 * `GET /manifests` (every manifest with its counts by state). Both need a read token.
 */
import { Hono } from "hono";
import { readManifestBody } from "./manifest_body.ts";
import { manifestSummaries } from "../server/manifest_summary.ts";
import type { Planner } from "../server/planner.ts";

/** The plan and list routes, to mount under `/api/v1` after the access middleware. */
export function manifestPlanRoutes(planner: Planner) {
  return new Hono()
    .post("/manifest/diff", async (c) => c.json(planner.diff(await readManifestBody(c)), 200))
    .get("/manifests", (c) => c.json(manifestSummaries(planner), 200));
}
