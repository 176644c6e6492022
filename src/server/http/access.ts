/**
 * Who may call which route: the one table of the API's routes and the middleware that enforces
 * it. Every request passes here before its route; a path missing from the table needs admin.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { ErrorDetail } from "../../api/schemas.ts";
import type { Principal, TokenAuth } from "../auth.ts";
import { ForbiddenError, MethodNotAllowedError, UnauthorizedError } from "../../api/errors.ts";
import type { AppEnv } from "./env.ts";

/**
 * What a route needs: no token, a read or admin token, or (`agent`) an agent token for the host
 * the request names (admin tokens pass too).
 */
export type Need = "none" | "read" | "admin" | "agent";

/**
 * Where an agent route names its host: the `host` query parameter (every one given), or the
 * `host` of a JSON body (of each element when the body is a list).
 */
export type HostSource = "query" | "body";

/** One route of the API, and who may call it. */
export interface RouteRule {
  method: "GET" | "POST";
  /** A path under `/api/v1`, as Hono writes it: a `:name` segment matches any one segment. */
  path: string;
  need: Need;
  /** Where an `agent` route names its host. */
  host?: HostSource;
  /** The body streams for as long as it lasts (an agent's log upload): no size limit applies. */
  streamsBody?: true;
}

/** The path prefix of every API route. */
export const API_PREFIX = "/api/v1";

/**
 * Every route of the API and what it needs: the one table the access check, the 405 answers
 * (with their `Allow` header) and the body limit read. A test checks it against the router.
 */
export const ROUTE_ACCESS: readonly RouteRule[] = [
  { method: "GET", path: "/healthz", need: "none" },
  { method: "POST", path: "/token", need: "none" },
  { method: "GET", path: "/openapi.json", need: "none" },
  { method: "GET", path: "/tls/ca", need: "none" },
  { method: "POST", path: "/manifest/up", need: "admin" },
  { method: "POST", path: "/manifest/down", need: "admin" },
  { method: "POST", path: "/manifest/rollback", need: "admin" },
  { method: "POST", path: "/container/action", need: "admin" },
  { method: "POST", path: "/manifest/ps", need: "read" },
  { method: "POST", path: "/manifest/diff", need: "read" },
  { method: "POST", path: "/manifest/history", need: "read" },
  { method: "POST", path: "/manifest/revision", need: "read" },
  { method: "GET", path: "/manifests", need: "read" },
  { method: "GET", path: "/hosts", need: "read" },
  { method: "GET", path: "/status", need: "read" },
  { method: "GET", path: "/events", need: "read" },
  { method: "GET", path: "/logs", need: "read" },
  { method: "GET", path: "/container", need: "agent", host: "query" },
  { method: "POST", path: "/state", need: "agent", host: "body" },
  { method: "POST", path: "/hosts/register", need: "agent", host: "body" },
  { method: "GET", path: "/agent/logs/requests", need: "agent", host: "query" },
  { method: "POST", path: "/agent/logs/:id", need: "agent", host: "query", streamsBody: true },
  { method: "POST", path: "/hosts/drain", need: "admin" },
  { method: "POST", path: "/hosts/remove", need: "admin" },
  { method: "GET", path: "/tokens", need: "admin" },
  { method: "POST", path: "/tokens", need: "admin" },
  { method: "POST", path: "/tokens/revoke", need: "admin" },
  { method: "GET", path: "/secrets", need: "admin" },
  { method: "POST", path: "/secrets", need: "admin" },
  { method: "POST", path: "/secrets/remove", need: "admin" },
];

/** What a path missing from the table needs: the safe default. */
const UNLISTED: RouteRule = { method: "GET", path: "*", need: "admin" };

/** What the table says about a request. */
export type RouteMatch =
  | { kind: "route"; rule: RouteRule }
  /** A known path asked with another method: the methods it takes, and whether anyone may ask. */
  | { kind: "method"; allow: string[]; open: boolean }
  | { kind: "unknown" };

/** Whether a path matches a rule's pattern, segment by segment. */
function matchPath(pattern: string, path: string): boolean {
  const want = pattern.split("/");
  const got = path.split("/");
  return want.length === got.length &&
    want.every((part, i) => part.startsWith(":") ? got[i] !== "" : part === got[i]);
}

/** The rule of a request (a path under `/api/v1`; HEAD is asked as GET), or why there is none. */
export function matchRoute(method: string, path: string): RouteMatch {
  const wanted = method === "HEAD" ? "GET" : method;
  const rules = ROUTE_ACCESS.filter((rule) => matchPath(rule.path, path));
  const rule = rules.find((r) => r.method === wanted);
  if (rule !== undefined) return { kind: "route", rule };
  if (rules.length === 0) return { kind: "unknown" };
  const methods = new Set<string>(rules.map((r) => r.method));
  if (methods.has("GET")) methods.add("HEAD");
  const allow = ["GET", "HEAD", "POST"].filter((m) => methods.has(m));
  return { kind: "method", allow, open: rules.some((r) => r.need === "none") };
}

