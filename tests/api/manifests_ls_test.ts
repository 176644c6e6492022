import assert from "node:assert/strict";
import * as v from "valibot";
import { ManifestSummarySchema } from "../../src/api/schemas.ts";
import {
  assertError,
  BLOG_YAML,
  type Harness,
  openHarness,
  PASSWORD,
  SHOP_YAML,
} from "./harness.ts";

async function manifests(h: Harness) {
  const res = await h.call("GET", "/manifests");
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return v.parse(v.array(ManifestSummarySchema), body);
}

async function report(h: Harness, body: unknown): Promise<void> {
  const res = await h.call("POST", "/state", body);
  assert.equal(res.status, 200, await res.text());
}

async function tokenFor(h: Harness, scope: Record<string, string>): Promise<string> {
  const res = await h.app.request("/api/v1/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ password: PASSWORD, ...scope }),
  });
  assert.equal(res.status, 201);
  return ((await res.json()) as { token: string }).token;
}

Deno.test("manifests lists every manifest by name with counts by state", async () => {
  const h = await openHarness();
  try {
    assert.deepEqual(await manifests(h), []);
    await h.up(SHOP_YAML);
    await h.up(BLOG_YAML);
    await report(h, [
      { host: "host-a", name: "web", manifest: "shop", state: "running" },
      { host: "host-b", name: "db", manifest: "shop", state: "exited", exitCode: 1 },
    ]);
    const list = await manifests(h);
    assert.deepEqual(list.map((m) => [m.name, m.containers, m.states]), [
      ["blog", 1, { pending: 1 }],
      ["shop", 2, { running: 1, exited: 1 }],
    ]);
    const shop = list[1];
    assert.ok(!Number.isNaN(Date.parse(shop.createdAt)));
    assert.ok(shop.updatedAt >= shop.createdAt);
  } finally {
    await h.close();
  }
});

Deno.test("the counts are those of ps, and a manifest removed for good leaves the list", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    await h.up(BLOG_YAML);
    const ps = await h.ps();
    const counted = (await manifests(h)).map((m) => [m.name, m.containers]);
    assert.deepEqual(counted, [
      ["blog", ps.filter((c) => c.manifestName === "blog").length],
      ["shop", ps.filter((c) => c.manifestName === "shop").length],
    ]);
    assert.equal((await h.call("POST", "/manifest/down", { manifest: "blog" })).status, 202);
    assert.deepEqual((await manifests(h)).map((m) => m.name), ["blog", "shop"], "until reported");
    await report(h, [{ host: "host-a", name: "web", manifest: "blog", state: "removed" }]);
    assert.deepEqual((await manifests(h)).map((m) => m.name), ["shop"]);
  } finally {
    await h.close();
  }
});

Deno.test("a read token may list manifests; an agent token may not", async () => {
  const h = await openHarness();
  try {
    const read = await tokenFor(h, { role: "read" });
    const agent = await tokenFor(h, { role: "agent", host: "host-a" });
    const get = (token: string) =>
      h.app.request("/api/v1/manifests", { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await get(read)).status, 200);
    await assertError(await get(agent), 403, "forbidden");
  } finally {
    await h.close();
  }
});
