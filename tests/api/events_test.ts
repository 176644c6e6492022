import assert from "node:assert/strict";
import * as v from "valibot";
import { type EventPage, EventPageSchema, type EventRecord } from "../../src/api/schemas.ts";
import { parseManifest } from "../../src/manifest/parse.ts";
import { Planner } from "../../src/server/planner.ts";
import { openStore } from "../../src/server/store/store.ts";
import { ManualClock } from "../manual_clock.ts";
import { assertError, type Harness, openHarness, PASSWORD, SHOP_YAML } from "./harness.ts";
import { pollUntil } from "../poll_until.ts";

const DAY = 86_400_000;

async function events(h: Harness, query = ""): Promise<EventPage> {
  const res = await h.call("GET", `/events${query}`);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return v.parse(EventPageSchema, body);
}

/** The fields a test compares, without id and time. */
function brief(e: EventRecord) {
  const { id: _id, time: _time, actor: _actor, ...rest } = e;
  return rest;
}

async function action(h: Harness, body: Record<string, string>): Promise<void> {
  const res = await h.call("POST", "/container/action", body);
  assert.equal(res.status, 202, await res.text());
}

async function report(h: Harness, body: unknown, token = h.token): Promise<void> {
  const res = await h.app.request("/api/v1/state", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.status === 200 || res.status === 204, text);
}

/** A token with a role, and its id as `GET /tokens` lists it. */
async function tokenWith(h: Harness, scope: Record<string, string>) {
  const res = await h.app.request("/api/v1/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ password: PASSWORD, ...scope }),
  });
  assert.equal(res.status, 201);
  return (await res.json()) as { token: string; id: string };
}

/** The id of the harness's own token. */
async function ownTokenId(h: Harness): Promise<string> {
  const res = await h.call("GET", "/tokens");
  const list = (await res.json()) as { id: string }[];
  assert.equal(list.length, 1);
  return list[0].id;
}

const SHOP_V2 = SHOP_YAML.replace("POSTGRES_PASSWORD: x", "POSTGRES_PASSWORD: y");

Deno.test("up, actions and down record who did what to which container", async () => {
  const h = await openHarness();
  try {
    const admin = `token ${await ownTokenId(h)} (admin)`;
    await h.up(SHOP_YAML);
    await h.up(SHOP_YAML);
    await h.up(SHOP_V2);
    await action(h, { action: "stop", host: "host-a", container: "web" });
    await h.call("POST", "/manifest/down", { manifest: "shop" });
    const page = await events(h);
    assert.ok(page.events.every((e) => e.actor === admin), JSON.stringify(page.events));
    assert.deepEqual(page.events.map(brief), [
      { kind: "up", manifest: "shop", host: "host-a", container: "web", action: "create" },
      { kind: "up", manifest: "shop", host: "host-b", container: "db", action: "create" },
      {
        kind: "up",
        manifest: "shop",
        host: "host-b",
        container: "db",
        action: "recreate",
        changes: [{ field: "environment.POSTGRES_PASSWORD", from: "x", to: "y" }],
      },
      { kind: "action", manifest: "shop", host: "host-a", container: "web", action: "stop" },
      { kind: "down", manifest: "shop", host: "host-b", container: "db", action: "remove" },
      { kind: "down", manifest: "shop", host: "host-a", container: "web", action: "remove" },
    ]);
    const ids = page.events.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.equal(page.last, ids[ids.length - 1]);
    assert.ok(page.events.every((e) => !Number.isNaN(Date.parse(e.time))));
  } finally {
    await h.close();
  }
});

Deno.test("reports record each real state change, old -> new, and repeats none", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const agent = await tokenWith(h, { role: "agent", host: "host-a" });
    const web = { host: "host-a", name: "web", manifest: "shop" };
    const after = (await events(h)).last;
    await report(h, { ...web, state: "running", containerId: "c1" }, agent.token);
    await report(h, [{ ...web, state: "running", containerId: "c1" }], agent.token);
    await report(h, { ...web, state: "running", containerId: "c1", health: "healthy" });
    await report(h, { ...web, state: "exited", exitCode: 137 });
    await report(h, { ...web, state: "exited", exitCode: 137 });
    await report(h, { ...web, state: "failed", error: "pull access denied" });
    await report(h, { ...web, state: "completed", containerId: "c2", exitCode: 0 });
    await report(h, { ...web, state: "failed", exitCode: 4, error: "exited with code 4" });
    await action(h, { action: "rm", host: "host-a", container: "web" });
    await report(h, { ...web, state: "removed" });
    const page = await events(h, `?after=${after}`);
    const states = page.events.filter((e) => e.kind === "state");
    assert.deepEqual(states.map((e) => [e.from, e.to, e.error]), [
      ["pending", "running", undefined],
      ["running", "running (healthy)", undefined],
      ["running (healthy)", "exited (137)", undefined],
      ["exited (137)", "failed", "pull access denied"],
      ["failed", "completed", undefined],
      ["completed", "failed (exit 4)", "exited with code 4"],
      ["failed (exit 4)", "removed", undefined],
    ]);
    assert.equal(states[0].actor, `token ${agent.id} (agent host-a)`);
    assert.deepEqual(
      [states[0].manifest, states[0].host, states[0].container],
      ["shop", "host-a", "web"],
    );
  } finally {
    await h.close();
  }
});

