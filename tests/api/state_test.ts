import assert from "node:assert/strict";
import { assertError, BLOG_YAML, find, openHarness, SHOP_YAML } from "./harness.ts";

Deno.test("a single report sets the observed fields and answers 204", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const before = find(await h.ps(), "shop", "web");
    const res = await h.call("POST", "/state", {
      host: "host-a",
      name: "web",
      state: "exited",
      containerId: "c0ffee",
      exitCode: 137,
      error: "killed by the kernel",
      health: "unhealthy",
    });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), "");
    const web = find(await h.ps(), "shop", "web");
    assert.equal(web.state, "exited");
    assert.equal(web.containerId, "c0ffee");
    assert.equal(web.exitCode, 137);
    assert.equal(web.error, "killed by the kernel");
    assert.equal(web.health, "unhealthy");
    assert.equal(web.generation, before.generation, "a report is not an intent");
    assert.equal(web.desired, "running");
    assert.ok(web.updatedAt >= before.updatedAt);

    await h.call("POST", "/state", { host: "host-a", name: "web", state: "running" });
    const later = find(await h.ps(), "shop", "web");
    assert.equal(later.state, "running");
    for (const key of ["containerId", "exitCode", "error", "health"]) {
      assert.ok(!(key in later), `${key} absent from the report is cleared`);
    }
  } finally {
    await h.close();
  }
});

Deno.test("reports bump no index", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const a = await h.planner.hostIndex("host-a");
    await h.call("POST", "/state", { host: "host-a", name: "web", state: "running" });
    await h.call("POST", "/state", [{ host: "host-a", name: "web", state: "exited" }]);
    assert.equal(await h.planner.hostIndex("host-a"), a);
  } finally {
    await h.close();
  }
});

Deno.test("a batch answers 200 with what was applied and the unknown reports", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    await h.up(BLOG_YAML);
    const unknown = [
      { host: "host-a", name: "ghost", state: "running" },
      { host: "host-a", name: "web", state: "running" },
      { host: "host-a", name: "db", manifest: "shop", state: "running" },
    ];
    const res = await h.call("POST", "/state", [
      { host: "host-b", name: "db", state: "running", containerId: "d1" },
      ...unknown.slice(0, 2),
      { host: "host-a", name: "web", manifest: "blog", state: "created" },
      unknown[2],
    ]);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { applied: 2, unknown, stale: 0 });
    const list = await h.ps();
    assert.equal(find(list, "shop", "db").state, "running");
    assert.equal(find(list, "shop", "db").containerId, "d1");
    assert.equal(find(list, "blog", "web").state, "created");
    assert.equal(find(list, "shop", "web").state, "pending");
  } finally {
    await h.close();
  }
});

Deno.test("single reports for unknown or ambiguous containers answer 404 and 409", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    await h.up(BLOG_YAML);
    const before = await h.ps();
    await assertError(
      await h.call("POST", "/state", { host: "host-z", name: "web", state: "running" }),
      404,
      "not_found",
    );
    await assertError(
      await h.call("POST", "/state", {
        host: "host-b",
        name: "web",
        manifest: "shop",
        state: "running",
      }),
      404,
      "not_found",
      /not found on host-b/,
    );
    await assertError(
      await h.call("POST", "/state", { host: "host-a", name: "web", state: "running" }),
      409,
      "conflict",
      /in manifests blog, shop/,
    );
    assert.deepEqual(await h.ps(), before);
  } finally {
    await h.close();
  }
});

Deno.test("removed after desired removed forgets the container, then the manifest", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    await h.call("POST", "/state", { host: "host-a", name: "web", state: "removed" });
    assert.equal(
      find(await h.ps(), "shop", "web").state,
      "removed",
      "a container still desired is kept when seen removed",
    );

    assert.equal((await h.call("POST", "/manifest/down", { manifest: "shop" })).status, 202);
    const index = await h.planner.hostIndex("host-a");
    const res = await h.call("POST", "/state", [
      { host: "host-a", name: "web", state: "removed" },
    ]);
    assert.deepEqual(await res.json(), { applied: 1, unknown: [], stale: 0 });
    assert.deepEqual((await h.ps()).map((c) => c.config.name), ["db"]);
    assert.equal(
      await h.planner.hostIndex("host-a"),
      index,
      "forgetting is not a change of intent",
    );
    assert.deepEqual((await h.planner.desired("host-a")).containers, []);

    const last = await h.call("POST", "/state", {
      host: "host-b",
      name: "db",
      manifest: "shop",
      state: "removed",
    });
    assert.equal(last.status, 204);
    assert.deepEqual(await h.ps(), []);
    await assertError(
      await h.call("POST", "/manifest/ps", { manifest: "shop" }),
      404,
      "not_found",
    );
    await assertError(
      await h.call("POST", "/manifest/down", { manifest: "shop" }),
      404,
      "not_found",
    );
  } finally {
    await h.close();
  }
});
