/**
 * Who a web UI request speaks for: the session of its cookie (from the store, so any server of it
 * honours it), whose token row is checked again on every request (a revoked, expired or deleted
 * token ends the session), and the checks every form that changes something passes: same origin,
 * the session's CSRF token, an admin token.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { ForbiddenError, UnauthorizedError } from "../../../api/errors.ts";
import type { Principal, TokenAuth } from "../../auth.ts";
import type { ViewerInfo } from "./layout.tsx";
import { sameSecret, type UiSession, type UiSessions } from "../../ui_sessions.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "launcher_session";

/** A signed-in request: its session, the principal of its token, and what pages show of it. */
export interface SignedIn {
  session: UiSession;
  principal: Principal;
  viewer: ViewerInfo;
}

/** The session of a request, or undefined when it has none that still holds. */
export async function signedIn(
  c: Context,
  sessions: UiSessions,
  auth: TokenAuth,
): Promise<SignedIn | undefined> {
  const id = getCookie(c, SESSION_COOKIE);
  if (id === undefined) return undefined;
  const session = await sessions.get(id);
  if (session === undefined) return undefined;
  let principal: Principal;
  try {
    principal = await auth.principalOfTokenId(session.tokenId);
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    await sessions.discard(id);
    return undefined;
  }
  return {
    session,
    principal,
    viewer: {
      role: principal.role,
      tokenId: principal.tokenId,
      csrf: session.csrf,
      admin: principal.role === "admin",
    },
  };
}

/** Whether the request came over TLS: the cookie is then `Secure`. */
function overTls(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:";
}

/** Sets the session cookie: HttpOnly, SameSite=Strict, Secure over TLS, for the whole site. */
export function setSessionCookie(c: Context, session: UiSession, maxAgeMs: number): void {
  setCookie(c, SESSION_COOKIE, session.id, {
    httpOnly: true,
    sameSite: "Strict",
    secure: overTls(c),
    path: "/",
    maxAge: Math.floor(maxAgeMs / 1000),
  });
}

/** Removes the session cookie. */
export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: overTls(c) });
}

/**
 * Refuses a post from another site: when the browser says where the form came from (`Origin`,
 * or `Sec-Fetch-Site`), it must be this server.
 */
export function requireSameOrigin(c: Context): void {
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== "null" && origin !== new URL(c.req.url).origin) {
    throw new ForbiddenError(`a form from ${origin} may not change anything here`);
  }
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    throw new ForbiddenError("a form from another site may not change anything here");
  }
}

/** The fields of a posted form; only text fields count. */
export async function formFields(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === "string") fields[name] = value;
  }
  return fields;
}

/**
 * Everything a form that changes something must pass: same origin, the session's CSRF token and
 * an admin token. A read token's session gets 403 even with its own valid CSRF token.
 */
export function authorizeChange(
  c: Context,
  signed: SignedIn,
  fields: Record<string, string>,
  what: string,
): void {
  requireSameOrigin(c);
  const csrf = fields.csrf;
  if (csrf === undefined || !sameSecret(csrf, signed.session.csrf)) {
    throw new ForbiddenError("the form's CSRF token is missing or stale: reload the page");
  }
  if (signed.principal.role !== "admin") {
    throw new ForbiddenError(
      `token has role ${signed.principal.role}, but ${what} needs role admin`,
    );
  }
}
