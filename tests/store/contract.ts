/**
 * The store contract: what every implementation of `Store` (src/server/store/store.ts) answers,
 * exercised through the interface alone. `storeContract` registers one Deno test per behaviour;
 * each implementation's test file calls it with a way to open a fresh, empty store.
 */
import assert from "node:assert/strict";
import {
  type ContainerRow,
  type ContainerStateRow,
  type EventRow,
  type HostRow,
  type RolloutRow,
  type SecretRow,
  type SessionRow,
  type Store,
  type StoreOptions,
  type TokenRow,
  TransactionMisuseError,
} from "../../src/server/store/store.ts";

/** A fresh, empty store, and how to remove it once a test is done with it. */
export interface OpenedStore {
  store: Store;
  cleanup: () => Promise<void>;
  /**
   * Opens another store on the same location, as a second server would; `cleanup` closes it.
   * Only for an implementation that several servers share (PostgreSQL): the cases of two stores
   * run where it is given.
   */
  openAnother?: () => Promise<Store>;
}

/** One behaviour of the contract, on a fresh store. */
/** Opens a fresh, empty store of the implementation under test, with `options`. */
export type OpenStore = (options?: StoreOptions) => Promise<OpenedStore>;

interface ContractCase {
  name: string;
  /** `open` opens another fresh store, for a case that needs options; the case cleans it up. */
  fn: (opened: OpenedStore, open: OpenStore) => Promise<void>;
}

const T0 = "2025-01-01T00:00:00.000Z";
const T1 = "2025-01-01T00:01:00.000Z";
const T2 = "2025-01-01T00:02:00.000Z";

/** A container row; override what the test is about. */
export function containerRow(manifest: string, name: string, extra: Partial<ContainerRow> = {}) {
  const row: ContainerRow = {
    manifest,
    name,
    host: "host-a",
    spec: JSON.stringify({ name, image: "busybox:1.36" }),
    spec_hash: `hash-${name}`,
    desired: "running",
    state: "pending",
    container_id: null,
    exit_code: null,
    error: null,
    health: null,
    generation: 1,
    restart_generation: 0,
    force: 0,
    normalized: JSON.stringify({ name }),
    template: "",
    placement: "",
    replaces: "",
    created_at: T0,
    updated_at: T0,
  };
  return { ...row, ...extra };
}

/** A host_info row; override what the test is about. */
function hostRow(name: string, extra: Partial<HostRow> = {}): HostRow {
  return {
    name,
    engine_version: "20.10.24",
    os: "linux",
    arch: "amd64",
    cpus: 4,
    memory: 8 * 1024 ** 3,
    agent_version: "0.1.0",
    labels: '{"zone":"eu-1"}',
    interval_ms: 5000,
    registered_at: T0,
    last_seen: T0,
    draining: 0,
    ...extra,
  };
}

/** An event row without its id; override what the test is about. */
export function eventRow(extra: Partial<Omit<EventRow, "id">> = {}): Omit<EventRow, "id"> {
  return {
    at: T0,
    kind: "up",
    actor: "admin",
    manifest: null,
    host: null,
    container: null,
    action: null,
    old_state: null,
    new_state: null,
    changes: null,
    error: null,
    secret: null,
    ...extra,
  };
}

/** A token row; override what the test is about. */
function tokenRow(id: string, extra: Partial<TokenRow> = {}): TokenRow {
  return {
    id,
    hash: `hash-${id}`,
    created_at: T0,
    role: "admin",
    host: null,
    expires_at: null,
    last_used_at: null,
    revoked: 0,
    ...extra,
  };
}

/** A session row of `tokenId`; override what the test is about. */
function sessionRow(
  idHash: string,
  tokenId: string,
  extra: Partial<SessionRow> = {},
): SessionRow {
  return {
    id_hash: idHash,
    token_id: tokenId,
    csrf: `csrf-${idHash}`,
    created_at: T0,
    last_used_at: T1,
    ...extra,
  };
}

/** A rollout row; override what the test is about. */
function rolloutRow(manifest: string, extra: Partial<RolloutRow> = {}): RolloutRow {
  return {
    manifest,
    revision: 1,
    status: "running",
    batch: 0,
    batches: 2,
    plan: "[]",
    policy: '{"parallel":1}',
    started_at: T0,
    batch_started_at: null,
    error: null,
    updated_at: T0,
    ...extra,
  };
}

/** Every event, oldest first. */
function allEvents(store: Store) {
  return store.firstEvents({ after: 0, since: "", manifest: null, host: null, limit: 1000 });
}

/** Resolves after `ms`: a transaction that waits lets others try to come between. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects when `promise` has not settled within `ms`: a store waiting for itself would hang. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registers the contract's tests for one implementation, named `<name>: ...`. `open` gives a
 * fresh, empty store each time.
 */
export function storeContract(name: string, open: OpenStore): void {
  for (const c of contractCases()) Deno.test(`${name}: ${c.name}`, () => runCase(c, open));
}

/**
 * Runs the contract as steps of one test, the cases of two stores included: for an
 * implementation whose stores need something the test sets up and tears down around them all
 * (a PostgreSQL cluster). `open` gives a fresh, empty store each time, with `openAnother`.
 */
export async function storeContractSteps(
  t: Deno.TestContext,
  open: OpenStore,
): Promise<void> {
  for (const c of [...contractCases(), ...sharedCases()]) {
    const ok = await t.step(c.name, () => runCase(c, open));
    if (!ok) throw new Error(`the contract failed: ${c.name}`);
  }
}

async function runCase(c: ContractCase, open: OpenStore): Promise<void> {
  const opened = await open();
  try {
    await c.fn(opened, open);
  } finally {
    await opened.cleanup();
  }
}

