/**
 * Several servers on one store, played in one process: two planners over one SQLite store, each
 * with its own wake-ups and lease. A change committed through one wakes the long-polls and
 * follows held by the other when its wake-up reaches it, or at the next re-read when it was lost;
 * a wake-up that moved nothing holds a poll on; the cluster duties run only on the lease holder,
 * event retention among them. The real PostgreSQL wake-ups and lease: tests/store/pg_*_test.ts.
 */
import assert from "node:assert/strict";
import { parseManifest } from "../../src/manifest/parse.ts";
import { Planner } from "../../src/server/planner.ts";
import { openStore, type Store } from "../../src/server/store/store.ts";
import { LocalWakeups, type Wakeups } from "../../src/server/wakeups.ts";
import type { DutyLease } from "../../src/server/duty_lease.ts";
import { ManualClock } from "../manual_clock.ts";
import { pollUntil } from "../poll_until.ts";
import { ManualWakeups, SwitchLease } from "../unit/fakes/cluster_fakes.ts";
import { registration, SHOP_YAML } from "./harness.ts";

/** Two planners ("servers") over one store, and how many host indexes each has read. */
interface Servers {
  a: Planner;
  b: Planner;
  clock: ManualClock;
  /** How many times `hostIndex` or `hostIndexes` was read through each planner's store. */
  reads: { a: number; b: number };
}

/**
 * The store, counting `hostIndex` and `hostIndexes` reads made through it (not those of its
 * transactions).
 */
function counting(store: Store, count: () => void): Store {
  // An empty target: the store's own methods are frozen, which a proxy of it must answer as is.
  return new Proxy({} as Store, {
    get(_, key) {
      const value = Reflect.get(store, key, store);
      if (key === "hostIndex") {
        return (host: string) => {
          count();
          return store.hostIndex(host);
        };
      }
      if (key === "hostIndexes") {
        return (hosts: readonly string[]) => {
          count();
          return store.hostIndexes(hosts);
        };
      }
      return typeof value === "function" ? value.bind(store) : value;
    },
  });
}

/** Each server's wake-ups and lease, and the event retention of both. */
interface ServersOptions {
  wakeups: { a: Wakeups; b: Wakeups };
  lease?: { a?: DutyLease; b?: DutyLease };
  events?: { maxRows: number };
}