/** The rule of a request, or the admin default for paths and methods the table lacks. */
export function ruleFor(method: string, path: string): RouteRule {
  const match = matchRoute(method, path);
  return match.kind === "route" ? match.rule : UNLISTED;
}

/** A request path without the `/api/v1` prefix. */
export function apiPath(path: string): string {
  return path.startsWith(`${API_PREFIX}/`) ? path.slice(API_PREFIX.length) : path;
}

/** The token of a `Bearer` Authorization header; `UnauthorizedError` when there is none. */
export function bearerToken(c: Context): string {
  const header = c.req.header("authorization");
  if (header === undefined || header.trim() === "") {
    throw new UnauthorizedError("missing Authorization header: send Bearer <token>");
  }
  const match = /^Bearer +(\S+)$/i.exec(header.trim());
  if (match === null) {
    throw new UnauthorizedError("malformed Authorization header: expected Bearer <token>");
  }
  return match[1];
}

/** The hosts a request names, each with where it was found; undefined where one names none. */
async function requestHosts(
  c: Context,
  source: HostSource,
): Promise<{ path: string; host: string | undefined }[]> {
  if (source === "query") {
    const hosts = c.req.queries("host") ?? [];
    return hosts.length === 0
      ? [{ path: "host", host: undefined }]
      : hosts.map((host) => ({ path: "host", host }));
  }
  // Hono caches the text, so the route reads the same body again.
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    return [{ path: "host", host: undefined }];
  }
  const hostOf = (item: unknown) =>
    typeof item === "object" && item !== null && "host" in item && typeof item.host === "string"
      ? item.host
      : undefined;
  if (Array.isArray(body)) {
    return body.length === 0
      ? [{ path: "host", host: undefined }]
      : body.map((item, i) => ({ path: `[${i}].host`, host: hostOf(item) }));
  }
  return [{ path: "host", host: hostOf(body) }];
}

/** The roles that may call a route, as a 403 names them. */
const NEEDED: Record<Exclude<Need, "none">, string> = {
  read: "read or admin",
  admin: "admin",
  agent: "agent (of the host it names) or admin",
};

/** Throws `ForbiddenError` unless `principal` may make the request `route` (`METHOD /path`). */
async function authorize(
  c: Context,
  principal: Principal,
  rule: RouteRule,
  route: string,
): Promise<void> {
  const { role } = principal;
  if (role === "admin") return;
  if (rule.need === "read" && role === "read") return;
  if (rule.need === "none") return;
  if (rule.need !== "agent" || role !== "agent") {
    throw new ForbiddenError(
      `token has role ${role}, but ${route} needs role ${NEEDED[rule.need]}`,
    );
  }
  const own = principal.host;
  const named = await requestHosts(c, rule.host ?? "query");
  const wrong: ErrorDetail[] = named
    .filter((n) => n.host === undefined || n.host !== own)
    .map((n) => ({
      path: n.path,
      message: n.host === undefined ? "names no host" : `is ${n.host}, not ${own}`,
    }));
  if (wrong.length === 0) return;
  const others = [...new Set(named.map((n) => n.host).filter((h) => h !== own && h !== undefined))];
  throw new ForbiddenError(
    others.length > 0
      ? `token has role agent for host ${own}, but ${route} is for host ${others.join(", ")}`
      : `token has role agent for host ${own}, but ${route} names no host`,
    wrong,
  );
}

/**
 * The middleware deciding access for every route: routes that need no token pass; others need a
 * valid Bearer token (401 otherwise) whose role allows the route (403 otherwise). A known path
 * asked with a method it does not take is 405, after a token check unless anyone may use the
 * path: the table is no secret to token holders, but routes are not probed anonymously.
 */
export function accessControl(auth: TokenAuth): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const path = apiPath(c.req.path);
    const match = matchRoute(c.req.method, path);
    if (match.kind === "method") {
      if (!match.open) await auth.authenticate(bearerToken(c));
      throw new MethodNotAllowedError(c.req.method, path, match.allow);
    }
    const rule = match.kind === "route" ? match.rule : UNLISTED;
    if (rule.need !== "none") {
      const principal = await auth.authenticate(bearerToken(c));
      await authorize(c, principal, rule, `${c.req.method} ${path}`);
      c.set("principal", principal);
    }
    await next();
  };
}