Deno.test("an event is written in the transaction of its change, or not at all", async () => {
  const h = await openHarness();
  try {
    const before = await h.planner.store.lastEventId();
    await assert.rejects(
      h.planner.store.transaction(async (tx) => {
        await h.planner.up(parseManifest(SHOP_YAML, "yaml"), undefined, undefined, tx);
        throw new Error("rolled back");
      }),
      /rolled back/,
    );
    assert.equal(await h.planner.store.lastEventId(), before);
    assert.deepEqual(await h.ps(), []);
    const unknown = await h.call("POST", "/container/action", {
      action: "stop",
      host: "host-a",
      container: "nope",
    });
    await assertError(unknown, 404, "not_found");
    assert.equal(await h.planner.store.countEvents(), 0);
  } finally {
    await h.close();
  }
});

Deno.test("events filter by manifest, host, since, after and limit", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    await h.up("name: blog\ncontainers:\n  - name: web\n    host: host-a\n    image: httpd:2.4\n");
    await action(h, { action: "restart", host: "host-b", container: "db" });
    const all = await events(h);
    assert.equal(all.events.length, 4);
    const pick = (page: EventPage) => page.events.map((e) => `${e.manifest}/${e.container}`);
    assert.deepEqual(pick(await events(h, "?manifest=blog")), ["blog/web"]);
    assert.deepEqual(pick(await events(h, "?host=host-b")), ["shop/db", "shop/db"]);
    assert.deepEqual(pick(await events(h, "?manifest=shop&host=host-a")), ["shop/web"]);
    assert.deepEqual(pick(await events(h, "?limit=2")), ["blog/web", "shop/db"], "the newest");
    const first = all.events[0].id;
    const paged = await events(h, `?after=${first}&limit=2`);
    assert.deepEqual(pick(paged), ["shop/db", "blog/web"], "the oldest after the id");
    assert.equal(paged.last, all.events[2].id, "a full page reads on from its last event");
    assert.deepEqual(pick(await events(h, `?after=${paged.last}`)), ["shop/db"]);
    assert.equal((await events(h, "?since=1h")).events.length, 4);
    const future = new Date(h.clock.now() + 60_000).toISOString();
    assert.deepEqual((await events(h, `?since=${future}`)).events, []);
    const none = await events(h, "?manifest=nothing");
    assert.deepEqual(none, { events: [], last: all.last });
  } finally {
    await h.close();
  }
});

Deno.test("bad event queries answer 400 invalid_query", async () => {
  const h = await openHarness();
  try {
    for (
      const query of [
        "?wait=1s",
        "?after=-1",
        "?after=x",
        "?limit=0",
        "?limit=10001",
        "?since=yesterday",
        "?since=2026-13-45T00:00:00Z",
        "?host=a%20b",
        "?manifest=Shop",
        "?after=0&wait=soon",
      ]
    ) {
      await assertError(await h.call("GET", `/events${query}`), 400, "invalid_query");
    }
  } finally {
    await h.close();
  }
});

/** A held `GET /events` and whether it has been answered. */
function follow(h: Harness, query: string, signal?: AbortSignal) {
  let answered = false;
  const answer = (async () => {
    const res = await h.app.request(`/api/v1/events${query}`, {
      headers: { authorization: `Bearer ${h.token}` },
      signal,
    });
    const body = v.parse(EventPageSchema, await res.json());
    answered = true;
    return body;
  })();
  return { answered: () => answered, answer };
}

/** Waits until `count` event follows are held. */
async function held(h: Harness, count: number): Promise<void> {
  await pollUntil(`${count} held event polls`, () => h.planner.events.heldWaiters === count);
}

