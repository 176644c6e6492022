/**
 * Token routes: the password exchange (`POST /token`, rate-limited per client address) and token
 * management with an admin token (`GET /tokens`, `POST /tokens`, `POST /tokens/revoke`). Who may
 * call each is decided in access.ts.
 */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import type { Context } from "hono";
import { TokenCreateSchema, TokenRequestSchema, TokenRevokeSchema } from "../../api/schemas.ts";
import type { TokenScope } from "../../api/schemas.ts";
import { jsonBody } from "./validate.ts";
import { parseDuration } from "../../duration.ts";
import type { TokenAuth, TokenGrant } from "../auth.ts";
import { RateLimitedError, UnauthorizedError } from "../../api/errors.ts";
import type { FailureLimiter } from "../rate_limit.ts";

/** What the token routes need. */
export interface TokenRouteDeps {
  auth: TokenAuth;
  /** Counts failed password attempts per client address. */
  limiter: FailureLimiter;
}

/**
 * The client's address: the `remoteAddr` Deno.serve hands to `app.fetch` as its env (tests pass
 * one to `app.request`). Proxy headers are not trusted: any client could forge them.
 */
function clientAddress(c: Context): string {
  const env: unknown = c.env;
  if (typeof env === "object" && env !== null && "remoteAddr" in env) {
    const addr: unknown = env.remoteAddr;
    if (typeof addr === "object" && addr !== null && "hostname" in addr) {
      return String(addr.hostname);
    }
  }
  return "unknown";
}

/** A validated scope as a grant: admin by default, the ttl in milliseconds. */
function grantOf(scope: TokenScope): TokenGrant {
  return {
    role: scope.role ?? "admin",
    ...(scope.host === undefined ? {} : { host: scope.host }),
    ...(scope.ttl === undefined ? {} : { ttlMs: parseDuration(scope.ttl) }),
  };
}

/** The token routes, to mount under `/api/v1` after the access middleware. */
export function tokenRoutes({ auth, limiter }: TokenRouteDeps) {
  return new Hono<AppEnv>()
    .post("/token", jsonBody(TokenRequestSchema), async (c) => {
      const client = clientAddress(c);
      const waitMs = limiter.retryAfterMs(client);
      if (waitMs > 0) throw new RateLimitedError(Math.ceil(waitMs / 1000));
      const { password, ...scope } = c.req.valid("json");
      if (!auth.checkPassword(password)) {
        limiter.fail(client);
        throw new UnauthorizedError("wrong password");
      }
      limiter.succeed(client);
      return c.json(await auth.createToken(grantOf(scope)), 201);
    })
    .get("/tokens", async (c) => c.json(await auth.listTokens(), 200))
    .post("/tokens", jsonBody(TokenCreateSchema), async (c) => {
      return c.json(await auth.createToken(grantOf(c.req.valid("json"))), 201);
    })
    .post("/tokens/revoke", jsonBody(TokenRevokeSchema), async (c) => {
      await auth.revokeToken(c.req.valid("json").id);
      return c.body(null, 204);
    });
}
