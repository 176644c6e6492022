import assert from "node:assert/strict";
import * as v from "valibot";
import { type HostDesired, HostDesiredSchema } from "../../src/api/schemas.ts";
import { assertError, type Harness, openHarness, SHOP_YAML } from "./harness.ts";
import { pollUntil } from "../poll_until.ts";

/** A long-poll in flight: its answer, and whether it has come yet. */
interface Poll {
  done: () => boolean;
  answer: Promise<{ res: Response; body: HostDesired }>;
}

function poll(h: Harness, host: string, index: number, wait: string, signal?: AbortSignal): Poll {
  let finished = false;
  const answer = (async () => {
    const res = await h.app.request(
      `/api/v1/container?host=${host}&index=${index}&wait=${wait}`,
      { headers: { authorization: `Bearer ${h.token}` }, signal },
    );
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const body = v.parse(HostDesiredSchema, JSON.parse(text));
    finished = true;
    return { res, body };
  })();
  return { done: () => finished, answer };
}

/** Waits until the planner holds `count` long-polls. */
async function held(h: Harness, count: number): Promise<void> {
  await pollUntil(`${count} held long-polls`, () => h.planner.heldWaiters === count);
}

Deno.test("without index the list answers at once with the index in a header", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const res = await h.call("GET", "/container?host=host-a");
    assert.equal(res.status, 200);
    const list = await res.json();
    assert.deepEqual(list, (await h.planner.desired("host-a")).containers);
    assert.equal(list.length, 1);
    assert.equal(res.headers.get("x-launcher-index"), String(await h.planner.hostIndex("host-a")));

    const unknown = await h.call("GET", "/container?host=host-new");
    assert.equal(unknown.status, 200);
    assert.deepEqual(await unknown.json(), []);
    assert.equal(unknown.headers.get("x-launcher-index"), "0");
  } finally {
    await h.close();
  }
});

// The harness's clock stands still, so a poll answered without moving it was never held.
Deno.test("an index behind the host's answers at once", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const index = await h.planner.hostIndex("host-a");
    const { res, body } = await poll(h, "host-a", index - 1, "30s").answer;
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
    const index = await h.planner.hostIndex("host-a");
    const { body } = await poll(h, "host-a", index + 1000, "30s").answer;
    assert.equal(body.index, index);
  } finally {
    await h.close();
  }
});

Deno.test("a poll is held until a change for its host, and only that host", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const indexA = await h.planner.hostIndex("host-a");
    const pending = poll(h, "host-a", indexA, "10s");
    await held(h, 1);

    await h.up(SHOP_YAML.replace("postgres:16", "postgres:17"));
    await h.call("POST", "/state", { host: "host-a", name: "web", state: "running" });
    // Both were answered, and a wake would have ended the wait at once: it is still held.
    assert.equal(h.planner.heldWaiters, 1, "a change for host-b and a report do not wake host-a");
    assert.ok(!pending.done());

    const res = await h.call("POST", "/container/action", {
      action: "restart",
      host: "host-a",
      container: "web",
    });
    assert.equal(res.status, 202);
    const { body } = await pending.answer;
    assert.ok(body.index > indexA);
    assert.equal(body.index, await h.planner.hostIndex("host-a"));
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
    const pending = poll(h, "host-a", 0, "10s");
    await held(h, 1);
    await h.up(SHOP_YAML);
    const { body } = await pending.answer;
    assert.deepEqual(body.containers.map((c) => c.config.name), ["web"]);
  } finally {
    await h.close();
  }
});

Deno.test("a poll times out with the unchanged list", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const index = await h.planner.hostIndex("host-a");
    const before = await h.planner.desired("host-a");
    const pending = poll(h, "host-a", index, "300ms");
    await held(h, 1);
    await h.up(SHOP_YAML.replace("postgres:16", "postgres:17"));
    h.clock.advance(299);
    assert.equal(h.planner.heldWaiters, 1, "held until its wait is over");
    h.clock.advance(1);
    const { res, body } = await pending.answer;
    assert.deepEqual(body, before);
    assert.equal(res.headers.get("x-launcher-index"), String(index));
    assert.equal(h.planner.heldWaiters, 0);
  } finally {
    await h.close();
  }
});

Deno.test("wait accepts ms, s, m and plain seconds, capped by maxWaitMs", async () => {
  const h = await openHarness({ maxWaitMs: 150_000 });
  try {
    await h.up(SHOP_YAML);
    const index = await h.planner.hostIndex("host-a");
    const cases: [string, number][] = [
      ["100ms", 100],
      ["1s", 1000],
      ["2m", 120_000],
      ["30", 30_000],
      ["1h", 150_000],
    ];
    for (const [wait, ms] of cases) {
      const pending = poll(h, "host-a", index, wait);
      await held(h, 1);
      assert.deepEqual(h.clock.pending(), [ms], `wait=${wait} holds ${ms} ms`);
      h.clock.advance(ms);
      await pending.answer;
      assert.equal(h.planner.heldWaiters, 0);
    }
    await poll(h, "host-a", index, "0").answer;
    assert.deepEqual(h.clock.pending(), [], "wait=0 answers without holding");
  } finally {
    await h.close();
  }
});

Deno.test("the request's abort signal ends the wait", async () => {
  const h = await openHarness();
  try {
    const controller = new AbortController();
    const pending = poll(h, "host-a", 0, "10s", controller.signal);
    await held(h, 1);
    controller.abort();
    await pending.answer.catch(() => {});
    await held(h, 0);
    assert.deepEqual(h.clock.pending(), [], "its timer is gone too");
  } finally {
    await h.close();
  }
});

Deno.test("beyond the cap of held requests the server answers 503", async () => {
  const h = await openHarness({ maxWaiters: 2 });
  try {
    const first = poll(h, "host-a", 0, "10s");
    const second = poll(h, "host-b", 0, "10s");
    await held(h, 2);
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
  const pending = poll(h, "host-a", 0, "10s");
  await held(h, 1);
  h.planner.releaseWaiters();
  const { body } = await pending.answer;
  assert.deepEqual({ ...body, cluster: undefined }, {
    index: 0,
    containers: [],
    cluster: undefined,
  });
  await poll(h, "host-a", 0, "10s").answer;
  assert.equal(h.planner.heldWaiters, 0, "a released planner holds nothing new");
  await h.close();
});
