/**
 * A browser's side of the web UI in-process (app.request): posting forms, signing in, and reading
 * pages with the session cookie it holds, and the store's row of its session. Shared by the UI's
 * API tests.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { SessionRow } from "../../src/server/store/store.ts";
import type { Harness } from "./harness.ts";

/** A browser's view of the app: the cookie it holds. */
export interface Browser {
  cookie: string;
  /** The session's CSRF token, as its pages carry it. */
  csrf: string;
}

/** Posts a form to the UI. */
export function post(
  h: Harness,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
  url = "http://localhost",
): Promise<Response> {
  return Promise.resolve(h.app.request(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  }));
}

/** Signs in with `token` and returns the cookie and the CSRF token of the session. */
export async function signIn(h: Harness, token: string): Promise<Browser> {
  const res = await post(h, "/login", { token, next: "/" });
  assert.equal(res.status, 303, await res.text());
  assert.equal(res.headers.get("location"), "/");
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
  const page = await get(h, { cookie, csrf: "" }, "/");
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  assert.ok(csrf, "the page carries the session's CSRF token");
  return { cookie, csrf };
}

/** Gets a UI page with the browser's cookie. */
export function get(h: Harness, browser: Browser, path: string): Promise<Response> {
  return Promise.resolve(h.app.request(`http://localhost${path}`, {
    headers: { cookie: browser.cookie },
  }));
}

/** The store's row of a browser's session (by the SHA-256 of its cookie's id), if any. */
export async function storedSession(
  h: Harness,
  browser: Browser,
): Promise<SessionRow | undefined> {
  const id = browser.cookie.replace(/^launcher_session=/, "");
  return await h.planner.store.sessionByHash(createHash("sha256").update(id).digest("hex"));
}
