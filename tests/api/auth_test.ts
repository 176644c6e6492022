import assert from "node:assert/strict";
import { assertError, openHarness, SHOP_YAML } from "./harness.ts";

/** Every route behind the Bearer check, with a body it would otherwise accept. */
const PROTECTED: { method: string; path: string; body?: string; type?: string }[] = [
  { method: "POST", path: "/manifest/up", body: SHOP_YAML, type: "application/x-yaml" },
  { method: "POST", path: "/manifest/down", body: '{"manifest":"shop"}' },
  { method: "POST", path: "/manifest/ps", body: "{}" },
  { method: "GET", path: "/container?host=host-a" },
  { method: "GET", path: "/container?host=host-a&index=0&wait=0s" },
  {
    method: "POST",
    path: "/container/action",
    body: '{"action":"stop","host":"host-a","container":"web"}',
  },
  { method: "POST", path: "/state", body: '{"host":"host-a","name":"web","state":"running"}' },
];

const BAD_HEADERS: { name: string; header?: string; message: RegExp }[] = [
  { name: "missing", message: /missing/ },
  { name: "empty", header: "", message: /missing/ },
  { name: "not Bearer", header: "Basic dXNlcjpwYXNz", message: /malformed/ },
  { name: "Bearer without a token", header: "Bearer", message: /malformed/ },
  { name: "two words after Bearer", header: "Bearer a b", message: /malformed/ },
  { name: "unknown token", header: "Bearer not-a-token", message: /invalid token/ },
];

Deno.test("every protected route answers 401 for a missing, malformed or wrong token", async (t) => {
  const h = await openHarness();
  try {
    for (const route of PROTECTED) {
      for (const bad of BAD_HEADERS) {
        await t.step(`${route.method} ${route.path}: ${bad.name}`, async () => {
          const headers = new Headers({ "content-type": route.type ?? "application/json" });
          if (bad.header !== undefined) headers.set("authorization", bad.header);
          const res = await h.app.request(`/api/v1${route.path}`, {
            method: route.method,
            headers,
            body: route.body,
          });
          await assertError(res, 401, "unauthorized", bad.message);
          assert.equal(res.headers.get("www-authenticate"), "Bearer");
        });
      }
    }
    assert.deepEqual(await h.ps(), [], "nothing got through");
  } finally {
    await h.close();
  }
});

Deno.test("the scheme is case-insensitive and a good token passes", async () => {
  const h = await openHarness();
  try {
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const res = await h.app.request("/api/v1/manifest/ps", {
        method: "POST",
        headers: { authorization: `${scheme} ${h.token}` },
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
  } finally {
    await h.close();
  }
});

Deno.test("an unknown route answers 401 without a token and 404 with one", async () => {
  const h = await openHarness();
  try {
    await assertError(await h.app.request("/api/v1/nope"), 401, "unauthorized");
    await assertError(await h.call("GET", "/nope"), 404, "not_found", /no route/);
    await assertError(await h.app.request("/api/v1/manifest/up"), 401, "unauthorized");
    const wrongMethod = await h.call("GET", "/manifest/up");
    await assertError(wrongMethod, 405, "method_not_allowed", /\/manifest\/up does not take GET/);
    assert.equal(wrongMethod.headers.get("allow"), "POST");
    await assertError(await h.app.request("/elsewhere"), 404, "not_found");
  } finally {
    await h.close();
  }
});
