/**
 * Server-side placement over the in-process API, with agents played by the test: replicas,
 * constraints, pending with its reason, sticky placement, scaling, rescheduling of a lost host,
 * drain, and rolling updates with their batches, deadline and rollback. The clock is the test's.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import {
  type ContainerStatus,
  EventPageSchema,
  type EventRecord,
  ManifestPlanSchema,
  type ManifestSummary,
} from "../../src/api/schemas.ts";
import { type Harness, openHarness, registration } from "./harness.ts";

/** Registers hosts h1..hN (or the given names), as their agents would. */
async function registerHosts(h: Harness, names: string[], labels: Record<string, string> = {}) {
  for (const name of names) {
    const res = await h.call("POST", "/hosts/register", registration(name, { labels }));
    assert.equal(res.status, 200, await res.text());
  }
}

/** The placed containers of a manifest: instance name → host. */
async function hostsOf(h: Harness, manifest = "shop"): Promise<Record<string, string>> {
  const list = (await h.ps()).filter((c) => c.manifestName === manifest && c.desired !== "removed");
  return Object.fromEntries(list.map((c) => [c.config.name, c.host]));
}

/** Reports a state for containers as their agents would, with the spec hash they run. */
async function report(h: Harness, list: ContainerStatus[], state: string, health?: string) {
  const body = list.map((c) => ({
    host: c.host,
    name: c.config.name,
    manifest: c.manifestName,
    state,
    specHash: c.specHash,
    ...(health === undefined ? {} : { health }),
  }));
  const res = await h.call("POST", "/state", body);
  assert.ok(res.status < 300, await res.text());
}

/** Marks hosts as polling now (their agents are alive). */
async function alive(h: Harness, names: string[]) {
  for (const name of names) await h.planner.hosts.seen(name);
}

async function events(h: Harness): Promise<EventRecord[]> {
  const res = await h.call("GET", "/events?limit=1000");
  return v.parse(EventPageSchema, await res.json()).events;
}

async function summary(h: Harness, name = "shop"): Promise<ManifestSummary> {
  const res = await h.call("GET", "/manifests");
  const list = (await res.json()) as ManifestSummary[];
  const found = list.find((m) => m.name === name);
  assert.ok(found, `${name} is listed`);
  return found;
}

const WEB = (replicas: number, extra = "") =>
  `name: shop
containers:
  - name: web
    image: nginx:1.27
    replicas: ${replicas}
${extra}`;

Deno.test("replicas spread over hosts, and re-applying moves nothing", async () => {
  const h = await openHarness();
  try {
    await registerHosts(h, ["h1", "h2", "h3"]);
    const result = await h.up(WEB(3));
    assert.deepEqual(result.created, ["web.1", "web.2", "web.3"]);
    const placed = await hostsOf(h);
    assert.deepEqual(new Set(Object.values(placed)), new Set(["h1", "h2", "h3"]));
    const again = await h.up(WEB(3));
    assert.deepEqual(again.unchanged, ["web.1", "web.2", "web.3"]);
    assert.deepEqual(await hostsOf(h), placed);
    // A changed spec keeps its host while it still fits.
    await h.up(WEB(3).replace("nginx:1.27", "nginx:1.28"));
    assert.deepEqual(await hostsOf(h), placed);
  } finally {
    await h.close();
  }
});

Deno.test("a label constraint and a host list keep replicas to the hosts that match", async () => {
  const h = await openHarness();
  try {
    await registerHosts(h, ["a1", "a2"], { zone: "eu-1" });
    await registerHosts(h, ["b1", "b2"], { zone: "us-1" });
    await h.up(WEB(2, "    placement:\n      labels: { zone: us-1 }\n"));
    assert.deepEqual(new Set(Object.values(await hostsOf(h))), new Set(["b1", "b2"]));
    await h.up(`name: other
containers:
  - name: api
    image: nginx:1.27
    placement: { hosts: [a2] }
`);
    assert.deepEqual(await hostsOf(h, "other"), { "api.1": "a2" });
  } finally {
    await h.close();
  }
});

