/**
 * Methods: the route table is the router, and a known path asked with a method it does not take
 * answers 405 with the methods it takes in `Allow`.
 */
import assert from "node:assert/strict";
import { API_PREFIX, ROUTE_ACCESS } from "../../src/server/http/access.ts";
import { assertError, openHarness } from "./harness.ts";

Deno.test("every known path answers 405 with Allow to the methods it does not take", async () => {
  const h = await openHarness();
  try {
    const paths = [...new Set(ROUTE_ACCESS.map((r) => r.path))];
    for (const pattern of paths) {
      const path = pattern.replace(/:[^/]+/g, "sample");
      // `/agent/logs/requests` is also an id to `POST /agent/logs/:id`.
      const matches = (p: string) => new RegExp(`^${p.replace(/:[^/]+/g, "[^/]+")}$`).test(path);
      const taken = ROUTE_ACCESS.filter((r) => matches(r.path)).map((r) => r.method);
      const allow = ["GET", "HEAD", "POST"].filter((m) =>
        taken.includes(m as "GET") || (m === "HEAD" && taken.includes("GET"))
      );
      for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
        if (allow.includes(method)) continue;
        const res = await h.call(method, path);
        await assertError(res, 405, "method_not_allowed");
        assert.equal(res.headers.get("allow"), allow.join(", "), `${method} ${path}`);
      }
    }
  } finally {
    await h.close();
  }
});

Deno.test("405 needs a token unless anyone may use the path; HEAD goes with GET", async () => {
  const h = await openHarness();
  try {
    await assertError(
      await h.app.request(`${API_PREFIX}/hosts`, { method: "DELETE" }),
      401,
      "unauthorized",
    );
    const open = await h.app.request(`${API_PREFIX}/token`, { method: "GET" });
    await assertError(open, 405, "method_not_allowed", /^\/token does not take GET: use POST$/);
    assert.equal(open.headers.get("allow"), "POST");
    const head = await h.call("HEAD", "/hosts");
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const health = await h.app.request(`${API_PREFIX}/healthz`, { method: "HEAD" });
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("the route table is the router: every route of one is in the other", async () => {
  const h = await openHarness();
  try {
    const served = new Set(
      h.app.routes
        .filter((r) => r.method !== "ALL" && r.path.startsWith(`${API_PREFIX}/`))
        .map((r) => `${r.method} ${r.path.slice(API_PREFIX.length)}`),
    );
    const listed = new Set(ROUTE_ACCESS.map((r) => `${r.method} ${r.path}`));
    assert.deepEqual([...served].sort(), [...listed].sort());
  } finally {
    await h.close();
  }
});
