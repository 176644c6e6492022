/**
 * Web UI sessions kept in the store: a session outlives its server (closed and opened again on the
 * same store, with its CSRF token), an expired one is refused and an unused one deleted by the
 * duty, and revoking a token deletes its sessions. On SQLite here; `pg_api_test.ts` runs this file
 * on PostgreSQL, and `pg_ui_sessions_test.ts` has two servers share sessions.
 */
import assert from "node:assert/strict";
import { type Harness, openHarness, SHOP_YAML } from "./harness.ts";
import { get, post, signIn, storedSession } from "./ui_browser.ts";

const HOUR = 3_600_000;

Deno.test("a session outlives a restart of its server, CSRF token and all", async () => {
  const first = await openHarness();
  let h: Harness | undefined;
  try {
    await first.up(SHOP_YAML);
    const admin = await signIn(first, first.token);
    await first.close(true);

    h = await openHarness({ location: first.location, token: first.token, clock: first.clock });
    const page = await get(h, admin, "/manifests/shop");
    assert.equal(page.status, 200, "still signed in after the restart");
    assert.match(await page.text(), new RegExp(`name="csrf" value="${admin.csrf}"`));
    const stop = await post(h, "/manifests/shop/containers/web/action", {
      action: "stop",
      csrf: admin.csrf,
    }, { cookie: admin.cookie });
    assert.equal(stop.status, 303, await stop.text());
    const web = (await h.ps()).find((c) => c.config.name === "web");
    assert.equal(web?.desired, "stopped");
  } finally {
    await (h ?? first).close();
  }
});

Deno.test("an expired session is refused; one nobody uses is deleted by the duty", async () => {
  const h = await openHarness();
  try {
    const used = await signIn(h, h.token);
    const unused = await signIn(h, h.token);
    await h.planner.tick();
    assert.ok(await storedSession(h, unused), "a live session is kept");

    h.clock.advance(12 * HOUR);
    const refused = await get(h, used, "/");
    assert.equal(refused.status, 303, "idle for 12 hours");
    assert.equal(refused.headers.get("location"), "/login?next=%2F");
    assert.equal(await storedSession(h, used), undefined, "refused, and deleted with it");
    assert.ok(await storedSession(h, unused), "nobody asked for it yet");
    await h.planner.tick();
    assert.equal(await storedSession(h, unused), undefined, "the duty deleted it");
    assert.equal((await get(h, unused, "/")).status, 303);
  } finally {
    await h.close();
  }
});

Deno.test("revoking a token deletes its sessions, and only its", async () => {
  const h = await openHarness();
  try {
    const made = await h.call("POST", "/tokens", { role: "read" });
    const read = await made.json() as { id: string; token: string };
    const reader = await signIn(h, read.token);
    const admin = await signIn(h, h.token);
    assert.ok(await storedSession(h, reader));
    assert.equal((await h.call("POST", "/tokens/revoke", { id: read.id })).status, 204);
    assert.equal(await storedSession(h, reader), undefined);
    assert.equal((await get(h, reader, "/")).status, 303);
    assert.equal((await get(h, admin, "/")).status, 200, "another token's session stays");
  } finally {
    await h.close();
  }
});