/** Runs `fn` with two planners over one fresh store, and closes them after. */
async function withServers(
  { wakeups, lease = {}, events }: ServersOptions,
  fn: (s: Servers) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "launcher-servers-test-" });
  const store = await openStore(dir);
  const clock = new ManualClock();
  const reads = { a: 0, b: 0 };
  const a = await Planner.open(counting(store, () => reads.a++), {
    clock,
    wakeups: wakeups.a,
    lease: lease.a,
    events,
  });
  const b = await Planner.open(counting(store, () => reads.b++), {
    clock,
    wakeups: wakeups.b,
    lease: lease.b,
    events,
  });
  try {
    await fn({ a, b, clock, reads });
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A long-poll on a planner at the host's current index, once it is held: its index, and whether
 * it has been answered.
 */
async function hold(planner: Planner, host: string) {
  const index = await planner.hostIndex(host);
  let done = false;
  const answered = planner.waitForHost(host, index, 60_000).then(() => done = true);
  await pollUntil("a poll held", () => planner.heldWaiters === 1);
  return { index, done: () => done, answered };
}

const manifest = (text: string) => parseManifest(text, "yaml");
const SHOP = manifest(SHOP_YAML);
const SHOP_B_CHANGED = manifest(SHOP_YAML.replace("postgres:16", "postgres:17"));
const restartWeb = { action: "restart", host: "host-a", container: "web" } as const;
/** Replicas that each need host port 8080, so that one host takes one. */
const WEB_8080 = (replicas: number) =>
  manifest(`name: shop
containers:
  - name: web
    image: nginx:1.27
    replicas: ${replicas}
    ports: ["8080:80"]
`);

Deno.test("a change through one server wakes the long-poll another holds, for its host only", async () => {
  const hub = new LocalWakeups(); // every wake-up reaches both, as NOTIFY would
  await withServers({ wakeups: { a: hub, b: hub } }, async (s) => {
    await s.b.up(SHOP);
    const poll = await hold(s.a, "host-a");

    await s.b.up(SHOP_B_CHANGED);
    assert.equal(s.a.heldWaiters, 1, "a change for host-b wakes nothing on host-a");

    await s.b.action(restartWeb);
    await poll.answered;
    assert.ok(await s.a.hostIndex("host-a") > poll.index);
  });
});

Deno.test("a lost wake-up is found by the re-read; one that moved nothing holds the poll on", async () => {
  const wakeups = { a: new ManualWakeups(), b: new ManualWakeups() }; // nothing is delivered
  await withServers({ wakeups }, async (s) => {
    await s.b.up(SHOP);
    const poll = await hold(s.a, "host-a");

    // Server a never woke for this index: the re-read wakes the poll, which reads its index
    // again, finds it unchanged and holds on.
    let before = s.reads.a;
    wakeups.a.reread();
    await pollUntil(
      "the re-read, and the poll reading its index again",
      () => s.reads.a >= before + 2 && s.a.heldWaiters === 1,
    );
    assert.ok(!poll.done(), "the poll is still held");
    // Now server a knows the index: a re-read reads it and wakes nothing.
    before = s.reads.a;
    wakeups.a.reread();
    await pollUntil("the second re-read", () => s.reads.a === before + 1);
    assert.equal(s.a.heldWaiters, 1);

    await s.b.action(restartWeb); // its wake-up is lost: server a hears nothing
    assert.ok(!poll.done());
    assert.equal(s.a.heldWaiters, 1);
    wakeups.a.reread();
    await poll.answered;
    assert.equal(s.a.heldWaiters, 0);
  });
});

Deno.test("a server's own wake-ups coming back as notifications wake nothing", async () => {
  const wakeups = { a: new ManualWakeups(), b: new ManualWakeups() };
  await withServers({ wakeups }, async (s) => {
    await s.a.up(SHOP);
    const poll = await hold(s.a, "host-a");
    const before = s.reads.a;
    for (const wakeup of wakeups.a.sent) wakeups.a.deliver(wakeup); // its own NOTIFYs
    // A wake would end the wait at once, and its poll would read the index again.
    assert.equal(s.a.heldWaiters, 1);
    assert.equal(s.reads.a, before);

    await s.b.action(restartWeb);
    for (const wakeup of wakeups.b.sent) wakeups.a.deliver(wakeup); // b's NOTIFYs reach a
    await poll.answered;
  });
});

Deno.test("an event recorded through one server wakes a follow held by another", async () => {
  const wakeups = { a: new ManualWakeups(), b: new ManualWakeups() };
  await withServers({ wakeups }, async (s) => {
    await s.b.up(SHOP);
    const last = (await s.a.events.list()).last;
    let followed: boolean | undefined;
    const follow = s.a.events.wait(last, 60_000).then((got) => followed = got);
    await pollUntil("a follow held on server a", () => s.a.events.heldWaiters === 1);

    await s.b.action(restartWeb);
    const sent = wakeups.b.sent.findLast((w) => w.kind === "changed" && w.lastEventId);
    assert.ok(sent?.kind === "changed");
    assert.equal(sent.lastEventId, last + 1, "the event's id");
    wakeups.a.deliver(sent);
    await follow;
    assert.equal(followed, true);

    // Lost, then found by the re-read.
    const next = s.a.events.wait(last + 1, 60_000);
    await pollUntil("a follow held on server a", () => s.a.events.heldWaiters === 1);
    await s.b.action(restartWeb);
    assert.equal(s.a.events.heldWaiters, 1);
    wakeups.a.reread();
    assert.equal(await next, true);
  });
});

Deno.test("cluster duties run on the server holding the lease, and stop when it goes", async () => {
  const hub = new LocalWakeups();
  const lease = { a: new SwitchLease("a", false), b: new SwitchLease("b", true) };
  await withServers({ wakeups: { a: hub, b: hub }, lease }, async (s) => {
    // Two replicas that need port 8080 and one host: one waits; placing it on a host that
    // registers through a (which ticks) is a duty, done by b only.
    const hosts = async () => (await s.a.ps("shop")).map((c) => c.host).sort();
    await s.a.register(registration("h1"));
    await s.a.up(WEB_8080(2));
    assert.deepEqual(await hosts(), ["", "h1"]);
    await s.a.register(registration("h2"));
    await s.a.tick();
    assert.deepEqual(await hosts(), ["", "h1"], "server a does not hold the lease");
    await s.b.tick();
    assert.deepEqual(await hosts(), ["h1", "h2"]);

    // The lease moves: b's ticks do nothing, a's do the work.
    lease.b.held = false;
    lease.a.held = true;
    await s.b.up(WEB_8080(3));
    await s.b.register(registration("h3"));
    await s.b.tick();
    assert.deepEqual(await hosts(), ["", "h1", "h2"], "server b no longer holds the lease");
    await s.a.tick();
    assert.deepEqual(await hosts(), ["h1", "h2", "h3"]);
  });
});

Deno.test("with a lease, event retention is a duty of its holder, not of every record", async () => {
  const hub = new LocalWakeups();
  const lease = { a: new SwitchLease("a", false), b: new SwitchLease("b", true) };
  await withServers({ wakeups: { a: hub, b: hub }, lease, events: { maxRows: 3 } }, async (s) => {
    await s.a.up(SHOP); // 2 events
    for (let i = 0; i < 4; i++) await s.a.action(restartWeb); // 4 more
    const count = () => s.a.store.countEvents();
    assert.equal(await count(), 6, "records keep everything");
    await s.a.tick();
    assert.equal(await count(), 6, "server a does not hold the lease");
    await s.b.tick();
    assert.ok(await count() <= 3, "the holder's duty pruned to the limit");
    assert.equal((await s.a.events.list()).events.at(-1)?.action, "restart", "the newest kept");
  });
});

Deno.test("the server holding a host's poll keeps its stored last-seen time fresh for the others", async () => {
  const wakeups = { a: new ManualWakeups(), b: new ManualWakeups() };
  await withServers({ wakeups }, async (s) => {
    await s.a.register(registration("host-a")); // an interval of 1 s: offline after 3
    await hold(s.a, "host-a");
    s.clock.advance(15_000); // past the grace a server gives hosts after it starts, too
    const online = (p: Planner) => p.hosts.isOnline(p.store, "host-a");
    assert.equal(await online(s.a), true, "server a holds its poll");
    assert.equal(await online(s.b), false, "server b knows only the stored time, 15 s old");
    wakeups.a.reread();
    await pollUntil("server b sees host-a online", () => online(s.b));
    const status = await s.b.hosts.status(s.b.store, "host-a");
    assert.equal(status.lastSeen, new Date(s.clock.now()).toISOString());
  });
});
