/**
 * Hosts: registration, liveness (online while polling and for 3 intervals after, `unknown`
 * containers while offline), drain and remove, over the in-process API with a clock of our own.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import {
  type HostDesired,
  HostDesiredSchema,
  type HostRegistration,
  type HostStatus,
  HostStatusSchema,
} from "../../src/api/schemas.ts";
import type { ManualClock } from "../manual_clock.ts";
import {
  assertError,
  find,
  type Harness,
  openHarness,
  registration,
  SHOP_YAML,
} from "./harness.ts";
import { pollUntil } from "../poll_until.ts";

/** A harness whose host liveness runs on a clock the test moves. */
async function withClock(): Promise<{ h: Harness; clock: ManualClock }> {
  const h = await openHarness();
  return { h, clock: h.clock };
}

async function register(h: Harness, r: HostRegistration): Promise<HostStatus> {
  const res = await h.call("POST", "/hosts/register", r);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return v.parse(HostStatusSchema, body);
}

async function hosts(h: Harness): Promise<Map<string, HostStatus>> {
  const res = await h.call("GET", "/hosts");
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return new Map(v.parse(v.array(HostStatusSchema), body).map((s) => [s.name, s]));
}

/** The agent's view: one long-poll that answers at once. */
async function agentPoll(h: Harness, host: string): Promise<HostDesired> {
  const res = await h.call("GET", `/container?host=${host}&index=0&wait=0`);
  assert.equal(res.status, 200);
  return v.parse(HostDesiredSchema, await res.json());
}

async function report(h: Harness, host: string, name: string, state: string): Promise<void> {
  const res = await h.call("POST", "/state", { host, name, manifest: "shop", state });
  assert.equal(res.status, 204, await res.text());
}

Deno.test("a registered host is listed with its facts and labels", async () => {
  const { h } = await withClock();
  try {
    const status = await register(h, registration("host-a"));
    assert.equal(status.status, "online");
    const list = await hosts(h);
    const a = list.get("host-a");
    assert.ok(a);
    assert.equal(a.status, "online");
    assert.equal(a.registered, true);
    assert.equal(a.engineVersion, "20.10.24");
    assert.equal(a.os, "linux");
    assert.equal(a.arch, "amd64");
    assert.equal(a.cpus, 4);
    assert.equal(a.memory, 8 * 1024 ** 3);
    assert.equal(a.agentVersion, "0.1.0");
    assert.equal(a.intervalMs, 1000);
    assert.deepEqual(a.labels, { zone: "eu-1" });
    assert.deepEqual(a.containers, { running: 0, total: 0 });

    const again = await register(h, registration("host-a", { labels: { zone: "eu-2" } }));
    assert.equal(again.registeredAt, a.registeredAt, "the first registration time stays");
    assert.deepEqual(again.labels, { zone: "eu-2" });
  } finally {
    await h.close();
  }
});

Deno.test("a registration is validated at the door", async () => {
  const { h } = await withClock();
  try {
    const bad = [
      { ...registration("host-a"), labels: { "-bad": "x" } },
      { ...registration("host-a"), labels: { zone: "a\nb" } },
      { ...registration("host-a"), intervalMs: 0 },
      { ...registration("host-a"), cpus: -1 },
      { ...registration("host-a"), extra: true },
      { ...registration("host-a"), host: "bad host" },
    ];
    for (const body of bad) {
      await assertError(await h.call("POST", "/hosts/register", body), 400, "invalid_body");
    }
    assert.equal((await hosts(h)).size, 0, "nothing was stored");
  } finally {
    await h.close();
  }
});

Deno.test("the long-poll says registered once the host is, so agents know to register", async () => {
  const { h } = await withClock();
  try {
    assert.equal((await agentPoll(h, "host-a")).registered, undefined);
    await register(h, registration("host-a"));
    assert.equal((await agentPoll(h, "host-a")).registered, true);
  } finally {
    await h.close();
  }
});

