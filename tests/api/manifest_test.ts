import assert from "node:assert/strict";
import { runManifest } from "../../src/cli/run_manifest.ts";
import { assertError, BLOG_YAML, find, openHarness, SHOP_YAML } from "./harness.ts";

Deno.test("up creates every container: desired running, state pending, generation 1", async () => {
  const h = await openHarness();
  try {
    assert.equal(await h.planner.hostIndex("host-a"), 0);
    const result = await h.up(SHOP_YAML);
    assert.deepEqual(result, {
      manifest: "shop",
      created: ["web", "db"],
      updated: [],
      unchanged: [],
      removed: [],
      revision: 1,
    });
    const list = await h.ps();
    assert.deepEqual(list.map((c) => c.config.name), ["db", "web"], "ordered by name");
    const web = find(list, "shop", "web");
    assert.equal(web.host, "host-a");
    assert.equal(web.desired, "running");
    assert.equal(web.state, "pending");
    assert.equal(web.generation, 1);
    assert.equal(web.restartGeneration, 0);
    assert.deepEqual(web.config, {
      name: "web",
      host: "host-a",
      image: "nginx:1.27",
      ports: ["8080:80"],
    });
    assert.ok(web.specHash.length > 0);
    assert.ok(!Number.isNaN(Date.parse(web.createdAt)));
    assert.equal(web.createdAt, web.updatedAt);
    for (const key of ["containerId", "exitCode", "error", "health"]) {
      assert.ok(!(key in web), `${key} is omitted, not null`);
    }
    assert.ok(await h.planner.hostIndex("host-a") > 0);
    assert.ok(await h.planner.hostIndex("host-b") > 0);
    assert.notEqual(await h.planner.hostIndex("host-a"), await h.planner.hostIndex("host-b"));
  } finally {
    await h.close();
  }
});

Deno.test("re-applying the same manifest changes nothing and bumps no index", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const before = await h.ps();
    const indexes = [await h.planner.hostIndex("host-a"), await h.planner.hostIndex("host-b")];
    const result = await h.up(SHOP_YAML);
    assert.deepEqual(result.unchanged, ["web", "db"]);
    assert.deepEqual([result.created, result.updated, result.removed], [[], [], []]);
    assert.deepEqual(await h.ps(), before);
    assert.deepEqual(
      [await h.planner.hostIndex("host-a"), await h.planner.hostIndex("host-b")],
      indexes,
    );
  } finally {
    await h.close();
  }
});

Deno.test("a changed spec is updated: new hash, state pending, observed fields cleared", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const report = {
      host: "host-a",
      name: "web",
      state: "running",
      containerId: "abc123",
      health: "healthy",
    };
    assert.equal((await h.call("POST", "/state", report)).status, 204);
    const before = find(await h.ps(), "shop", "web");
    const indexB = await h.planner.hostIndex("host-b");
    const indexA = await h.planner.hostIndex("host-a");

    const result = await h.up(SHOP_YAML.replace("nginx:1.27", "nginx:1.28"));
    assert.deepEqual(result.updated, ["web"]);
    assert.deepEqual(result.unchanged, ["db"]);
    const web = find(await h.ps(), "shop", "web");
    assert.notEqual(web.specHash, before.specHash);
    assert.equal(web.config.image, "nginx:1.28");
    assert.equal(web.state, "pending");
    assert.equal(web.generation, 2);
    assert.equal(web.containerId, undefined);
    assert.equal(web.health, undefined);
    assert.equal(web.createdAt, before.createdAt);
    assert.ok(await h.planner.hostIndex("host-a") > indexA, "host-a moved on");
    assert.equal(await h.planner.hostIndex("host-b"), indexB, "host-b did not");
  } finally {
    await h.close();
  }
});

Deno.test("moving a container to another host bumps both hosts", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const [a, b] = [await h.planner.hostIndex("host-a"), await h.planner.hostIndex("host-b")];
    const moved = SHOP_YAML.replace("host: host-a", "host: host-c");
    assert.deepEqual((await h.up(moved)).updated, ["web"]);
    assert.ok(await h.planner.hostIndex("host-a") > a, "the old host learns it must drop web");
    assert.ok(await h.planner.hostIndex("host-c") > 0, "the new host learns it must run web");
    assert.equal(await h.planner.hostIndex("host-b"), b);
    assert.equal(find(await h.ps(), "shop", "web").host, "host-c");
    assert.equal((await h.planner.desired("host-a")).containers.length, 0);
    assert.equal((await h.planner.desired("host-c")).containers[0].config.name, "web");
  } finally {
    await h.close();
  }
});

