/**
 * `GET /metrics` (outside `/api/v1`, where Prometheus looks by default) and the middleware that
 * counts every request by its route pattern. The API's access middleware does not run here, so
 * the route checks the token itself: a read or admin token, unless metrics are public.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { ForbiddenError } from "../../api/errors.ts";
import type { TokenAuth } from "../auth.ts";
import type { Metrics } from "../metrics.ts";
import type { Planner } from "../planner.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../prometheus.ts";
import { bearerToken } from "./access.ts";
import type { AppEnv } from "./env.ts";

/** The route label of a request no route matched: every unknown path shares it. */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * Counts every request once its answer is ready: by method, the pattern of the route that
 * matched (`/api/v1/agent/logs/:id`; middleware, registered for every method, does not count),
 * and status.
 */
export function requestMetrics(metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const start = performance.now();
    await next();
    const route = matchedRoutes(c).findLast((r) => r.method !== "ALL")?.path ?? UNMATCHED_ROUTE;
    metrics.request(c.req.method, route, c.res.status, (performance.now() - start) / 1000);
  };
}

/** What `GET /metrics` needs. */
export interface MetricsRouteDeps {
  metrics: Metrics;
  planner: Planner;
  auth: TokenAuth;
  /** Whether anyone may read the metrics, without a token (`serve --metrics-public`). */
  open: boolean;
}

/** `GET /metrics`, to mount at the root. */
export function metricsRoutes({ metrics, planner, auth, open }: MetricsRouteDeps) {
  return new Hono<AppEnv>().get("/metrics", async (c) => {
    if (!open) {
      const principal = await auth.authenticate(bearerToken(c));
      if (principal.role !== "read" && principal.role !== "admin") {
        throw new ForbiddenError(
          `token has role ${principal.role}, but GET /metrics needs role read or admin`,
        );
      }
    }
    return c.body(await metrics.render(planner), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
}
