import assert from "node:assert/strict";
import * as v from "valibot";
import { type HostDesired, HostDesiredSchema } from "../../src/api/schemas.ts";
import { assertError, type Harness, openHarness, SHOP_YAML } from "./harness.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A long-poll in flight: its answer, and whether it has come yet. */
interface Poll {
  done: () => boolean;
  answer: Promise<{ res: Response; body: HostDesired; ms: number }>;
}

function poll(h: Harness, host: string, index: number, wait: string, signal?: AbortSignal): Poll {
  let finished = false;
  const started = performance.now();
  const answer = (async () => {
    const res = await h.app.request(
      `/api/v1/container?host=${host}&index=${index}&wait=${wait}`,
      { headers: { authorization: `Bearer ${h.token}` }, signal },
    );
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const body = v.parse(HostDesiredSchema, JSON.parse(text));
    finished = true;
    return { res, body, ms: performance.now() - started };
  })();
  return { done: () => finished, answer };
}

Deno.test("without index the list answers at once with the index in a header", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const res = await h.call("GET", "/container?host=host-a");
    assert.equal(res.status, 200);
    const list = await res.json();
    assert.deepEqual(list, h.planner.desired("host-a").containers);
    assert.equal(list.length, 1);
    assert.equal(res.headers.get("x-launcher-index"), String(h.planner.hostIndex("host-a")));

    const unknown = await h.call("GET", "/container?host=host-new");
    assert.equal(unknown.status, 200);
    assert.deepEqual(await unknown.json(), []);
    assert.equal(unknown.headers.get("x-launcher-index"), "0");
  } finally {
    await h.close();
  }
});

Deno.test("an index behind the host's answers at once", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const index = h.planner.hostIndex("host-a");
    const { res, body, ms } = await poll(h, "host-a", index - 1, "30s").answer;
    assert.ok(ms < 1000, `answered in ${ms} ms`);
    assert.equal(body.index, index);
    assert.equal(res.headers.get("x-launcher-index"), String(index));
    assert.deepEqual(body.containers.map((c) => c.config.name), ["web"]);
    assert.equal(h.planner.heldWaiters, 0);
  } finally {
    await h.close();
  }
});

Deno.test("an index ahead of the host's (a replaced store) answers at once", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const index = h.planner.hostIndex("host-a");
    const { body, ms } = await poll(h, "host-a", index + 1000, "30s").answer;
    assert.ok(ms < 1000, `answered in ${ms} ms`);
    assert.equal(body.index, index);
  } finally {
    await h.close();
  }
});

Deno.test("a poll is held until a change for its host, and only that host", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const indexA = h.planner.hostIndex("host-a");
    const held = poll(h, "host-a", indexA, "10s");
    await delay(30);
    assert.ok(!held.done(), "held");
    assert.equal(h.planner.heldWaiters, 1);

    await h.up(SHOP_YAML.replace("postgres:16", "postgres:17"));
    await h.call("POST", "/state", { host: "host-a", name: "web", state: "running" });
    await delay(30);
    assert.ok(!held.done(), "a change for host-b and a report do not wake host-a");

    const res = await h.call("POST", "/container/action", {
      action: "restart",
      host: "host-a",
      container: "web",
    });
    assert.equal(res.status, 202);
    const { body, ms } = await held.answer;
    assert.ok(ms < 5000, `woken after ${ms} ms`);
    assert.ok(body.index > indexA);
    assert.equal(body.index, h.planner.hostIndex("host-a"));
    assert.equal(body.containers[0].restartGeneration, 2);
    assert.equal(body.containers[0].state, "running");
    assert.equal(h.planner.heldWaiters, 0);
  } finally {
    await h.close();
  }
});

Deno.test("a poll on a host with nothing yet is woken by its first container", async () => {
  const h = await openHarness();
  try {
    const held = poll(h, "host-a", 0, "10s");
    await delay(20);
    assert.ok(!held.done());
    await h.up(SHOP_YAML);
    const { body } = await held.answer;
    assert.deepEqual(body.containers.map((c) => c.config.name), ["web"]);
  } finally {
    await h.close();
  }
});

Deno.test("a poll times out with the unchanged list", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const index = h.planner.hostIndex("host-a");
    const before = h.planner.desired("host-a");
    const held = poll(h, "host-a", index, "300ms");
    await delay(20);
    await h.up(SHOP_YAML.replace("postgres:16", "postgres:17"));
    const { res, body, ms } = await held.answer;
    assert.ok(ms >= 290, `held ${ms} ms`);
    assert.deepEqual(body, before);
    assert.equal(res.headers.get("x-launcher-index"), String(index));
    assert.equal(h.planner.heldWaiters, 0);
  } finally {
    await h.close();
  }
});

Deno.test("wait accepts ms, s, m and plain seconds, capped by maxWaitMs", async () => {
  const h = await openHarness({ maxWaitMs: 150 });
  try {
    await h.up(SHOP_YAML);
    const index = h.planner.hostIndex("host-a");
    for (const wait of ["100ms", "1s", "2m", "30"]) {
      const { ms } = await poll(h, "host-a", index, wait).answer;
      assert.ok(ms >= 90 && ms < 1000, `wait=${wait} held ${ms} ms`);
    }
    const { ms } = await poll(h, "host-a", index, "0").answer;
    assert.ok(ms < 90, "wait=0 answers at once");
  } finally {
    await h.close();
  }
});

Deno.test("the request's abort signal ends the wait", async () => {
  const h = await openHarness();
  try {
    const controller = new AbortController();
    const held = poll(h, "host-a", 0, "10s", controller.signal);
    await delay(20);
    assert.equal(h.planner.heldWaiters, 1);
    controller.abort();
    await held.answer;
    assert.equal(h.planner.heldWaiters, 0);
  } finally {
    await h.close();
  }
});

Deno.test("beyond the cap of held requests the server answers 503", async () => {
  const h = await openHarness({ maxWaiters: 2 });
  try {
    const first = poll(h, "host-a", 0, "10s");
    const second = poll(h, "host-b", 0, "10s");
    await delay(20);
    assert.equal(h.planner.heldWaiters, 2);
    await assertError(
      await h.call("GET", "/container?host=host-a&index=0&wait=10s"),
      503,
      "overloaded",
      /too many held requests/,
    );
    const behind = await h.call("GET", "/container?host=host-a&index=0&wait=0s");
    assert.equal(behind.status, 200, "a poll that needs no wait still answers");
    await behind.body?.cancel();
    await h.up(SHOP_YAML);
    await Promise.all([first.answer, second.answer]);
    assert.equal(h.planner.heldWaiters, 0);
  } finally {
    await h.close();
  }
});

Deno.test("closing the planner releases every held poll", async () => {
  const h = await openHarness();
  const held = poll(h, "host-a", 0, "10s");
  await delay(20);
  h.planner.releaseWaiters();
  const { body } = await held.answer;
  assert.deepEqual({ ...body, cluster: undefined }, {
    index: 0,
    containers: [],
    cluster: undefined,
  });
  const late = await poll(h, "host-a", 0, "10s").answer;
  assert.ok(late.ms < 1000, "a released planner holds nothing new");
  await h.close();
});