Deno.test("after and wait hold the request until a matching event comes", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const { last } = await events(h);
    const any = follow(h, `?after=${last}&wait=5s`);
    const hostB = follow(h, `?after=${last}&wait=5s&host=host-b`);
    await held(h, 2);
    assert.equal(any.answered(), false);
    await action(h, { action: "stop", host: "host-a", container: "web" });
    const body = await any.answer;
    assert.deepEqual(body.events.map((e) => [e.kind, e.container]), [["action", "web"]]);
    // The host-b follow was woken too, found nothing of its own, and waits again.
    await held(h, 1);
    assert.equal(hostB.answered(), false, "an event on another host does not answer");
    await action(h, { action: "kill", host: "host-b", container: "db" });
    const b = await hostB.answer;
    assert.deepEqual(b.events.map((e) => [e.action, e.host]), [["kill", "host-b"]]);
    assert.equal(h.planner.events.heldWaiters, 0);
  } finally {
    await h.close();
  }
});

Deno.test("a follow that nothing answers ends with no events when its wait runs out", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const { last } = await events(h);
    const quiet = follow(h, `?after=${last}&wait=200ms`);
    await held(h, 1);
    assert.deepEqual(h.clock.pending(), [200], "held for its wait");
    h.clock.advance(199);
    assert.equal(h.planner.events.heldWaiters, 1, "still held just before its wait ends");
    h.clock.advance(1);
    assert.deepEqual(await quiet.answer, { events: [], last });
    assert.equal(h.planner.events.heldWaiters, 0);

    const behind = follow(h, "?after=0&wait=5s");
    assert.equal((await behind.answer).events.length, 2, "events already there answer at once");
    assert.deepEqual(h.clock.pending(), [], "without holding");
  } finally {
    await h.close();
  }
});

Deno.test("a shutdown answers held event polls at once", async () => {
  const h = await openHarness();
  try {
    const pending = follow(h, "?after=0&wait=30s");
    await held(h, 1);
    h.planner.releaseWaiters();
    const body = await pending.answer;
    assert.deepEqual(body.events, []);
    assert.equal(h.planner.events.heldWaiters, 0);
  } finally {
    await h.close();
  }
});

Deno.test("a client that hangs up releases its held event poll", async () => {
  const h = await openHarness();
  try {
    const controller = new AbortController();
    const pending = follow(h, "?after=0&wait=30s", controller.signal);
    await held(h, 1);
    controller.abort();
    await pending.answer.catch(() => {});
    await held(h, 0);
  } finally {
    await h.close();
  }
});

/** A planner over a fresh data dir with a retention and a movable clock. */
async function retained(maxRows: number, retentionMs: number) {
  const dir = await Deno.makeTempDir({ prefix: "launcher-events-test-" });
  const clock = new ManualClock();
  const open = async () =>
    await Planner.open(await openStore(dir), { events: { maxRows, retentionMs }, clock });
  return { dir, clock, open };
}

Deno.test("retention keeps at most maxRows events, the newest", async () => {
  const { dir, open } = await retained(10, 7 * DAY);
  const planner = await open();
  try {
    await planner.up(parseManifest(SHOP_YAML, "yaml"));
    let most = 0;
    for (let i = 0; i < 60; i++) {
      await planner.action({ action: "restart", host: "host-a", container: "web" });
      most = Math.max(most, await planner.store.countEvents());
    }
    assert.ok(most <= 10, `held ${most} events`);
    const page = await planner.events.list();
    assert.ok(page.events.length > 0 && page.events.length <= 10);
    const last = await planner.store.lastEventId();
    assert.equal(last, 62, "ids keep growing: 2 creates and 60 restarts");
    assert.equal(page.events[page.events.length - 1].id, last, "the newest is kept");
    assert.equal(page.last, last);
  } finally {
    await planner.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("retention drops events past their age, on read at once and from the store", async () => {
  const { dir, clock, open } = await retained(100_000, 7 * DAY);
  let planner = await open();
  try {
    await planner.up(parseManifest(SHOP_YAML, "yaml"));
    assert.equal((await planner.events.list()).events.length, 2);
    clock.advance(6 * DAY);
    assert.equal((await planner.events.list()).events.length, 2, "younger than the retention");
    clock.advance(2 * DAY);
    assert.deepEqual((await planner.events.list()).events, [], "older ones are not read");
    assert.equal(await planner.store.countEvents(), 2, "a quiet store has pruned nothing yet");
    await planner.action({ action: "stop", host: "host-a", container: "web" });
    assert.equal(await planner.store.countEvents(), 1, "the next event prunes the old ones");
    assert.deepEqual((await planner.events.list()).events.map((e) => e.action), ["stop"]);

    clock.advance(8 * DAY);
    await planner.close();
    planner = await open();
    assert.equal(await planner.store.countEvents(), 0, "opening the store prunes too");
    assert.equal(await planner.store.lastEventId(), 3, "ids are not reused");
  } finally {
    await planner.close();
    await Deno.remove(dir, { recursive: true });
  }
});
