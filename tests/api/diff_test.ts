import assert from "node:assert/strict";
import * as v from "valibot";
import { type ManifestPlan, ManifestPlanSchema } from "../../src/api/schemas.ts";
import { assertError, type Harness, openHarness, PASSWORD } from "./harness.ts";

/** One container of a test manifest, written as YAML. */
interface Item {
  name: string;
  host?: string;
  image?: string;
  extra?: string;
}

function manifest(items: Item[], name = "shop"): string {
  const lines = [`name: ${name}`, "containers:"];
  for (const item of items) {
    lines.push(`  - name: ${item.name}`);
    lines.push(`    host: ${item.host ?? "host-a"}`);
    lines.push(`    image: ${item.image ?? "busybox:1"}`);
    if (item.extra) lines.push(...item.extra.split("\n").map((l) => `    ${l}`));
  }
  return lines.join("\n") + "\n";
}

async function diff(h: Harness, yaml: string, contentType = "application/x-yaml") {
  const res = await h.call("POST", "/manifest/diff", yaml, { "content-type": contentType });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return v.parse(ManifestPlanSchema, body);
}

/** Everything a diff must leave as it was: containers, indexes, manifests, events. */
async function snapshot(h: Harness, hosts: string[]) {
  return {
    containers: await h.planner.store.allContainers(),
    manifests: await h.planner.store.allManifests(),
    indexes: await Promise.all(hosts.map((host) => h.planner.hostIndex(host))),
    lastEvent: await h.planner.store.lastEventId(),
    events: await h.planner.store.countEvents(),
  };
}

/** The plan as `up` reports it: recreate and update are both `updated`. */
function asUpResult(plan: ManifestPlan) {
  const names = (...actions: string[]) =>
    plan.containers.filter((c) => actions.includes(c.action)).map((c) => c.name);
  return {
    manifest: plan.manifest,
    created: names("create"),
    updated: names("recreate", "update"),
    unchanged: names("unchanged"),
    removed: names("remove"),
  };
}

Deno.test("diff of a new manifest plans every container as create and stores nothing", async () => {
  const h = await openHarness();
  try {
    const before = await snapshot(h, ["host-a", "host-b"]);
    const plan = await diff(h, manifest([{ name: "web" }, { name: "db", host: "host-b" }]));
    assert.deepEqual(plan, {
      manifest: "shop",
      changed: true,
      containers: [
        { name: "web", host: "host-a", action: "create", changes: [] },
        { name: "db", host: "host-b", action: "create", changes: [] },
      ],
    });
    assert.deepEqual(await snapshot(h, ["host-a", "host-b"]), before);
    const ps = await h.call("POST", "/manifest/ps", { manifest: "shop" });
    await assertError(ps, 404, "not_found");
  } finally {
    await h.close();
  }
});

Deno.test("diff and up agree on new, changed, unchanged, not running and dropped", async () => {
  const h = await openHarness();
  try {
    await h.up(manifest([
      { name: "web", extra: "environment: { MODE: prod }" },
      { name: "db", host: "host-b" },
      { name: "api" },
      { name: "worker", host: "host-b" },
      { name: "gone" },
    ]));
    // Desired not running: stopped, and already removed (then dropped: planned by neither).
    for (const [action, container] of [["stop", "api"], ["rm", "gone"]]) {
      const res = await h.call("POST", "/container/action", {
        action,
        host: "host-a",
        container,
      });
      assert.equal(res.status, 202);
    }
    const next = manifest([
      { name: "web", extra: "environment: { MODE: staging }" },
      { name: "db", host: "host-b" },
      { name: "api" },
      { name: "cache", host: "host-b" },
    ]);
    const hosts = ["host-a", "host-b"];
    const before = await snapshot(h, hosts);
    const plan = await diff(h, next);
    assert.deepEqual(await snapshot(h, hosts), before, "diff changes nothing");
    assert.deepEqual(plan.containers.map((c) => [c.name, c.action]), [
      ["web", "recreate"],
      ["db", "unchanged"],
      ["api", "update"],
      ["cache", "create"],
      ["worker", "remove"],
    ]);
    assert.deepEqual(plan.containers.find((c) => c.name === "api")?.changes, [
      { field: "desired", from: "stopped", to: "running" },
    ]);
    assert.equal(plan.changed, true);

    const result = await h.up(next);
    assert.deepEqual(result, { ...asUpResult(plan), revision: 2 });

    const again = await diff(h, next);
    assert.equal(again.changed, false);
    assert.deepEqual(again.containers.map((c) => c.action), [
      "unchanged",
      "unchanged",
      "unchanged",
      "unchanged",
    ]);
    assert.deepEqual(await h.up(next), asUpResult(again));
  } finally {
    await h.close();
  }
});