Deno.test("a container dropped from the manifest is desired removed", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const a = await h.planner.hostIndex("host-a");
    const b = await h.planner.hostIndex("host-b");
    const onlyWeb = SHOP_YAML.slice(0, SHOP_YAML.indexOf("  - name: db"));
    const result = await h.up(onlyWeb);
    assert.deepEqual(result.removed, ["db"]);
    assert.deepEqual(result.unchanged, ["web"]);
    const db = find(await h.ps(), "shop", "db");
    assert.equal(db.desired, "removed");
    assert.equal(db.generation, 2);
    assert.ok(await h.planner.hostIndex("host-b") > b);
    assert.equal(await h.planner.hostIndex("host-a"), a);
    assert.deepEqual((await h.up(onlyWeb)).removed, [], "removed once only");
    assert.equal(find(await h.ps(), "shop", "db").generation, 2);
  } finally {
    await h.close();
  }
});

Deno.test("down marks every container removed and up brings them back", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const a = await h.planner.hostIndex("host-a");
    const b = await h.planner.hostIndex("host-b");
    const res = await h.call("POST", "/manifest/down", { manifest: "shop" });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { manifest: "shop" });
    for (const c of await h.ps()) {
      assert.equal(c.desired, "removed");
      assert.equal(c.generation, 2);
    }
    assert.ok(await h.planner.hostIndex("host-a") > a);
    assert.ok(await h.planner.hostIndex("host-b") > b);

    const again = await h.up(SHOP_YAML);
    assert.deepEqual(again.updated, ["web", "db"]);
    for (const c of await h.ps()) {
      assert.equal(c.desired, "running");
      assert.equal(c.generation, 3);
    }
  } finally {
    await h.close();
  }
});

Deno.test("ps lists one manifest or all, ordered by manifest then name", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    await h.up(BLOG_YAML);
    const all = await h.ps();
    assert.deepEqual(all.map((c) => `${c.manifestName}/${c.config.name}`), [
      "blog/web",
      "shop/db",
      "shop/web",
    ]);
    const shop = await h.call("POST", "/manifest/ps", { manifest: "shop" });
    assert.equal(shop.status, 200);
    assert.deepEqual(await shop.json(), all.slice(1));
    const empty = await h.call("POST", "/manifest/ps");
    assert.equal(empty.status, 200);
    assert.deepEqual(await empty.json(), all, "an empty body lists everything");
    const emptyJson = await h.call("POST", "/manifest/ps", "", {
      "content-type": "application/json",
    });
    assert.deepEqual(await emptyJson.json(), all);
    await assertError(
      await h.call("POST", "/manifest/ps", { manifest: "nope" }),
      404,
      "not_found",
      /manifest nope/,
    );
  } finally {
    await h.close();
  }
});

Deno.test("a manifest may be sent as JSON", async () => {
  const h = await openHarness();
  try {
    const manifest = {
      name: "api",
      containers: [{ name: "app", host: "host-a", image: "app:1", cmd: ["serve", "--port=80"] }],
    };
    const result = await h.up(JSON.stringify(manifest), "application/json; charset=utf-8");
    assert.deepEqual(result.created, ["app"]);
    assert.deepEqual(find(await h.ps(), "api", "app").config, manifest.containers[0]);
    assert.deepEqual((await h.up(JSON.stringify(manifest), "application/json")).unchanged, [
      "app",
    ]);
  } finally {
    await h.close();
  }
});

Deno.test("the manifest of launcher run is accepted as JSON, run once", async () => {
  const h = await openHarness();
  try {
    const manifest = runManifest({
      name: "job",
      image: "busybox:1.36",
      host: "host-a",
      env: ["MODE=once"],
      publish: ["8080:80"],
      cmd: ["sh", "-c", "echo hi"],
    });
    assert.deepEqual((await h.up(JSON.stringify(manifest), "application/json")).created, ["job"]);
    const job = find(await h.ps(), "job", "job");
    assert.deepEqual(job.normalized.restart, { name: "no" });
    assert.deepEqual(job.normalized.cmd, ["sh", "-c", "echo hi"]);
    assert.deepEqual(job.normalized.environment, { MODE: "once" });
  } finally {
    await h.close();
  }
});

Deno.test("text/yaml and application/yaml are YAML too", async () => {
  const h = await openHarness();
  try {
    assert.deepEqual((await h.up(SHOP_YAML, "text/yaml")).created, ["web", "db"]);
    assert.deepEqual((await h.up(SHOP_YAML, "application/yaml; charset=utf-8")).unchanged, [
      "web",
      "db",
    ]);
  } finally {
    await h.close();
  }
});

Deno.test("an empty manifest is stored, lists nothing and is forgotten at once by down", async () => {
  const h = await openHarness();
  try {
    const result = await h.up("name: empty\ncontainers: []\n");
    assert.deepEqual(result, {
      manifest: "empty",
      created: [],
      updated: [],
      unchanged: [],
      removed: [],
    });
    const res = await h.call("POST", "/manifest/ps", { manifest: "empty" });
    assert.deepEqual(await res.json(), []);
    assert.equal((await h.call("POST", "/manifest/down", { manifest: "empty" })).status, 202);
    await assertError(
      await h.call("POST", "/manifest/ps", { manifest: "empty" }),
      404,
      "not_found",
      /manifest empty/,
    );
  } finally {
    await h.close();
  }
});
