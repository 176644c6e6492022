import assert from "node:assert/strict";
import { assertError, BLOG_YAML, find, openHarness, SHOP_YAML } from "./harness.ts";

Deno.test("stop, kill, restart and rm set desired, bump the generation and the host", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const expected = [
      { action: "stop", desired: "stopped", generation: 2, restartGeneration: 0 },
      { action: "kill", desired: "killed", generation: 3, restartGeneration: 0 },
      { action: "restart", desired: "running", generation: 4, restartGeneration: 4 },
      { action: "restart", desired: "running", generation: 5, restartGeneration: 5 },
      { action: "rm", desired: "removed", generation: 6, restartGeneration: 5 },
    ];
    for (const step of expected) {
      const a = await h.planner.hostIndex("host-a");
      const b = await h.planner.hostIndex("host-b");
      const body = { action: step.action, host: "host-a", container: "web" };
      const res = await h.call("POST", "/container/action", body);
      assert.equal(res.status, 202, step.action);
      assert.deepEqual(await res.json(), body);
      const web = find(await h.ps(), "shop", "web");
      assert.equal(web.desired, step.desired, step.action);
      assert.equal(web.generation, step.generation, step.action);
      assert.equal(web.restartGeneration, step.restartGeneration, step.action);
      assert.ok(await h.planner.hostIndex("host-a") > a, `${step.action} bumps host-a`);
      assert.equal(await h.planner.hostIndex("host-b"), b, `${step.action} leaves host-b`);
    }
    assert.equal(find(await h.ps(), "shop", "db").generation, 1);
  } finally {
    await h.close();
  }
});

Deno.test("a name in two manifests on one host answers 409 until --manifest is given", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    await h.up(BLOG_YAML);
    const before = await h.ps();
    const body = await assertError(
      await h.call("POST", "/container/action", {
        action: "stop",
        host: "host-a",
        container: "web",
      }),
      409,
      "conflict",
      /container web on host-a is in manifests blog, shop; pass --manifest/,
    );
    assert.equal(body.error.details, undefined);
    assert.deepEqual(await h.ps(), before);

    const res = await h.call("POST", "/container/action", {
      action: "stop",
      host: "host-a",
      container: "web",
      manifest: "blog",
    });
    assert.equal(res.status, 202);
    const after = await h.ps();
    assert.equal(find(after, "blog", "web").desired, "stopped");
    assert.equal(find(after, "shop", "web").desired, "running");
  } finally {
    await h.close();
  }
});

Deno.test("an unknown host, container or manifest answers 404", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const before = await h.ps();
    const cases = [
      { host: "host-z", container: "web", message: /container web not found on host-z/ },
      { host: "host-a", container: "nope", message: /container nope not found on host-a/ },
      { host: "host-b", container: "web", message: /container web not found on host-b/ },
      {
        host: "host-a",
        container: "web",
        manifest: "blog",
        message: /container web of manifest blog not found on host-a/,
      },
      {
        host: "host-b",
        container: "web",
        manifest: "shop",
        message: /container web of manifest shop not found on host-b/,
      },
    ];
    for (const { message, ...target } of cases) {
      await assertError(
        await h.call("POST", "/container/action", { action: "rm", ...target }),
        404,
        "not_found",
        message,
      );
    }
    assert.deepEqual(await h.ps(), before);
  } finally {
    await h.close();
  }
});