Deno.test("a recreate names each changed field with its old and new value", async () => {
  const h = await openHarness();
  try {
    await h.up(manifest([{
      name: "web",
      image: "nginx:1.27",
      extra: 'cmd: "sleep 60"\nports: ["8080:80", "9090:90"]\nenvironment: { MODE: prod, KEEP: 1 }',
    }]));
    const plan = await diff(
      h,
      manifest([{
        name: "web",
        host: "host-b",
        image: "nginx:1.28",
        // cmd and ports are spelled otherwise but mean the same: no line for them.
        extra: 'cmd: ["sleep", "60"]\nports: ["9090:90", "8080:80"]\n' +
          'environment: { MODE: staging, KEEP: "1", NEW: "a b" }',
      }]),
    );
    assert.deepEqual(plan.containers, [{
      name: "web",
      host: "host-b",
      action: "recreate",
      changes: [
        { field: "host", from: "host-a", to: "host-b" },
        { field: "image", from: "nginx:1.27", to: "nginx:1.28" },
        { field: "environment.MODE", from: "prod", to: "staging" },
        { field: "environment.NEW", to: "a b" },
      ],
    }]);

    const dropped = await diff(h, manifest([{ name: "web", image: "nginx:1.27" }]));
    assert.deepEqual(dropped.containers[0].changes, [
      { field: "cmd", from: "sleep 60" },
      { field: "ports", from: ["8080:80", "9090:90"] },
      { field: "environment", from: { MODE: "prod", KEEP: 1 } },
    ]);
  } finally {
    await h.close();
  }
});

Deno.test("a restyled spec is unchanged for diff and for up", async () => {
  const h = await openHarness();
  try {
    await h.up(manifest([{ name: "web", extra: 'cmd: "sleep 60"\nenvironment: { N: 4 }' }]));
    const restyled = manifest([{
      name: "web",
      extra: "cmd: [sleep, '60']\nenvironment: { N: '4' }",
    }]);
    const plan = await diff(h, restyled);
    assert.equal(plan.changed, false);
    assert.deepEqual(plan.containers, [
      { name: "web", host: "host-a", action: "unchanged", changes: [] },
    ]);
    assert.deepEqual((await h.up(restyled)).unchanged, ["web"]);
  } finally {
    await h.close();
  }
});

Deno.test("diff takes JSON too and refuses what up refuses", async () => {
  const h = await openHarness();
  try {
    const json = JSON.stringify({
      name: "shop",
      containers: [{ name: "web", host: "host-a", image: "busybox:1" }],
    });
    const plan = await diff(h, json, "application/json");
    assert.equal(plan.containers[0].action, "create");

    const bad = await h.call("POST", "/manifest/diff", "name: shop\ncontainers:\n  - name: x\n", {
      "content-type": "application/x-yaml",
    });
    await assertError(bad, 400, "invalid_manifest");
    const type = await h.call("POST", "/manifest/diff", "name: shop", {
      "content-type": "text/plain",
    });
    await assertError(type, 415, "unsupported_media_type");
    const empty = await h.call("POST", "/manifest/diff", " ", {
      "content-type": "application/x-yaml",
    });
    await assertError(empty, 400, "invalid_body", /request body is empty/);
  } finally {
    await h.close();
  }
});

Deno.test("a read token may diff; without a token it is 401", async () => {
  const h = await openHarness();
  try {
    const res = await h.app.request("/api/v1/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: PASSWORD, role: "read" }),
    });
    const { token } = (await res.json()) as { token: string };
    const yaml = manifest([{ name: "web" }]);
    const read = await h.app.request("/api/v1/manifest/diff", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-yaml" },
      body: yaml,
    });
    assert.equal(read.status, 200, await read.text());
    const anonymous = await h.app.request("/api/v1/manifest/diff", {
      method: "POST",
      headers: { "content-type": "application/x-yaml" },
      body: yaml,
    });
    await assertError(anonymous, 401, "unauthorized");
  } finally {
    await h.close();
  }
});

Deno.test("diff refuses a manifest on a draining host, as up does", async () => {
  const h = await openHarness();
  try {
    const yaml = manifest([{ name: "web" }]);
    await h.up(yaml);
    assert.equal((await h.call("POST", "/hosts/drain", { host: "host-a" })).status, 200);
    const send = (path: string) =>
      h.call("POST", path, yaml, { "content-type": "application/x-yaml" });
    const up = await assertError(await send("/manifest/up"), 409, "conflict");
    const plan = await assertError(await send("/manifest/diff"), 409, "conflict");
    assert.equal(plan.error.message, up.error.message);
  } finally {
    await h.close();
  }
});
