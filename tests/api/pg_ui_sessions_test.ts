/**
 * Web UI sessions with two servers on one PostgreSQL store, as behind a load balancer without
 * sticky sessions: a session made through one is honoured by the other (pages and CSRF-checked
 * forms), signing out through one ends it on both, revoking its token through either, or the
 * token's expiry, ends it on both at once, and an expired session is refused by both and deleted by
 * the duty.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../manual_clock.ts";
import { startPostgres } from "../pg_cluster.ts";
import { type Harness, openHarness, SHOP_YAML } from "./harness.ts";
import { get, post, signIn, storedSession } from "./ui_browser.ts";

/** Two servers ("a" and "b") on one fresh database, with one clock; closed after `fn`. */
async function withServers(fn: (a: Harness, b: Harness) => Promise<void>): Promise<void> {
  const pg = await startPostgres();
  const opened: Harness[] = [];
  try {
    const location = await pg.createDatabase();
    const clock = new ManualClock();
    const a = await openHarness({ location, clock });
    opened.push(a);
    const b = await openHarness({ location, clock, token: a.token });
    opened.push(b);
    await fn(a, b);
  } finally {
    for (const h of opened) await h.close();
    await pg.stop();
  }
}

Deno.test("postgres: a session made through one server is honoured by the other", async () => {
  await withServers(async (a, b) => {
    await a.up(SHOP_YAML);
    const admin = await signIn(a, a.token);
    const page = await get(b, admin, "/manifests/shop");
    assert.equal(page.status, 200, "signed in on b too");
    assert.match(await page.text(), new RegExp(`name="csrf" value="${admin.csrf}"`));
    const stop = await post(b, "/manifests/shop/containers/web/action", {
      action: "stop",
      csrf: admin.csrf,
    }, { cookie: admin.cookie });
    assert.equal(stop.status, 303, await stop.text());
    assert.equal((await a.ps()).find((c) => c.config.name === "web")?.desired, "stopped");

    const out = await post(b, "/logout", { csrf: admin.csrf }, { cookie: admin.cookie });
    assert.equal(out.status, 303);
    assert.equal((await get(a, admin, "/")).status, 303, "signed out through b, out on a too");
  });
});

Deno.test("postgres: revoking or expiry of a token ends its sessions on both servers at once", async () => {
  await withServers(async (a, b) => {
    const made = await b.call("POST", "/tokens", { role: "read" });
    const read = await made.json() as { id: string; token: string };
    const reader = await signIn(a, read.token);
    const admin = await signIn(b, b.token);
    assert.equal((await get(b, reader, "/hosts")).status, 200);
    assert.equal((await b.call("POST", "/tokens/revoke", { id: read.id })).status, 204);
    for (const [name, h] of [["a", a], ["b", b]] as const) {
      const res = await get(h, reader, "/hosts");
      assert.equal(res.status, 303, `refused by ${name}`);
      assert.equal(res.headers.get("location"), "/login?next=%2Fhosts");
      assert.equal((await get(h, admin, "/hosts")).status, 200, `another token's stays on ${name}`);
    }
    assert.equal(await storedSession(a, reader), undefined);

    // An expiring token's session stays stored, and each request checks the token row again.
    const short = await (await a.call("POST", "/tokens", { role: "read", ttl: "1h" })).json();
    const brief = await signIn(b, (short as { token: string }).token);
    a.clock.advance(3_600_000);
    assert.equal((await get(a, brief, "/")).status, 303, "its token expired: refused by a");
    assert.equal((await get(b, brief, "/")).status, 303, "and by b");
    assert.equal(await storedSession(b, brief), undefined, "and deleted when refused");
  });
});

Deno.test("postgres: an expired session is refused by both servers and deleted by the duty", async () => {
  await withServers(async (a, b) => {
    const used = await signIn(a, a.token);
    const unused = await signIn(a, a.token);
    await b.planner.tick();
    b.clock.advance(11 * 3_600_000);
    assert.equal((await get(b, used, "/")).status, 200, "used within 12 hours");
    b.clock.advance(12 * 3_600_000);
    assert.equal((await get(a, used, "/")).status, 303, "idle for 12 hours, on a");
    assert.equal((await get(b, used, "/")).status, 303, "and on b");
    assert.ok(await storedSession(a, unused), "nobody asked for it yet");
    await b.planner.tick();
    assert.equal(await storedSession(a, unused), undefined, "b's duty deleted it");
  });
});
