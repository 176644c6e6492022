/**
 * `GET /openapi.json`: the API's OpenAPI document, for anyone (it holds no secret, and clients are
 * generated before they have a token).
 */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import { openApiJson } from "./openapi.ts";

/** The OpenAPI route, to mount under `/api/v1`. */
export function openApiRoutes() {
  return new Hono<AppEnv>()
    .get(
      "/openapi.json",
      (c) => c.body(openApiJson(), 200, { "content-type": "application/json" }),
    );
}