Deno.test("a fixed port keeps replicas apart; the one left over waits until a host registers", async () => {
  const h = await openHarness();
  try {
    await registerHosts(h, ["h1", "h2", "h3"]);
    await h.up(WEB(4, '    ports: ["8080:80"]\n'));
    const list = (await h.ps()).filter((c) => c.manifestName === "shop");
    const waiting = list.filter((c) => c.host === "");
    assert.equal(waiting.length, 1);
    assert.equal(waiting[0].state, "pending");
    assert.equal(waiting[0].error, "no host fits: 3 have port 8080/tcp taken");
    assert.equal(new Set(list.filter((c) => c.host !== "").map((c) => c.host)).size, 3);
    await registerHosts(h, ["h4"]);
    const after = await hostsOf(h);
    assert.equal(after[waiting[0].config.name], "h4");
  } finally {
    await h.close();
  }
});

Deno.test("diff shows where new replicas would go and changes nothing", async () => {
  const h = await openHarness();
  try {
    await registerHosts(h, ["h1", "h2"]);
    const res = await h.call("POST", "/manifest/diff", WEB(3, '    ports: ["8080:80"]\n'), {
      "content-type": "application/x-yaml",
    });
    const plan = v.parse(ManifestPlanSchema, await res.json());
    assert.deepEqual(plan.containers.map((c) => [c.name, c.action]), [
      ["web.1", "create"],
      ["web.2", "create"],
      ["web.3", "create"],
    ]);
    assert.deepEqual(
      new Set(plan.containers.slice(0, 2).map((c) => c.host)),
      new Set(["h1", "h2"]),
    );
    assert.equal(plan.containers[2].host, "");
    assert.equal(plan.containers[2].pending, "no host fits: 2 have port 8080/tcp taken");
    assert.equal((await h.ps()).length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("scaling changes only the difference: up adds the lowest free, down removes the highest", async () => {
  const h = await openHarness();
  try {
    await registerHosts(h, ["h1", "h2", "h3"]);
    await h.up(WEB(3));
    const before = await hostsOf(h);
    const up = await h.up(WEB(5));
    assert.deepEqual(up.created, ["web.4", "web.5"]);
    assert.deepEqual(up.unchanged, ["web.1", "web.2", "web.3"]);
    const down = await h.up(WEB(2));
    assert.deepEqual(down.removed.sort(), ["web.3", "web.4", "web.5"]);
    const left = await hostsOf(h);
    assert.deepEqual(left, { "web.1": before["web.1"], "web.2": before["web.2"] });
  } finally {
    await h.close();
  }
});

Deno.test("a host lost for longer than reschedule_after loses its placed containers to others", async () => {
  const h = await openHarness({ rescheduleAfterMs: 60_000 });
  try {
    await registerHosts(h, ["h1", "h2", "h3"]);
    await h.up(WEB(2) + `  - name: db\n    host: h1\n    image: postgres:16\n`);
    await h.up(
      "reschedule_after: 5s\n" + WEB(2) + `  - name: db\n    host: h1\n    image: postgres:16\n`,
    );
    const before = await hostsOf(h);
    const lost = before["web.1"];
    const others = ["h1", "h2", "h3"].filter((name) => name !== lost);
    // The lost host's agent stops calling; the others go on. 3 s of silence makes it offline.
    h.clock.advance(4000);
    await alive(h, others);
    await h.planner.tick();
    assert.equal((await hostsOf(h))["web.1"], lost, "not moved before reschedule_after");
    h.clock.advance(5000);
    await alive(h, others);
    await h.planner.tick();
    const after = await hostsOf(h);
    assert.notEqual(after["web.1"], lost);
    assert.ok(others.includes(after["web.1"]));
    assert.equal(after.db, "h1", "a pinned container stays");
    const moved = (await events(h)).filter((e) => e.action === "reschedule");
    assert.deepEqual(moved.map((e) => [e.container, e.from, e.to]), [
      ["web.1", lost, after["web.1"]],
    ]);
  } finally {
    await h.close();
  }
});

Deno.test("drain starts a placed container elsewhere and removes the old one once it runs", async () => {
  const h = await openHarness();
  try {
    await registerHosts(h, ["h1", "h2"]);
    await h.up(WEB(1));
    const [first] = (await h.ps()).filter((c) => c.manifestName === "shop");
    const from = first.host;
    const res = await h.call("POST", "/hosts/drain", { host: from });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(body.moved, ["shop/web.1"]);
    let list = (await h.ps()).filter((c) => c.manifestName === "shop");
    const fresh = list.find((c) => c.config.name === "web.2");
    assert.ok(fresh);
    assert.notEqual(fresh.host, from);
    assert.equal(list.find((c) => c.config.name === "web.1")?.desired, "running");
    await h.planner.tick();
    assert.equal(
      (await h.ps()).find((c) => c.config.name === "web.1")?.desired,
      "running",
      "the old one stays until its replacement runs",
    );
    await report(h, [fresh], "running");
    await h.planner.tick();
    list = (await h.ps()).filter((c) => c.manifestName === "shop");
    assert.equal(list.find((c) => c.config.name === "web.1")?.desired, "removed");
  } finally {
    await h.close();
  }
});

const ROLLING = (image: string, extra = "") =>
  `name: shop
update:
  parallel: 1
  min_healthy: 10s
  deadline: 1m
  on_failure: rollback
${extra}containers:
  - name: web
    image: ${image}
    replicas: 3
`;

Deno.test("a rolling update replaces one batch at a time and waits min_healthy between them", async () => {
  const h = await openHarness();
  try {
    await registerHosts(h, ["h1", "h2", "h3"]);
    await h.up(ROLLING("nginx:1.27"));
    await report(h, await h.ps(), "running");
    await h.up(ROLLING("nginx:1.28"));
    const images = async () =>
      Object.fromEntries((await h.ps()).map((c) => [c.config.name, c.config.image]));
    // Nothing replaced until the scheduler runs the first batch.
    await h.planner.tick();
    assert.deepEqual(await images(), {
      "web.1": "nginx:1.28",
      "web.2": "nginx:1.27",
      "web.3": "nginx:1.27",
    });
    assert.equal((await summary(h)).rollout?.batch, 1);
    await report(h, (await h.ps()).filter((c) => c.config.name === "web.1"), "running");
    await h.planner.tick();
    h.clock.advance(9000);
    await alive(h, ["h1", "h2", "h3"]);
    await h.planner.tick();
    assert.equal((await images())["web.2"], "nginx:1.27", "min_healthy not reached yet");
    h.clock.advance(1000);
    await alive(h, ["h1", "h2", "h3"]);
    await h.planner.tick();
    await h.planner.tick();
    assert.equal((await images())["web.2"], "nginx:1.28");
    for (const name of ["web.2", "web.3"]) {
      await report(h, (await h.ps()).filter((c) => c.config.name === name), "running");
      await h.planner.tick();
      h.clock.advance(10_000);
      await alive(h, ["h1", "h2", "h3"]);
      await h.planner.tick();
      await h.planner.tick();
    }
    const rollout = (await summary(h)).rollout;
    assert.equal(rollout?.status, "succeeded");
    const batches = (await events(h)).filter((e) => e.kind === "rollout").map((e) => e.action);
    assert.deepEqual(batches, ["start", "batch", "batch", "batch", "succeeded"]);
  } finally {
    await h.close();
  }
});

Deno.test("a batch past its deadline rolls back to the previous spec", async () => {
  const h = await openHarness();
  try {
    await registerHosts(h, ["h1", "h2", "h3"]);
    await h.up(ROLLING("nginx:1.27"));
    await report(h, await h.ps(), "running");
    await h.up(ROLLING("nginx:bad"));
    await h.planner.tick();
    const [broken] = (await h.ps()).filter((c) => c.config.name === "web.1");
    await h.call("POST", "/state", {
      host: broken.host,
      name: "web.1",
      manifest: "shop",
      state: "failed",
      error: "pull access denied",
      specHash: broken.specHash,
    });
    h.clock.advance(61_000);
    await alive(h, ["h1", "h2", "h3"]);
    await h.planner.tick();
    const rollout = (await summary(h)).rollout;
    assert.equal(rollout?.status, "rolled-back");
    assert.equal(rollout?.failed, "web.1");
    assert.match(
      rollout?.error ?? "",
      /batch 1 of 3 missed its deadline of 1m: web\.1 is failed: pull access denied/,
    );
    const images = (await h.ps()).map((c) => c.config.image);
    assert.deepEqual(images, ["nginx:1.27", "nginx:1.27", "nginx:1.27"]);
  } finally {
    await h.close();
  }
});

Deno.test("a rollout survives a server restart and goes on where it was", async () => {
  const first = await openHarness();
  const { location, token } = first;
  await registerHosts(first, ["h1", "h2", "h3"]);
  await first.up(ROLLING("nginx:1.27"));
  await report(first, await first.ps(), "running");
  const result = await first.up(ROLLING("nginx:1.28"));
  assert.equal(result.rollout, true);
  await first.planner.tick();
  await first.close(true);
  const h = await openHarness({ location, token });
  try {
    await registerHosts(h, ["h1", "h2", "h3"]);
    assert.equal((await summary(h)).rollout?.batch, 1);
    await report(h, (await h.ps()).filter((c) => c.config.name === "web.1"), "running");
    await h.planner.tick();
    h.clock.advance(10_000);
    await alive(h, ["h1", "h2", "h3"]);
    await h.planner.tick();
    const rollout = (await summary(h)).rollout;
    assert.equal(rollout?.batch, 2, "the second batch started after the restart");
    assert.equal(rollout?.done, 1);
  } finally {
    await h.close();
  }
});

Deno.test("start-first runs the new copy beside the old one and removes the old once it runs", async () => {
  const h = await openHarness();
  try {
    await registerHosts(h, ["h1", "h2"]);
    const yaml = (image: string) =>
      ROLLING(image).replace("  parallel: 1\n", "  parallel: 1\n  order: start-first\n")
        .replace("replicas: 3", "replicas: 1");
    await h.up(yaml("nginx:1.27"));
    await report(h, await h.ps(), "running");
    await h.up(yaml("nginx:1.28"));
    await h.planner.tick();
    let list = await h.ps();
    const byName = Object.fromEntries(list.map((c) => [c.config.name, c]));
    assert.equal(byName["web.1"].config.image, "nginx:1.27");
    assert.equal(byName["web.1"].desired, "running");
    assert.equal(byName["web.2"].config.image, "nginx:1.28");
    await report(h, [byName["web.2"]], "running");
    await h.planner.tick();
    list = await h.ps();
    assert.equal(list.find((c) => c.config.name === "web.1")?.desired, "removed");
    h.clock.advance(10_000);
    await alive(h, ["h1", "h2"]);
    await h.planner.tick();
    assert.equal((await summary(h)).rollout?.status, "succeeded");
  } finally {
    await h.close();
  }
});

Deno.test("a container waiting for a host is forgotten at once when it is no longer wanted", async () => {
  const h = await openHarness();
  try {
    await registerHosts(h, ["h1"]);
    await h.up(WEB(2, '    ports: ["8080:80"]\n'));
    const waiting = (await h.ps()).filter((c) => c.host === "");
    assert.equal(waiting.length, 1);
    const scaled = await h.up(WEB(1, '    ports: ["8080:80"]\n'));
    assert.deepEqual(scaled.removed, [waiting[0].config.name]);
    assert.deepEqual(Object.keys(await hostsOf(h)), ["web.1"]);
    await h.up(WEB(2, '    ports: ["8080:80"]\n'));
    const res = await h.call("POST", "/manifest/down", { manifest: "shop" });
    assert.equal(res.status, 202);
    assert.deepEqual(
      (await h.ps()).map((c) => [c.config.name, c.host, c.desired]),
      [["web.1", "h1", "removed"]],
      "the waiting one is gone; the placed one waits for its agent",
    );
  } finally {
    await h.close();
  }
});