Deno.test("a host is offline after 3 missed intervals; a held poll counts as seen now", async () => {
  const { h, clock } = await withClock();
  try {
    await register(h, registration("host-a", { intervalMs: 1000 }));
    clock.advance(2900);
    assert.equal((await hosts(h)).get("host-a")?.status, "online");
    clock.advance(200);
    const offline = (await hosts(h)).get("host-a");
    assert.equal(offline?.status, "offline");
    assert.equal(offline?.online, false);

    const controller = new AbortController();
    const held = Promise.resolve(h.app.request("/api/v1/container?host=host-a&index=0&wait=60s", {
      headers: { authorization: `Bearer ${h.token}` },
      signal: controller.signal,
    }));
    await pollUntil("the poll to be held", () => h.planner.heldWaiters === 1);
    clock.advance(59_000);
    const polling = (await hosts(h)).get("host-a");
    assert.equal(polling?.status, "online", "a host whose agent holds a poll is online");
    assert.equal(polling?.lastSeen, new Date(clock.now()).toISOString());

    controller.abort();
    await held.then((res) => res.body?.cancel()).catch(() => {});
    await pollUntil("the poll to be released", () => h.planner.heldWaiters === 0);
    assert.equal((await hosts(h)).get("host-a")?.status, "online");
    clock.advance(3001);
    assert.equal((await hosts(h)).get("host-a")?.status, "offline");
  } finally {
    await h.close();
  }
});

Deno.test("containers of an offline host show unknown in ps and come back with it", async () => {
  const { h, clock } = await withClock();
  try {
    await h.up(SHOP_YAML);
    await register(h, registration("host-a"));
    await report(h, "host-a", "web", "running");
    assert.equal(find(await h.ps(), "shop", "web").state, "running");

    clock.advance(3001);
    const ps = await h.ps();
    assert.equal(find(ps, "shop", "web").state, "unknown");
    assert.equal(find(ps, "shop", "db").state, "pending", "a host never seen keeps pending");
    const stored = (await agentPoll(h, "host-a")).containers[0];
    assert.equal(stored.state, "running", "the stored state is kept (and the poll saw the host)");
    assert.equal(find(await h.ps(), "shop", "web").state, "running", "back with its agent");

    const list = await hosts(h);
    assert.deepEqual(list.get("host-a")?.containers, { running: 1, total: 1 });
    assert.equal(list.get("host-b")?.status, "offline", "a host named by a container is listed");
    assert.equal(list.get("host-b")?.registered, false);
    assert.equal(list.get("host-b")?.lastSeen, undefined);
  } finally {
    await h.close();
  }
});

