/**
 * The one Hono router of the HTTP API (DESIGN.md section 4), under `/api/v1`. Routes are
 * chained so that `hc<App>` sees every one of them; every error answer has the shape
 * `{"error": {"code", "message", "details"?}}`.
 */
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
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
  TokenRequestSchema,
} from "./schemas.ts";
import { DurationError, parseDuration } from "../duration.ts";
import { LauncherError } from "../errors.ts";
import { parseManifest } from "../manifest/parse.ts";
import { TokenAuth } from "../server/auth.ts";
import {
  BadRequestError,
  InvalidQueryError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from "../server/errors.ts";
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
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  overloaded: 503,
};

const YAML_TYPES = new Set(["application/x-yaml", "text/yaml", "application/yaml"]);
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/;

/** `POST /state` takes one report or a non-empty list; picking by shape keeps error paths exact. */
const StateReportListSchema = StateBodySchema.options[1];
const StateRequestSchema = v.lazy((input: unknown) =>
  Array.isArray(input) ? StateReportListSchema : StateReportSchema
);

/** The lower-cased media type of a request, without parameters ("" when absent). */
function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

function errorBody(code: string, message: string, details?: ErrorDetail[]): ErrorBody {
  return { error: details && details.length > 0 ? { code, message, details } : { code, message } };
}

/** An issue's path written as the manifest parser writes its paths: `containers[0].name`. */
function issuePath(issue: v.BaseIssue<unknown>): string | undefined {
  let path = "";
  for (const item of issue.path ?? []) {
    const key = item.key;
    if (typeof key === "number") path += `[${key}]`;
    else if (typeof key === "string") path += path === "" ? key : `.${key}`;
    else return undefined;
  }
  return path === "" ? undefined : path;
}

/** Valibot issues as error details (path, message). */
function issueDetails(issues: readonly v.BaseIssue<unknown>[]): ErrorDetail[] {
  return issues.map((issue) => {
    const path = issuePath(issue);
    return path === undefined ? { message: issue.message } : { path, message: issue.message };
  });
}

/** Input types a JSON body middleware adds to a route, for the typed client. */
type JsonInput<S extends v.GenericSchema> = {
  in: { json: v.InferInput<S> };
  out: { json: v.InferOutput<S> };
};

/**
 * Reads a JSON body and validates it; an empty body is read as `{}` when `allowEmpty`, and
 * refused otherwise. The Content-Type is not checked: these routes take nothing but JSON, and
 * clients of the original design (and `curl -d`) do not always say so.
 */
function jsonBody<S extends v.GenericSchema>(
  schema: S,
  allowEmpty = false,
): MiddlewareHandler<Record<never, never>, string, JsonInput<S>> {
  return async (c, next) => {
    const text = await c.req.text();
    let value: unknown = {};
    if (text.trim() === "") {
      if (!allowEmpty) throw new BadRequestError("request body is empty: send a JSON object");
    } else {
      try {
        value = JSON.parse(text);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new BadRequestError(`request body is not valid JSON: ${reason}`);
      }
    }
    const parsed = v.safeParse(schema, value);
    if (!parsed.success) {
      const details = issueDetails(parsed.issues);
      const first = details[0];
      const where = first.path === undefined ? "" : `${first.path}: `;
      throw new BadRequestError(`request body is invalid: ${where}${first.message}`, details);
    }
    c.req.addValidatedData("json", parsed.output as object);
    await next();
  };
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

  const requireToken: MiddlewareHandler = async (c, next) => {
    const header = c.req.header("authorization");
    if (header === undefined || header.trim() === "") {
      throw new UnauthorizedError("missing Authorization header: send Bearer <token>");
    }
    const match = /^Bearer +(\S+)$/i.exec(header.trim());
    if (match === null) {
      throw new UnauthorizedError("malformed Authorization header: expected Bearer <token>");
    }
    if (!auth.verifyToken(match[1])) throw new UnauthorizedError("invalid token");
    await next();
  };

  return new Hono()
    .onError((error, c) => {
      if (error instanceof LauncherError && error.code in STATUS_BY_CODE) {
        if (error.code === "unauthorized") c.header("WWW-Authenticate", "Bearer");
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
    .use(
      "*",
      bodyLimit({
        maxSize: MAX_BODY_BYTES,
        onError: () => {
          throw new PayloadTooLargeError(MAX_BODY_BYTES);
        },
      }),
    )
    .get("/healthz", (c) => c.json({ ok: true as const }, 200))
    .post("/token", jsonBody(TokenRequestSchema), (c) => {
      if (!auth.checkPassword(c.req.valid("json").password)) {
        throw new UnauthorizedError("wrong password");
      }
      return c.json({ token: auth.createToken() }, 201);
    })
    .use("*", requireToken)
    .post("/manifest/up", async (c) => {
      const type = mediaType(c);
      const format = YAML_TYPES.has(type) ? "yaml" : JSON_TYPE.test(type) ? "json" : undefined;
      if (format === undefined) {
        throw new UnsupportedMediaTypeError(
          `unsupported content type ${type || "(none)"}: send application/x-yaml, text/yaml, ` +
            "application/yaml or application/json",
        );
      }
      const text = await c.req.text();
      if (text.trim() === "") {
        throw new BadRequestError(`request body is empty: send the manifest as ${format}`);
      }
      return c.json(planner.up(parseManifest(text, format)), 200);
    })
    .post("/manifest/down", jsonBody(ManifestDownSchema), (c) => {
      const { manifest } = c.req.valid("json");
      planner.down(manifest);
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
      planner.action(action);
      return c.json(action, 202);
    })
    .post("/state", jsonBody(StateRequestSchema), (c) => {
      const body = c.req.valid("json");
      if (Array.isArray(body)) return c.json(planner.reportMany(body), 200);
      planner.report(body);
      return c.body(null, 204);
    });
}

/** The API app's type, for `hc<App>`. */
export type App = ReturnType<typeof createApp>;