/** The cases every implementation meets, each on one fresh store. */
function contractCases(): ContractCase[] {
  const cases: ContractCase[] = [];
  const test = (what: string, fn: (store: Store) => Promise<void>) =>
    cases.push({ name: what, fn: ({ store }) => fn(store) });

  test("manifests are created, refreshed, listed by name and deleted only when empty", async (s) => {
    assert.equal(await s.hasManifest("shop"), false);
    assert.equal(await s.manifest("shop"), undefined);
    await s.upsertManifest("shop", "{}", T0);
    await s.upsertManifest("blog", '{"rescheduleAfterMs":1000}', T0);
    await s.upsertManifest("shop", '{"update":{"parallel":2}}', T1);
    assert.equal(await s.hasManifest("shop"), true);
    assert.deepEqual(await s.manifest("shop"), {
      name: "shop",
      policy: '{"update":{"parallel":2}}',
      created_at: T0,
      updated_at: T1,
    });
    assert.deepEqual((await s.allManifests()).map((m) => m.name), ["blog", "shop"]);

    await s.insertContainer(containerRow("shop", "web"));
    await s.deleteManifestIfEmpty("shop");
    assert.equal(await s.hasManifest("shop"), true, "a manifest with a container stays");
    await s.deleteContainer("shop", "web");
    await s.deleteManifestIfEmpty("shop");
    assert.equal(await s.hasManifest("shop"), false);
    assert.deepEqual((await s.allManifests()).map((m) => m.name), ["blog"]);
  });

  test("a container needs its manifest", async (s) => {
    await assert.rejects(s.insertContainer(containerRow("nope", "web")));
    assert.deepEqual(await s.allContainers(), []);
  });

  test("containers are read back as written, in the order each list names", async (s) => {
    for (const m of ["shop", "blog"]) await s.upsertManifest(m, "{}", T0);
    const rows = [
      containerRow("shop", "web", { host: "host-b", exit_code: 3, error: "boom", health: "ok" }),
      containerRow("shop", "db", { host: "host-a", container_id: "c1", state: "running" }),
      containerRow("blog", "web", { host: "host-a", force: 1, generation: 4 }),
      containerRow("blog", "api", { host: "host-b", restart_generation: 2 }),
    ];
    for (const row of rows) await s.insertContainer(row);
    const key = (r: ContainerRow) => `${r.manifest}/${r.name}`;
    assert.deepEqual(await s.container("shop", "web"), rows[0], "every column as written");
    assert.equal(await s.container("shop", "nope"), undefined);
    assert.deepEqual((await s.allContainers()).map(key), [
      "blog/api",
      "blog/web",
      "shop/db",
      "shop/web",
    ]);
    assert.deepEqual((await s.containersOfManifest("shop")).map(key), ["shop/db", "shop/web"]);
    // The states alone, in the same order, with the same values.
    const state = (row: ContainerStateRow) => ({ ...row });
    assert.deepEqual(
      (await s.containerStates()).map(state),
      (await s.allContainers()).map((r) => ({
        manifest: r.manifest,
        name: r.name,
        host: r.host,
        desired: r.desired,
        state: r.state,
        exit_code: r.exit_code,
        error: r.error,
        health: r.health,
        updated_at: r.updated_at,
      })),
    );
    assert.deepEqual((await s.containersOfHost("host-a")).map(key), ["blog/web", "shop/db"]);
    assert.deepEqual(await s.containersOfHost("host-c"), []);
    assert.deepEqual(
      (await s.containersByHostAndName("host-a", "web")).map(key),
      ["blog/web"],
    );
    await s.updateContainer({ ...rows[3], host: "host-a" });
    assert.deepEqual(
      (await s.containersByHostAndName("host-a", "web")).map(key),
      ["blog/web"],
    );
    await s.updateContainer({ ...rows[0], host: "host-a" });
    assert.deepEqual(
      (await s.containersByHostAndName("host-a", "web")).map(key),
      ["blog/web", "shop/web"],
      "by manifest",
    );
  });

  test("an update writes every column but the key and the creation time", async (s) => {
    await s.upsertManifest("shop", "{}", T0);
    const row = containerRow("shop", "web");
    await s.insertContainer(row);
    const changed: ContainerRow = {
      ...row,
      host: "host-b",
      spec: '{"name":"web","image":"busybox:1.37"}',
      spec_hash: "other",
      desired: "removed",
      state: "exited",
      container_id: "c9",
      exit_code: 137,
      error: "killed",
      health: "unhealthy",
      generation: 7,
      restart_generation: 6,
      force: 1,
      normalized: '{"name":"web","x":1}',
      template: "web",
      placement: '{"strategy":"spread"}',
      replaces: "web.1",
      created_at: T2,
      updated_at: T1,
    };
    await s.updateContainer(changed);
    assert.deepEqual(await s.container("shop", "web"), { ...changed, created_at: T0 });
    await s.updateContainer({ ...changed, name: "nope" });
    assert.deepEqual((await s.allContainers()).length, 1, "an update of no row adds none");
    await s.deleteContainer("shop", "web");
    assert.equal(await s.container("shop", "web"), undefined);
  });

  test("placed, waiting and replacing instances, and counts per host", async (s) => {
    await s.upsertManifest("shop", "{}", T0);
    const rows = [
      containerRow("shop", "web.2", { host: "", template: "web" }),
      containerRow("shop", "web.1", { host: "host-a", template: "web", state: "running" }),
      containerRow("shop", "web.3", { host: "", template: "web", desired: "removed" }),
      containerRow("shop", "web.4", { host: "host-b", template: "web", replaces: "web.1" }),
      containerRow("shop", "db", { host: "host-b", state: "running" }),
      containerRow("shop", "cache", { host: "host-b", state: "exited" }),
      containerRow("shop", "web.5", { host: "host-c", template: "web", desired: "removed" }),
      containerRow("shop", "web.6", { host: "host-a", template: "web" }),
    ];
    for (const row of rows) await s.insertContainer(row);
    const names = (list: ContainerRow[]) => list.map((r) => r.name);
    assert.deepEqual(names(await s.unplacedContainers()), ["web.2"]);
    assert.deepEqual(names(await s.placedContainers()), [
      "web.1",
      "web.2",
      "web.3",
      "web.4",
      "web.5",
      "web.6",
    ]);
    assert.deepEqual(
      await s.placedHosts(),
      ["host-a", "host-b"],
      "once each, without the waiting and the removed ones",
    );
    assert.deepEqual(names(await s.replacingContainers()), ["web.4"]);
    assert.deepEqual(await s.hostCounts(), [
      { host: "", running: 0, total: 2 },
      { host: "host-a", running: 1, total: 2 },
      { host: "host-b", running: 1, total: 3 },
      { host: "host-c", running: 0, total: 1 },
    ]);
    assert.deepEqual(await s.stateCounts(), [
      { host: "", state: "pending", count: 2 },
      { host: "host-a", state: "pending", count: 1 },
      { host: "host-a", state: "running", count: 1 },
      { host: "host-b", state: "exited", count: 1 },
      { host: "host-b", state: "pending", count: 1 },
      { host: "host-b", state: "running", count: 1 },
      { host: "host-c", state: "pending", count: 1 },
    ]);
  });

  test("host indexes take the next value of one counter, across hosts and forgetting", async (s) => {
    assert.equal(await s.hostIndex("host-a"), 0, "never planned");
    const a1 = await s.bumpHostIndex("host-a");
    const b1 = await s.bumpHostIndex("host-b");
    const a2 = await s.bumpHostIndex("host-a");
    assert.ok(a1 > 0 && b1 > a1 && a2 > b1, `${a1} < ${b1} < ${a2}`);
    assert.equal(await s.hostIndex("host-a"), a2);
    assert.equal(await s.hostIndex("host-b"), b1);
    await s.upsertHostInfo(hostRow("host-a"));
    await s.deleteHostInfo("host-a");
    assert.equal(await s.hostIndex("host-a"), a2, "forgetting a host keeps its index");
    assert.ok(await s.bumpHostIndex("host-c") > a2);
  });

  test("several hosts' indexes, containers and rows are read in one statement each", async (s) => {
    for (const m of ["shop", "blog"]) await s.upsertManifest(m, "{}", T0);
    for (
      const row of [
        containerRow("shop", "web", { host: "host-b" }),
        containerRow("shop", "db", { host: "host-a" }),
        containerRow("blog", "web", { host: "host-a" }),
        containerRow("blog", "api", { host: "host-c" }),
      ]
    ) await s.insertContainer(row);
    const key = (r: ContainerRow) => `${r.host}:${r.manifest}/${r.name}`;
    assert.deepEqual((await s.containersOfHosts(["host-b", "host-a", "host-x"])).map(key), [
      "host-a:blog/web",
      "host-a:shop/db",
      "host-b:shop/web",
    ]);
    assert.deepEqual(await s.containersOfHosts([]), []);
    const b = await s.bumpHostIndex("host-b");
    const a = await s.bumpHostIndex("host-a");
    assert.deepEqual(await s.hostIndexes(["host-b", "host-x", "host-a"]), [
      { name: "host-a", idx: a },
      { name: "host-b", idx: b },
    ]);
    assert.deepEqual(await s.hostIndexes([]), []);
    await s.upsertHostInfo(hostRow("host-b"));
    await s.upsertHostInfo(hostRow("host-a"));
    await s.upsertHostInfo(hostRow("host-c"));
    assert.deepEqual(await s.hostInfos(["host-c", "host-x", "host-a"]), [
      hostRow("host-a"),
      hostRow("host-c"),
    ]);
    await s.touchHostInfos(["host-a", "host-c", "host-x"], T2);
    assert.deepEqual(await s.allHostInfo(), [
      { ...hostRow("host-a"), last_seen: T2 },
      hostRow("host-b"),
      { ...hostRow("host-c"), last_seen: T2 },
    ]);
    assert.equal(await s.hostInfo("host-x"), undefined, "touching an unknown host adds nothing");
    await s.transaction(async (tx) => {
      assert.deepEqual((await tx.hostIndexes(["host-a"])).map((r) => r.idx), [a]);
      assert.equal((await tx.containersOfHosts(["host-c"])).length, 1);
    });
  });

  test("rows, events and indexes are written many at once as one at a time", async (s) => {
    await s.upsertManifest("shop", "{}", T0);
    const rows = [
      containerRow("shop", "web", { host: "host-b", exit_code: 3, error: "boom", force: 1 }),
      containerRow("shop", "db", { host: "host-a", container_id: "c1", state: "running" }),
    ];
    await s.insertContainers(rows);
    await s.insertContainers([]);
    assert.deepEqual(await s.container("shop", "web"), rows[0], "every column as written");
    assert.deepEqual(await s.container("shop", "db"), rows[1]);
    await assert.rejects(s.insertContainers([rows[0]]), "a key taken already");

    const first = await s.insertEvent(eventRow({ host: "host-a" }));
    assert.equal(await s.insertEvents([]), 0);
    const last = await s.insertEvents([
      eventRow({ at: T1, container: "one", changes: "[]" }),
      eventRow({ at: T2, container: "two" }),
    ]);
    assert.equal(last, await s.lastEventId());
    const events = await s.firstEvents({
      after: first,
      since: T0,
      manifest: null,
      host: null,
      limit: 10,
    });
    assert.deepEqual(events.map((e) => [e.container, e.changes]), [["one", "[]"], ["two", null]]);
    assert.equal(events.at(-1)!.id, last);
    assert.ok(events[0].id > first && events[0].id < last);

    const a1 = await s.bumpHostIndex("host-a");
    const bumped = await s.bumpHostIndexes(["host-c", "host-a", "host-c", "host-b"]);
    assert.deepEqual(
      bumped.map((r) => r.name),
      ["host-c", "host-a", "host-b"],
      "each once, in order",
    );
    assert.ok(bumped[0].idx > a1 && bumped[1].idx > bumped[0].idx && bumped[2].idx > bumped[1].idx);
    for (const { name, idx } of bumped) assert.equal(await s.hostIndex(name), idx);
    assert.ok(await s.bumpHostIndex("host-d") > bumped[2].idx, "the counter moved past them all");
    assert.deepEqual(await s.bumpHostIndexes([]), []);
  });

  test("host info is written whole, listed by name, touched and forgotten", async (s) => {
    assert.equal(await s.hostInfo("host-a"), undefined);
    await s.upsertHostInfo(hostRow("host-b"));
    await s.upsertHostInfo(hostRow("host-a", { labels: "{}", cpus: null, memory: null }));
    assert.deepEqual(
      (await s.allHostInfo()).map((h) => h.name),
      ["host-a", "host-b"],
    );
    assert.deepEqual(
      await s.hostInfo("host-a"),
      hostRow("host-a", { labels: "{}", cpus: null, memory: null }),
    );
    const draining = hostRow("host-b", { draining: 1, registered_at: null, interval_ms: null });
    await s.upsertHostInfo(draining);
    assert.deepEqual(await s.hostInfo("host-b"), draining, "an upsert overwrites every column");
    await s.touchHostInfo("host-b", T2);
    assert.deepEqual(await s.hostInfo("host-b"), { ...draining, last_seen: T2 });
    await s.touchHostInfo("host-c", T2);
    assert.equal(await s.hostInfo("host-c"), undefined, "touching an unknown host adds nothing");
    await s.deleteHostInfo("host-b");
    assert.deepEqual((await s.allHostInfo()).map((h) => h.name), ["host-a"]);
  });

  test("events get growing ids and are read by filter, first or last, and counted", async (s) => {
    assert.equal(await s.lastEventId(), 0);
    const ids = [
      await s.insertEvent(eventRow({ at: T0, manifest: "shop", host: "host-a" })),
      await s.insertEvent(eventRow({ at: T1, manifest: "blog", host: "host-a" })),
      await s.insertEvent(eventRow({ at: T1, manifest: "shop", host: "host-b" })),
      await s.insertEvent(eventRow({ at: T2, manifest: "shop", host: "host-a", kind: "state" })),
    ];
    assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), `growing: ${ids}`);
    assert.equal(await s.lastEventId(), ids[3]);
    assert.equal(await s.countEvents(), 4);
    const all = await allEvents(s);
    assert.deepEqual(all.map((e) => e.id), ids);
    assert.deepEqual(all[3], {
      ...eventRow({ at: T2, manifest: "shop", host: "host-a", kind: "state" }),
      id: ids[3],
    });
    const query = { after: 0, since: "", manifest: null, host: null, limit: 10 };
    const idsOf = (rows: EventRow[]) => rows.map((e) => e.id);
    assert.deepEqual(idsOf(await s.firstEvents({ ...query, manifest: "shop" })), [
      ids[0],
      ids[2],
      ids[3],
    ]);
    assert.deepEqual(idsOf(await s.firstEvents({ ...query, host: "host-a" })), [
      ids[0],
      ids[1],
      ids[3],
    ]);
    assert.deepEqual(idsOf(await s.firstEvents({ ...query, since: T1 })), ids.slice(1));
    assert.deepEqual(idsOf(await s.firstEvents({ ...query, after: ids[1] })), ids.slice(2));
    assert.deepEqual(idsOf(await s.firstEvents({ ...query, limit: 2 })), ids.slice(0, 2));
    assert.deepEqual(
      idsOf(await s.lastEvents({ ...query, limit: 2 })),
      ids.slice(2),
      "the last ones, oldest first",
    );
    assert.deepEqual(
      idsOf(await s.lastEvents({ ...query, manifest: "shop", host: "host-a", limit: 1 })),
      [ids[3]],
    );
  });

  test("events are pruned by age and beyond a count, a batch at a time; ids never come back", async (s) => {
    const ids: number[] = [];
    for (const at of [T0, T0, T0, T1, T1, T2]) ids.push(await s.insertEvent(eventRow({ at })));
    assert.equal(await s.pruneEventsBefore(T1, 2), 2, "at most a batch");
    assert.equal(await s.pruneEventsBefore(T1, 10), 1);
    assert.equal(await s.pruneEventsBefore(T1, 10), 0);
    assert.deepEqual((await allEvents(s)).map((e) => e.id), ids.slice(3));
    assert.equal(await s.pruneEventsBeyond(1, 1), 1, "the oldest first, at most a batch");
    assert.deepEqual((await allEvents(s)).map((e) => e.id), ids.slice(4));
    assert.equal(await s.pruneEventsBeyond(1, 10), 1);
    assert.equal(await s.pruneEventsBeyond(1, 10), 0, "the newest `keep` stay");
    assert.deepEqual((await allEvents(s)).map((e) => e.id), [ids[5]]);
    assert.equal(await s.countEvents(), 1);
    await s.pruneEventsBeyond(0, 10);
    assert.equal(await s.countEvents(), 0);
    assert.equal(await s.lastEventId(), ids[5], "the last id outlives its event");
    assert.ok(await s.insertEvent(eventRow()) > ids[5], "and is never given again");
  });

  test("tokens are found by hash, listed oldest first, touched and revoked", async (s) => {
    await s.insertToken(tokenRow("b2", { created_at: T1 }));
    await s.insertToken(tokenRow("a1", { created_at: T1, role: "agent", host: "host-a" }));
    await s.insertToken(tokenRow("c3", { created_at: T0, expires_at: T2 }));
    assert.deepEqual(
      (await s.allTokens()).map((t) => t.id),
      ["c3", "b2", "a1"],
      "by creation time, then as inserted",
    );
    assert.deepEqual(
      await s.tokenByHash("hash-a1"),
      tokenRow("a1", { created_at: T1, role: "agent", host: "host-a" }),
    );
    assert.equal(await s.tokenByHash("nope"), undefined);
    await s.touchToken("a1", T2);
    assert.equal((await s.tokenByHash("hash-a1"))?.last_used_at, T2);
    assert.equal(await s.revokeToken("a1"), true);
    assert.equal(await s.revokeToken("a1"), true, "revoking twice is fine");
    assert.equal(await s.revokeToken("nope"), false);
    assert.equal((await s.tokenByHash("hash-a1"))?.revoked, 1);
    assert.equal((await s.tokenByHash("hash-b2"))?.revoked, 0);
    await assert.rejects(s.insertToken(tokenRow("d4", { hash: "hash-b2" })), "hashes are unique");
  });

  test("tokens are found by id too", async (s) => {
    await s.insertToken(tokenRow("a1", { revoked: 1 }));
    assert.deepEqual(await s.tokenById("a1"), tokenRow("a1", { revoked: 1 }));
    assert.equal(await s.tokenById("hash-a1"), undefined, "by id, not by hash");
  });

  test("sessions are found by id hash, touched and deleted, alone or with their token's", async (s) => {
    await s.insertToken(tokenRow("a1"));
    await s.insertToken(tokenRow("b2"));
    const a = sessionRow("sa", "a1");
    await s.insertSession(a);
    await s.insertSession(sessionRow("sb", "a1"));
    await s.insertSession(sessionRow("sc", "b2"));
    assert.deepEqual(await s.sessionByHash("sa"), a);
    assert.equal(await s.sessionByHash("nope"), undefined);
    await assert.rejects(s.insertSession(sessionRow("sa", "b2")), "id hashes are unique");
    await assert.rejects(s.insertSession(sessionRow("sd", "nope")), "its token must exist");
    assert.equal(await s.sessionByHash("sd"), undefined);

    await s.touchSession("sa", T2);
    assert.deepEqual(await s.sessionByHash("sa"), { ...a, last_used_at: T2 });
    assert.equal(await s.deleteSession("sa"), true);
    assert.equal(await s.deleteSession("sa"), false, "deleting twice says so");
    assert.equal(await s.sessionByHash("sa"), undefined);
    assert.equal(await s.deleteSessionsOfToken("a1"), 1);
    assert.equal(await s.sessionByHash("sb"), undefined);
    assert.deepEqual(await s.sessionByHash("sc"), sessionRow("sc", "b2"), "another token's stays");
    assert.equal(await s.deleteSessionsOfToken("a1"), 0);
  });

  test("sessions are pruned when idle, old, or their token revoked or expired", async (s) => {
    await s.insertToken(tokenRow("live"));
    await s.insertToken(tokenRow("gone", { revoked: 1 }));
    await s.insertToken(tokenRow("ends", { expires_at: T2 }));
    const at = (minute: number) => `2025-01-01T00:${String(minute).padStart(2, "0")}:00.000Z`;
    await s.insertSession(sessionRow("idle", "live", { created_at: at(5), last_used_at: at(10) }));
    await s.insertSession(sessionRow("old", "live", { created_at: at(1), last_used_at: at(30) }));
    await s.insertSession(sessionRow("used", "live", { created_at: at(5), last_used_at: at(11) }));
    await s.insertSession(
      sessionRow("revoked", "gone", { created_at: at(5), last_used_at: at(30) }),
    );
    await s.insertSession(
      sessionRow("expired", "ends", { created_at: at(5), last_used_at: at(30) }),
    );
    assert.equal(await s.pruneSessions(at(10), at(1), at(1)), 3, "idle, old and revoked");
    assert.ok(await s.sessionByHash("expired"), "its token expires at 00:02");
    assert.equal(await s.pruneSessions(at(10), at(1), T2), 1, "expired at 00:02");
    assert.deepEqual(
      (await Promise.all(
        ["idle", "old", "used", "revoked", "expired"].map((id) => s.sessionByHash(id)),
      ))
        .map((row) => row?.id_hash),
      [undefined, undefined, "used", undefined, undefined],
    );
    assert.equal(await s.pruneSessions(at(10), at(1), T2), 0);
  });

  test("sessions beyond a count go least recently used first", async (s) => {
    await s.insertToken(tokenRow("a1"));
    await s.insertSession(sessionRow("s1", "a1", { created_at: T0, last_used_at: T2 }));
    await s.insertSession(sessionRow("s2", "a1", { created_at: T1, last_used_at: T1 }));
    await s.insertSession(sessionRow("s3", "a1", { created_at: T0, last_used_at: T1 }));
    await s.insertSession(sessionRow("s4", "a1", { created_at: T2, last_used_at: T2 }));
    assert.equal(await s.pruneSessionsBeyond(4), 0);
    assert.equal(await s.pruneSessionsBeyond(2), 2);
    const left = await Promise.all(["s1", "s2", "s3", "s4"].map((id) => s.sessionByHash(id)));
    assert.deepEqual(left.map((row) => row !== undefined), [true, false, false, true]);
    assert.equal(await s.pruneSessionsBeyond(0), 2);
    assert.equal(await s.sessionByHash("s1"), undefined);
  });

  test("revisions are numbered per manifest and read newest first", async (s) => {
    assert.equal(await s.latestRevision("shop"), 0);
    const revision = (number: number, text: string) => ({
      manifest: "shop",
      number,
      text,
      format: "yaml",
      actor: "admin",
      at: T0,
    });
    await s.insertRevision(revision(1, "name: shop\n"));
    await s.insertRevision(revision(2, "name: shop # 2\n"));
    await s.insertRevision({ ...revision(1, "name: blog\n"), manifest: "blog", format: "json" });
    assert.equal(await s.latestRevision("shop"), 2);
    assert.equal(await s.latestRevision("blog"), 1);
    assert.deepEqual(await s.revisionsOf("shop"), [
      { number: 2, actor: "admin", at: T0 },
      { number: 1, actor: "admin", at: T0 },
    ]);
    assert.deepEqual(await s.revision("shop", 1), revision(1, "name: shop\n"));
    assert.equal(await s.revision("shop", 3), undefined);
    await assert.rejects(s.insertRevision(revision(2, "again")), "a number is used once");
  });

  test("secrets are written whole, replaced keeping their creation time, listed by name and deleted", async (s) => {
    const secret = (name: string, extra: Partial<SecretRow> = {}): SecretRow => ({
      name,
      ciphertext: "Y2lwaGVy",
      iv: "aXZpdml2aXZpdml2",
      digest: "ab".repeat(32),
      created_at: T0,
      updated_at: T0,
      ...extra,
    });
    assert.deepEqual(await s.allSecrets(), []);
    assert.equal(await s.secret("db-password"), undefined);
    await s.putSecret(secret("db-password"));
    await s.putSecret(secret("api-key"));
    const later = "2026-01-02T00:00:00.000Z";
    await s.putSecret(
      secret("db-password", {
        ciphertext: "bmV3",
        iv: "bmV3aXY=",
        digest: "cd",
        created_at: later,
        updated_at: later,
      }),
    );
    assert.deepEqual(
      await s.secret("db-password"),
      secret("db-password", {
        ciphertext: "bmV3",
        iv: "bmV3aXY=",
        digest: "cd",
        updated_at: later,
      }),
      "a replaced secret keeps when it was created",
    );
    assert.deepEqual((await s.allSecrets()).map((row) => row.name), ["api-key", "db-password"]);
    assert.equal(await s.deleteSecret("api-key"), true);
    assert.equal(await s.deleteSecret("api-key"), false);
    assert.deepEqual((await s.allSecrets()).map((row) => row.name), ["db-password"]);
  });

  test("the secret key check is written once and kept", async (s) => {
    assert.equal(await s.secretKeyCheck(), undefined);
    await s.setSecretKeyCheck("first");
    await s.setSecretKeyCheck("second");
    assert.equal(await s.secretKeyCheck(), "first");
  });

  test("an event keeps the secret it names", async (s) => {
    const id = await s.insertEvent(
      eventRow({ kind: "secret", action: "set", secret: "db-password" }),
    );
    const [row] = await s.firstEvents({
      after: id - 1,
      since: "",
      manifest: null,
      host: null,
      limit: 1,
    });
    assert.equal(row.secret, "db-password");
    assert.equal(row.kind, "secret");
  });

  test("rollouts: one per manifest, replaced whole, the running ones apart", async (s) => {
    assert.equal(await s.rollout("shop"), undefined);
    await s.putRollout(rolloutRow("shop"));
    await s.putRollout(rolloutRow("blog", { status: "succeeded", revision: null }));
    await s.putRollout(rolloutRow("api"));
    const replaced = rolloutRow("shop", { status: "failed", batch: 2, error: "late", plan: "{}" });
    await s.putRollout(replaced);
    assert.deepEqual(await s.rollout("shop"), replaced);
    assert.deepEqual((await s.allRollouts()).map((r) => r.manifest), ["api", "blog", "shop"]);
    assert.deepEqual((await s.activeRollouts()).map((r) => r.manifest), ["api"]);
  });

  test("copy statements keep rows as they are; counters are raised, never lowered", async (s) => {
    const manifest = { name: "shop", policy: '{"update":{}}', created_at: T0, updated_at: T1 };
    await s.copyManifest(manifest);
    assert.deepEqual(await s.manifest("shop"), manifest);

    assert.deepEqual(await s.allHostIndexes(), []);
    assert.equal(await s.indexCounter(), 0);
    await s.copyHostIndex({ name: "host-b", idx: 7 });
    await s.copyHostIndex({ name: "host-a", idx: 3 });
    await s.copyIndexCounter(7);
    await s.copyIndexCounter(2);
    assert.deepEqual(await s.allHostIndexes(), [
      { name: "host-a", idx: 3 },
      { name: "host-b", idx: 7 },
    ]);
    assert.equal(await s.indexCounter(), 7, "never lowered");
    assert.equal(await s.bumpHostIndex("host-c"), 8);
    assert.equal(await s.indexCounter(), 8);

    await s.copyEvent({ ...eventRow({ at: T0 }), id: 5 });
    await s.copyEvent({ ...eventRow({ at: T1 }), id: 6 });
    await s.copyLastEventId(9);
    await s.copyLastEventId(4);
    assert.deepEqual((await allEvents(s)).map((e) => [e.id, e.at]), [[5, T0], [6, T1]]);
    assert.equal(await s.lastEventId(), 9, "a pruned last id is kept, never lowered");
    assert.equal(await s.insertEvent(eventRow({ at: T2 })), 10, "ids go on after it");

    const revision = (manifest: string, number: number) => ({
      manifest,
      number,
      text: `name: ${manifest}\n`,
      format: "yaml",
      actor: "admin",
      at: T0,
    });
    await s.insertRevision(revision("shop", 2));
    await s.insertRevision(revision("blog", 1));
    await s.insertRevision(revision("shop", 1));
    assert.deepEqual(await s.allRevisions(), [
      revision("blog", 1),
      revision("shop", 1),
      revision("shop", 2),
    ]);

    // Read when the store opens: this one keeps the id it read (the copy tests reopen).
    const id = s.clusterId();
    await s.copyClusterId("11111111-2222-3333-4444-555555555555");
    assert.equal(s.clusterId(), id);
  });

  test("the last event id is kept when no event was ever recorded", async (s) => {
    await s.copyLastEventId(41);
    assert.equal(await s.lastEventId(), 41);
    assert.equal(await s.insertEvent(eventRow()), 42);
  });

  test("the cluster id is made once and the same through a transaction", async (s) => {
    const id = s.clusterId();
    assert.ok(id.length > 0);
    assert.equal(await s.transaction((tx) => Promise.resolve(tx.clusterId())), id);
  });

  test("a transaction commits what it wrote and answers what its fn did", async (s) => {
    const answer = await s.transaction(async (tx) => {
      await tx.upsertManifest("shop", "{}", T0);
      await tx.insertContainer(containerRow("shop", "web"));
      assert.equal(await tx.hasManifest("shop"), true, "it reads its own writes");
      return await tx.bumpHostIndex("host-a");
    });
    assert.equal(await s.hostIndex("host-a"), answer);
    assert.deepEqual((await s.allContainers()).map((r) => r.name), ["web"]);
  });

  test("a transaction that throws leaves nothing and rethrows", async (s) => {
    await s.upsertManifest("shop", "{}", T0);
    const before = await s.bumpHostIndex("host-a");
    const boom = new Error("boom");
    await assert.rejects(
      s.transaction(async (tx) => {
        await tx.insertContainer(containerRow("shop", "web"));
        await tx.bumpHostIndex("host-a");
        await tx.insertEvent(eventRow());
        await tx.upsertHostInfo(hostRow("host-a"));
        throw boom;
      }),
      (error) => error === boom,
    );
    assert.deepEqual(await s.allContainers(), []);
    assert.equal(await s.hostIndex("host-a"), before);
    assert.equal(await s.countEvents(), 0);
    assert.equal(await s.hostInfo("host-a"), undefined);
    await s.transaction((tx) => tx.insertContainer(containerRow("shop", "web")));
    assert.equal((await s.allContainers()).length, 1, "the store works on");
  });

  test("a failing statement fails its transaction, which writes nothing", async (s) => {
    await s.upsertManifest("shop", "{}", T0);
    await assert.rejects(
      s.transaction(async (tx) => {
        await tx.insertContainer(containerRow("shop", "web"));
        await tx.insertContainer(containerRow("shop", "web"));
      }),
    );
    assert.deepEqual(await s.allContainers(), []);
  });

  cases.push({
    name: "onTransaction hears each transaction asked for: how long it took and how it ended",
    fn: async (_opened, open) => {
      const heard: [number, string][] = [];
      const mine = await open({
        onTransaction: (seconds, outcome) => heard.push([seconds, outcome]),
      });
      try {
        const s = mine.store;
        await s.transaction(async (tx) => {
          await tx.upsertManifest("shop", "{}", T0);
          // A joined transaction is part of the one it joins, not one of its own.
          await tx.transaction((nested) => nested.insertContainer(containerRow("shop", "web")));
          await pause(20);
        });
        await assert.rejects(s.transaction(() => Promise.reject(new Error("no"))), /no/);
        await s.upsertManifest("blog", "{}", T0);
        await s.hasManifest("shop");
        assert.deepEqual(heard.map(([, outcome]) => outcome), ["commit", "rollback"]);
        assert.ok(heard[0][0] >= 0.015 && heard[0][0] < 10, `took ${heard[0][0]} s`);
        assert.ok(heard[1][0] >= 0, `took ${heard[1][0]} s`);
      } finally {
        await mine.cleanup();
      }
    },
  });

  test("a nested transaction joins the one it is in", async (s) => {
    await s.upsertManifest("shop", "{}", T0);
    await assert.rejects(
      s.transaction(async (tx) => {
        const inner = await tx.transaction(async (nested) => {
          await nested.insertContainer(containerRow("shop", "web"));
          return await nested.bumpHostIndex("host-a");
        });
        assert.equal(await tx.hostIndex("host-a"), inner, "the outer one sees the inner's writes");
        assert.ok(await tx.container("shop", "web"));
        throw new Error("outer");
      }),
      /outer/,
    );
    assert.deepEqual(await s.allContainers(), [], "the inner's writes go with the outer's");
    assert.equal(await s.hostIndex("host-a"), 0);
  });

  test("concurrent transactions take turns: read-modify-writes all count", async (s) => {
    const start = await s.bumpHostIndex("host-a");
    const bump = () =>
      s.transaction(async (tx) => {
        const read = await tx.hostIndex("host-a");
        await pause(20);
        const bumped = await tx.bumpHostIndex("host-a");
        return { read, bumped };
      });
    const [first, second] = await Promise.all([bump(), bump()]);
    assert.deepEqual(
      [first.bumped, second.bumped].sort((a, b) => a - b),
      [start + 1, start + 2],
      "both increments count",
    );
    const [earlier, later] = first.bumped < second.bumped ? [first, second] : [second, first];
    assert.equal(earlier.read, start);
    assert.equal(later.read, earlier.bumped, "the later one read what the earlier one wrote");
    assert.equal(await s.hostIndex("host-a"), start + 2);
  });

  test("a transaction's writes are seen by nobody else before it commits", async (s) => {
    await s.upsertManifest("shop", "{}", T0);
    let wrote!: () => void;
    const written = new Promise<void>((resolve) => wrote = resolve);
    const tx = s.transaction(async (tx) => {
      await tx.insertContainer(containerRow("shop", "web"));
      wrote();
      await pause(20);
      throw new Error("rolled back");
    });
    await written;
    assert.deepEqual(await s.allContainers(), [], "never the uncommitted row");
    await assert.rejects(tx, /rolled back/);
  });

  test("onCommit runs after the commit, never after a rollback", async (s) => {
    const seen: string[] = [];
    await s.transaction(async (tx) => {
      tx.onCommit(() => seen.push("first"));
      await tx.transaction((nested) => Promise.resolve(nested.onCommit(() => seen.push("inner"))));
      await tx.bumpHostIndex("host-a");
      tx.onCommit(() => seen.push("last"));
      assert.deepEqual(seen, [], "not before the commit");
    });
    assert.deepEqual(seen, ["first", "inner", "last"], "once the outermost commits, in order");
    await assert.rejects(
      s.transaction((tx) => {
        tx.onCommit(() => seen.push("rolled back"));
        return Promise.reject(new Error("no"));
      }),
      /no/,
    );
    assert.deepEqual(seen, ["first", "inner", "last"]);
    assert.throws(() => s.onCommit(() => {}), TransactionMisuseError, "outside a transaction");
  });

  test("the store refuses to be used inside its own transaction, and a tx after its end", async (s) => {
    let leaked: Store | undefined;
    await s.transaction(async (tx) => {
      leaked = tx;
      await assert.rejects(within(1000, s.hostIndex("host-a")), TransactionMisuseError);
      await assert.rejects(
        within(1000, s.transaction(() => Promise.resolve())),
        TransactionMisuseError,
      );
      await assert.rejects(within(1000, s.bumpHostIndex("host-a")), TransactionMisuseError);
      await tx.bumpHostIndex("host-a");
    });
    await assert.rejects(leaked!.hostIndex("host-a"), TransactionMisuseError);
    await assert.rejects(leaked!.transaction(() => Promise.resolve()), TransactionMisuseError);
    assert.equal(await s.hostIndex("host-a"), 1, "the store is fine outside");
  });

  test("bestEffort answers whether its write was made, and rethrows what is not a full disk", async (s) => {
    assert.equal(await s.bestEffort(() => s.touchHostInfo("host-a", T0)), true);
    await assert.rejects(s.bestEffort(() => Promise.reject(new Error("other"))), /other/);
    await s.transaction(async (tx) => {
      assert.equal(await tx.bestEffort(() => tx.touchHostInfo("host-a", T0)), true);
    });
  });

  test("close waits for the transaction in progress; closing twice is fine", async (s) => {
    const running = s.transaction(async (tx) => {
      await pause(20);
      return await tx.bumpHostIndex("host-a");
    });
    await pause(0);
    await s.close();
    assert.equal(await running, 1, "the transaction committed before the close");
    await assert.rejects(s.hostIndex("host-a"), "a closed store answers nothing");
    await s.close();
  });
  return cases;
}

