import assert from "node:assert/strict";
import { BLOG_YAML, openHarness, SHOP_YAML } from "./harness.ts";

Deno.test("closing and reopening the same store keeps state, indexes and tokens", async () => {
  const first = await openHarness();
  const location = first.location;
  let second: Awaited<ReturnType<typeof openHarness>> | undefined;
  try {
    await first.up(SHOP_YAML);
    await first.up(BLOG_YAML);
    await first.call("POST", "/state", {
      host: "host-b",
      name: "db",
      state: "exited",
      containerId: "d1",
      exitCode: 3,
    });
    await first.call("POST", "/container/action", {
      action: "restart",
      host: "host-a",
      container: "web",
      manifest: "blog",
    });
    const ps = await first.ps();
    const indexes = await Promise.all(
      ["host-a", "host-b"].map((host) => first.planner.hostIndex(host)),
    );
    const desiredA = await first.planner.desired("host-a");
    await first.close(true);

    second = await openHarness({ location, token: first.token });
    assert.deepEqual(await second.ps(), ps, "the old token still works and ps is the same");
    assert.deepEqual(
      await Promise.all(["host-a", "host-b"].map((host) => second!.planner.hostIndex(host))),
      indexes,
    );
    assert.deepEqual(await second.planner.desired("host-a"), desiredA);

    await second.up(SHOP_YAML.replace("postgres:16", "postgres:17"));
    assert.ok(
      await second.planner.hostIndex("host-b") > Math.max(...indexes),
      "the global counter carries on where it stopped",
    );
    const res = await second.app.request("/api/v1/manifest/ps", {
      method: "POST",
      headers: { authorization: "Bearer not-the-token" },
    });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  } finally {
    if (second) await second.close();
    else await first.close();
  }
});

Deno.test("a transaction that fails leaves nothing behind", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const before = await h.ps();
    const index = await h.planner.hostIndex("host-a");
    await assert.rejects(
      h.planner.store.transaction(async (tx) => {
        await tx.bumpHostIndex("host-a");
        await tx.deleteContainer("shop", "web");
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.deepEqual(await h.ps(), before);
    assert.equal(await h.planner.hostIndex("host-a"), index);
  } finally {
    await h.close();
  }
});
