/**
 * The one Hono router of the HTTP API (DESIGN.md section 4), under `/api/v1`. Routes are
 * chained so that `hc<App>` sees every one of them; every error answer has the shape
 * `{"error": {"code", "message", "details"?}}`.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as v from "valibot";
import {
  ContainerActionSchema,
  type ErrorBody,
  type ErrorDetail,
  HostSchema,
  ManifestDownSchema,
  ManifestPsSchema,
  StateBodySchema,
  StateReportSchema,
} from "./schemas.ts";
import { DurationError, parseDuration } from "../duration.ts";
import { jsonBody } from "./json_body.ts";
import { accessControl, principalOf } from "./access.ts";
import { eventsRoutes } from "./events_routes.ts";
import { hostsRoutes } from "./hosts_routes.ts";
import { isLogUpload, logsRoutes } from "./logs_routes.ts";
import { readManifestBody } from "./manifest_body.ts";
import { manifestPlanRoutes } from "./manifest_plan_routes.ts";
import { tokenRoutes } from "./token_routes.ts";
import { FailureLimiter } from "../server/rate_limit.ts";
import { LauncherError } from "../errors.ts";
import { TokenAuth } from "../server/auth.ts";
import { InvalidQueryError, PayloadTooLargeError, RateLimitedError } from "../server/errors.ts";
import { actorName } from "../server/events.ts";
import type { Planner } from "../server/planner.ts";

/** What the router needs: the planner (and its store, for tokens) and the token password. */
export interface AppDeps {
  planner: Planner;
  password: string;
  /** Upper bound of a long-poll's `wait` (default 5 minutes). */
  maxWaitMs?: number;
  /** Receives unexpected errors (answered as 500 `internal`). */
  log?: (line: string) => void;
}

/** The largest request body accepted (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** The default and largest long-poll waits. */
const DEFAULT_WAIT_MS = 30_000;
const DEFAULT_MAX_WAIT_MS = 5 * 60_000;

/** The HTTP status of each error code the server answers with on purpose. */
const STATUS_BY_CODE: Record<string, ContentfulStatusCode> = {
  invalid_body: 400,
  invalid_query: 400,
  invalid_manifest: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  agent_error: 502,
  overloaded: 503,
  host_offline: 503,
  shutting_down: 503,
  agent_timeout: 504,
};

/** `POST /state` takes one report or a non-empty list; picking by shape keeps error paths exact. */
const StateReportListSchema = StateBodySchema.options[1];
const StateRequestSchema = v.lazy((input: unknown) =>
  Array.isArray(input) ? StateReportListSchema : StateReportSchema
);

function errorBody(code: string, message: string, details?: ErrorDetail[]): ErrorBody {
  return { error: details && details.length > 0 ? { code, message, details } : { code, message } };
}

/** Parses a `wait` such as `500ms`, `30s`, `2m` or `30` (seconds) into milliseconds. */
function parseWait(text: string | undefined): number {
  if (text === undefined) return DEFAULT_WAIT_MS;
  try {
    return parseDuration(text);
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    throw new InvalidQueryError(`wait is invalid: ${error.message}`, [
      { path: "wait", message: error.message },
    ]);
  }
}

/** Parses the `index` of a long-poll: a non-negative integer. */
function parseIndex(text: string): number {
  const index = /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(index)) {
    throw new InvalidQueryError(`index must be a non-negative integer, got ${text}`);
  }
  return index;
}

/** Validates the `host` query parameter. */
function parseHost(text: string | undefined): string {
  if (text === undefined || text === "") {
    throw new InvalidQueryError("query parameter host is required");
  }
  const parsed = v.safeParse(HostSchema, text);
  if (!parsed.success) {
    throw new InvalidQueryError(`host is invalid: ${parsed.issues[0].message}`, [
      { path: "host", message: parsed.issues[0].message },
    ]);
  }
  return parsed.output;
}

/** Builds the API app over a planner; the answer of `app.fetch` or `app.request`. */
export function createApp(deps: AppDeps) {
  const { planner, password, log } = deps;
  const maxWaitMs = deps.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const auth = new TokenAuth(planner.store, password);
  const limiter = new FailureLimiter();
  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new PayloadTooLargeError(MAX_BODY_BYTES);
    },
  });

  return new Hono()
    .onError((error, c) => {
      if (error instanceof LauncherError && error.code in STATUS_BY_CODE) {
        if (error.code === "unauthorized") c.header("WWW-Authenticate", "Bearer");
        if (error instanceof RateLimitedError) {
          c.header("Retry-After", String(error.retryAfterSeconds));
        }
        return c.json(
          errorBody(error.code, error.message, error.details),
          STATUS_BY_CODE[error.code],
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
      c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404)
    )
    .basePath("/api/v1")
    .use("*", (c, next) => isLogUpload(c.req.method, c.req.path) ? next() : limitBody(c, next))
    .get("/healthz", (c) => c.json({ ok: true as const }, 200))
    .use("*", accessControl(auth))
    .route("/", tokenRoutes({ auth, limiter }))
    .route("/", manifestPlanRoutes(planner))
    .route("/", eventsRoutes({ events: planner.events, maxWaitMs }))
    .route("/", hostsRoutes(planner))
    .route("/", logsRoutes({ planner, maxWaitMs }))
    .post("/manifest/up", async (c) => {
      const manifest = await readManifestBody(c);
      return c.json(planner.up(manifest, actorName(principalOf(c))), 200);
    })
    .post("/manifest/down", jsonBody(ManifestDownSchema), (c) => {
      const { manifest } = c.req.valid("json");
      planner.down(manifest, actorName(principalOf(c)));
      return c.json({ manifest }, 202);
    })
    .post("/manifest/ps", jsonBody(ManifestPsSchema, true), (c) => {
      return c.json(planner.ps(c.req.valid("json").manifest), 200);
    })
    .get("/container", async (c) => {
      const host = parseHost(c.req.query("host"));
      const indexText = c.req.query("index");
      if (indexText === undefined) {
        const desired = planner.desired(host);
        c.header("X-Launcher-Index", String(desired.index));
        return c.json(desired.containers, 200);
      }
      const afterIndex = parseIndex(indexText);
      const waitMs = Math.min(parseWait(c.req.query("wait")), maxWaitMs);
      await planner.waitForHost(host, afterIndex, waitMs, c.req.raw.signal);
      const desired = planner.desired(host);
      c.header("X-Launcher-Index", String(desired.index));
      return c.json(desired, 200);
    })
    .post("/container/action", jsonBody(ContainerActionSchema), (c) => {
      const action = c.req.valid("json");
      planner.action(action, actorName(principalOf(c)));
      return c.json(action, 202);
    })
    .post("/state", jsonBody(StateRequestSchema), (c) => {
      const body = c.req.valid("json");
      const actor = actorName(principalOf(c));
      if (Array.isArray(body)) return c.json(planner.reportMany(body, actor), 200);
      planner.report(body, actor);
      return c.body(null, 204);
    });
}

/** The API app's type, for `hc<App>`. */
export type App = ReturnType<typeof createApp>;