Deno.test("a drained host takes no new containers and its containers are removed", async () => {
  const { h } = await withClock();
  try {
    await h.up(SHOP_YAML);
    await register(h, registration("host-a"));
    const index = await h.planner.hostIndex("host-a");
    const res = await h.call("POST", "/hosts/drain", { host: "host-a" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { host: "host-a", removed: ["shop/web"], moved: [] });
    assert.ok(await h.planner.hostIndex("host-a") > index, "the host's agent is woken");
    assert.equal(find(await h.ps(), "shop", "web").desired, "removed");
    assert.equal((await hosts(h)).get("host-a")?.status, "draining");
    assert.equal((await hosts(h)).get("host-a")?.draining, true);

    const before = await h.ps();
    const blog = await h.call(
      "POST",
      "/manifest/up",
      "name: blog\ncontainers:\n  - name: web\n" +
        "    host: host-a\n    image: httpd:2.4\n",
      { "content-type": "application/x-yaml" },
    );
    await assertError(blog, 409, "conflict", /host host-a is draining/);
    const again = await h.call("POST", "/manifest/up", SHOP_YAML, {
      "content-type": "application/x-yaml",
    });
    await assertError(again, 409, "conflict", /host-a/);
    assert.deepEqual(await h.ps(), before, "nothing was stored");
    await assertError(await h.call("POST", "/manifest/ps", { manifest: "blog" }), 404, "not_found");

    const restart = await h.call("POST", "/container/action", {
      action: "restart",
      host: "host-a",
      container: "web",
    });
    await assertError(restart, 409, "conflict", /draining/);
    const rm = await h.call("POST", "/container/action", {
      action: "rm",
      host: "host-a",
      container: "web",
    });
    assert.equal(rm.status, 202, "removals are still taken");

    const register2 = await register(h, registration("host-a"));
    assert.equal(register2.draining, true, "registering again does not undo a drain");
  } finally {
    await h.close();
  }
});

Deno.test("a host is removed only once it has no containers", async () => {
  const { h } = await withClock();
  try {
    await h.up(SHOP_YAML);
    await register(h, registration("host-a"));
    await assertError(
      await h.call("POST", "/hosts/remove", { host: "host-a" }),
      409,
      "conflict",
      /host host-a still has 1 container \(shop\/web\): drain it/,
    );
    await h.call("POST", "/hosts/drain", { host: "host-a" });
    await report(h, "host-a", "web", "removed");
    const res = await h.call("POST", "/hosts/remove", { host: "host-a" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { host: "host-a" });
    assert.equal((await hosts(h)).has("host-a"), false);
    assert.equal((await agentPoll(h, "host-a")).registered, undefined, "its agent registers again");

    await assertError(
      await h.call("POST", "/hosts/remove", { host: "nowhere" }),
      404,
      "not_found",
      /host nowhere not found/,
    );
    await assertError(
      await h.call("POST", "/hosts/drain", { host: "nowhere" }),
      404,
      "not_found",
    );
    await assertError(await h.call("POST", "/hosts/drain", {}), 400, "invalid_body");
  } finally {
    await h.close();
  }
});

Deno.test("force removes a drained, offline host with what is left on it", async () => {
  const { h, clock } = await withClock();
  try {
    await h.up(SHOP_YAML);
    await register(h, registration("host-a"));
    const force = () => h.call("POST", "/hosts/remove", { host: "host-a", force: true });
    await assertError(await force(), 409, "conflict", /must be drained and offline/);
    await h.call("POST", "/hosts/drain", { host: "host-a" });
    await assertError(await force(), 409, "conflict", /must be drained and offline/);
    clock.advance(3001);
    assert.equal((await force()).status, 200);
    assert.equal((await hosts(h)).has("host-a"), false);
    assert.deepEqual((await h.ps()).map((c) => c.config.name), ["db"]);
  } finally {
    await h.close();
  }
});

Deno.test("registrations, drains and last-seen times survive a restart", async () => {
  const first = await openHarness();
  await register(first, registration("host-a", { labels: { rack: "r1" } }));
  await first.call("POST", "/hosts/drain", { host: "host-a" });
  await first.close(true);
  const h = await openHarness({ location: first.location, token: first.token });
  try {
    const a = (await hosts(h)).get("host-a");
    assert.equal(a?.registered, true);
    assert.equal(a?.draining, true);
    assert.deepEqual(a?.labels, { rack: "r1" });
    assert.ok(a?.lastSeen, "the last-seen time was stored");
    assert.equal(a?.online, true, "agents get time to reconnect after a restart");
  } finally {
    await h.close();
  }
});

Deno.test("an agent token registers its own host only", async () => {
  const { h } = await withClock();
  try {
    const res = await h.call("POST", "/tokens", { role: "agent", host: "host-a" });
    const { token } = await res.json() as { token: string };
    const send = (r: HostRegistration) =>
      h.app.request("/api/v1/hosts/register", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(r),
      });
    assert.equal((await send(registration("host-a"))).status, 200);
    await assertError(await send(registration("host-b")), 403, "forbidden");
  } finally {
    await h.close();
  }
});
