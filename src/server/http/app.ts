/**
 * The one Hono router of the HTTP API (DESIGN.md section 4), under `/api/v1`. Routes are
 * chained so that `hc<App>` sees every one of them; every error answer has the shape
 * `{"error": {"code", "message", "details"?}}`.
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  type ErrorBody,
  type ErrorDetail,
  MethodNotAllowedError,
  RateLimitedError,
  RequestTimeoutError,
} from "../../api/errors.ts";
import { LauncherError } from "../../errors.ts";
import { TokenAuth } from "../auth.ts";
import type { Clock } from "../../clock.ts";
import type { Planner } from "../planner.ts";
import { FailureLimiter } from "../rate_limit.ts";
import { accessControl, apiPath, matchRoute } from "./access.ts";
import { containerRoutes } from "./container_routes.ts";
import { Metrics } from "../metrics.ts";
import { metricsRoutes, requestMetrics } from "./metrics_routes.ts";
import type { AppEnv } from "./env.ts";
import { eventsRoutes } from "./events_routes.ts";
import { hostsRoutes } from "./hosts_routes.ts";
import { logsRoutes } from "./logs_routes.ts";
import { manifestRoutes } from "./manifest_routes.ts";
import { openApiRoutes } from "./openapi_routes.ts";
import { secretRoutes } from "./secret_routes.ts";
import { statusRoutes } from "./status_routes.ts";
import { tokenRoutes } from "./token_routes.ts";
import { DEFAULT_BODY_TIMEOUT_MS, limitRequestHead, readRequestBody } from "./request_limits.ts";
import { tlsRoutes } from "./tls_routes.ts";
import { uiNotFound, uiRoutes } from "./ui/ui_routes.tsx";

/** What the router needs: the planner (and its store, for tokens) and the token password. */
export interface AppDeps {
  planner: Planner;
  password: string;
  /** Upper bound of a long-poll's `wait` (default 5 minutes). */
  maxWaitMs?: number;
  /** Receives unexpected errors (answered as 500 `internal`). */
  log?: (line: string) => void;
  /** What token expiry and password rate limits are judged by (default the planner's clock). */
  clock?: Clock;
  /** Where requests and reports are counted (default a new collector; the server shares its store's). */
  metrics?: Metrics;
  /** Whether `GET /metrics` answers without a token (`serve --metrics-public`). */
  metricsPublic?: boolean;
  /** How long a request body may take to arrive (default 30 s); past it, 408 `request_timeout`. */
  bodyTimeoutMs?: number;
  /** The CA of a server on TLS (`serve --tls-ca`), handed out at `GET /tls/ca` (PEM). */
  tlsCa?: string;
}

/** The largest request body accepted (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** The largest long-poll wait by default. */
const DEFAULT_MAX_WAIT_MS = 5 * 60_000;

function errorBody(code: string, message: string, details?: ErrorDetail[]): ErrorBody {
  return { error: details && details.length > 0 ? { code, message, details } : { code, message } };
}

/** Builds the API app over a planner; the answer of `app.fetch` or `app.request`. */
export function createApp(deps: AppDeps) {
  const { planner, password, log } = deps;
  const maxWaitMs = deps.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const clock = deps.clock ?? planner.clock;
  const now = () => clock.now();
  const auth = new TokenAuth(planner.store, password, { now });
  const limiter = new FailureLimiter({ now });
  const metrics = deps.metrics ?? new Metrics();
  const readBody = readRequestBody({
    maxBytes: MAX_BODY_BYTES,
    timeoutMs: deps.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
  });

  return new Hono<AppEnv>()
    .onError((error, c) => {
      // An error meant as an answer carries its status; any other is a bug, answered as 500.
      if (error instanceof LauncherError && error.status !== 500) {
        if (error.code === "unauthorized") c.header("WWW-Authenticate", "Bearer");
        if (error instanceof RateLimitedError) {
          c.header("Retry-After", String(error.retryAfterSeconds));
        }
        if (error instanceof MethodNotAllowedError) c.header("Allow", error.allow.join(", "));
        // The rest of the body may never come: the connection cannot carry another request.
        if (error instanceof RequestTimeoutError) c.header("Connection", "close");
        return c.json(
          errorBody(error.code, error.message, error.details),
          error.status as ContentfulStatusCode,
        );
      }
      log?.(
        `internal error on ${c.req.method} ${c.req.path}: ${
          error instanceof Error ? error.stack ?? error.message : String(error)
        }`,
      );
      return c.json(errorBody("internal", "internal server error"), 500);
    })
    .notFound((c) =>
      uiNotFound(c) ??
        c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404)
    )
    .use("*", requestMetrics(metrics))
    .use("*", limitRequestHead())
    .route("/", metricsRoutes({ metrics, planner, auth, open: deps.metricsPublic ?? false }))
    .route("/", uiRoutes({ planner, auth, clock }))
    .basePath("/api/v1")
    .use("*", (c, next) => {
      const match = matchRoute(c.req.method, apiPath(c.req.path));
      return match.kind === "route" && match.rule.streamsBody ? next() : readBody(c, next);
    })
    .get("/healthz", (c) => c.json({ ok: true as const }, 200))
    .use("*", accessControl(auth))
    .route("/", openApiRoutes())
    .route("/", tokenRoutes({ auth, limiter }))
    .route("/", tlsRoutes(deps.tlsCa))
    .route("/", manifestRoutes(planner))
    .route("/", containerRoutes({ planner, maxWaitMs, metrics }))
    .route("/", eventsRoutes({ events: planner.events, maxWaitMs, clock }))
    .route("/", hostsRoutes(planner))
    .route("/", statusRoutes(planner))
    .route("/", logsRoutes({ planner, maxWaitMs, clock }))
    .route("/", secretRoutes(planner));
}

/** The API app's type, for `hc<App>`. */
export type App = ReturnType<typeof createApp>;