/**
 * The cases of two stores on one location, as two servers on one database: what one store on one
 * connection gave for free (SQLite's transactions never overlap) must hold across them too.
 */
function sharedCases(): ContractCase[] {
  const cases: ContractCase[] = [];
  const test = (what: string, fn: (a: Store, b: Store) => Promise<void>) =>
    cases.push({
      name: `two servers: ${what}`,
      fn: async ({ store, openAnother }) => {
        assert.ok(openAnother, "the implementation opens a second store on the same location");
        await fn(store, await openAnother());
      },
    });

  test("concurrent read-modify-writes from both all count, one after the other", async (a, b) => {
    const start = await a.bumpHostIndex("host-a");
    const bump = (s: Store, other: string) =>
      s.transaction(async (tx) => {
        const read = await tx.hostIndex("host-a");
        await pause(5);
        const bumped = await tx.bumpHostIndex("host-a");
        await tx.bumpHostIndex(other);
        return { read, bumped };
      });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => i % 2 === 0 ? bump(a, "host-b") : bump(b, "host-c")),
    );
    results.sort((x, y) => x.bumped - y.bumped);
    assert.equal(results[0].read, start);
    results.forEach((r, i) => {
      if (i > 0) assert.equal(r.read, results[i - 1].bumped, "each read what the one before wrote");
      assert.ok(r.bumped > r.read);
    });
    const last = results[results.length - 1].bumped;
    assert.equal(await a.hostIndex("host-a"), last);
    assert.equal(await b.hostIndex("host-a"), last);
    assert.equal(await b.bumpHostIndex("host-d"), start + 21, "both increments of each counted");
  });

  test(
    "a transaction reads one state while the other commits, and writes on the latest",
    async (a, b) => {
      await a.upsertManifest("shop", "{}", T0);
      let read!: () => void;
      const hasRead = new Promise<void>((resolve) => read = resolve);
      let commit!: () => void;
      const committed = new Promise<void>((resolve) => commit = resolve);
      const reading = b.transaction(async (tx) => {
        const before = (await tx.allContainers()).length;
        read();
        await committed;
        return { before, after: (await tx.allContainers()).length, index: await tx.hostIndex("x") };
      });
      let attempts = 0;
      const writing = b.transaction(async (tx) => {
        attempts++;
        const seen = (await tx.allContainers()).length;
        await committed;
        await tx.insertEvent(eventRow({ kind: "state", error: `saw ${seen}` }));
      });
      await hasRead;
      await a.transaction(async (tx) => {
        await tx.insertContainer(containerRow("shop", "web"));
        await tx.bumpHostIndex("x");
      });
      commit();
      assert.deepEqual(await reading, { before: 0, after: 0, index: 0 }, "one state throughout");
      await writing;
      assert.equal((await allEvents(a))[0].error, "saw 1", "the write acted on the committed row");
      assert.ok(attempts >= 1);
      assert.equal((await b.allContainers()).length, 1);
    },
  );

  test(
    "event ids grow in commit order, and an event not committed is not the last",
    async (a, b) => {
      const first = await a.insertEvent(eventRow());
      let inserted!: () => void;
      const hasInserted = new Promise<void>((resolve) => inserted = resolve);
      let release!: () => void;
      const released = new Promise<void>((resolve) => release = resolve);
      const open = b.transaction(async (tx) => {
        const id = await tx.insertEvent(eventRow({ kind: "state" }));
        inserted();
        await released;
        return id;
      });
      await hasInserted;
      assert.equal(await a.lastEventId(), first, "not before its commit");
      const later = a.insertEvent(eventRow({ kind: "action" }));
      await pause(20);
      release();
      const [second, third] = [await open, await later];
      assert.ok(first < second && second < third, `${first} < ${second} < ${third}`);
      assert.equal(await a.lastEventId(), third);
      assert.equal(await b.lastEventId(), third);
      assert.deepEqual((await allEvents(b)).map((e) => e.id), [first, second, third]);
    },
  );

  return cases;
}
