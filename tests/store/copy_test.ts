/**
 * `launcher store copy` (src/server/store_copy.ts, src/server/store/copy.ts): a SQLite store
 * filled through the API is copied into a fresh PostgreSQL database and into another data dir,
 * and the target, opened by a server of its own, answers what the source did: the same
 * containers and spec hashes, tokens that still authenticate, events in order, revisions, the
 * cluster id, and host indexes that go on above the copied ones. A non-empty target is refused.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import {
  EventPageSchema,
  ManifestHistorySchema,
  TokenCreatedSchema,
  TokenInfoSchema,
} from "../../src/api/schemas.ts";
import { CopyTargetNotEmptyError } from "../../src/server/store/copy.ts";
import { copyStoreAt } from "../../src/server/store_copy.ts";
import { openStore, type RolloutRow } from "../../src/server/store/store.ts";
import {
  type Harness,
  openHarness,
  registration,
  SHOP_YAML,
  sqliteDataDir,
} from "../api/harness.ts";
import { startPostgres } from "../pg_cluster.ts";
import { eventRow } from "./contract.ts";

const API_YAML = await Deno.readTextFile(new URL("../fixtures/api.yaml", import.meta.url));

/** A source data dir with two manifests (pinned and placed), tokens, events and a rollout. */
interface Source {
  dataDir: string;
  admin: string;
  read: string;
}

async function call(h: Harness, method: string, path: string, body?: unknown) {
  const res = await h.call(method, path, body);
  const json = await res.json();
  assert.ok(res.status < 300, JSON.stringify(json));
  return json;
}

async function fillSource(): Promise<Source> {
  const h = await openHarness({ dataDir: await sqliteDataDir() });
  try {
    for (const host of ["host-a", "host-b"]) {
      await call(h, "POST", "/hosts/register", registration(host));
    }
    await h.up(SHOP_YAML);
    await h.up(API_YAML);
    await h.up(SHOP_YAML.replace("nginx:1.27", "nginx:1.28"));
    const read = v.parse(TokenCreatedSchema, await call(h, "POST", "/tokens", { role: "read" }));
    await call(h, "POST", "/tokens", { role: "agent", host: "host-a" });
    // The agents report: observed state is part of what is copied.
    const body = (await h.ps()).map((c) => ({
      host: c.host,
      name: c.config.name,
      manifest: c.manifestName,
      state: "running",
      specHash: c.specHash,
    }));
    await call(h, "POST", "/state", body);
    assert.ok((await h.ps()).some((c) => c.config.name === "app.2" && c.host !== ""));
    return { dataDir: h.dataDir, admin: h.token, read: read.token };
  } finally {
    await h.close(true);
  }
}

/** A finished rollout, as the planner keeps a manifest's last one. */
const ROLLOUT: RolloutRow = {
  manifest: "api",
  revision: 1,
  status: "succeeded",
  batch: 2,
  batches: 2,
  plan: "[]",
  policy: '{"parallel":1}',
  started_at: "2025-01-01T00:00:00.000Z",
  batch_started_at: null,
  error: null,
  updated_at: "2025-01-01T00:01:00.000Z",
};

async function addRollout(dataDir: string): Promise<void> {
  const store = await openStore(dataDir);
  try {
    await store.putRollout(ROLLOUT);
  } finally {
    await store.close();
  }
}

/** What a server on a store answers: containers, events, histories, tokens. */
async function observe(location: string, token: string) {
  const h = await openHarness({ location, token });
  try {
    const ps = (await h.ps()).map((c) => ({
      manifest: c.manifestName,
      name: c.config.name,
      host: c.host,
      specHash: c.specHash,
      desired: c.desired,
      state: c.state,
    }));
    const events = v.parse(EventPageSchema, await call(h, "GET", "/events?limit=1000")).events;
    const histories = [];
    for (const manifest of ["shop", "api"]) {
      histories.push(
        v.parse(ManifestHistorySchema, await call(h, "POST", "/manifest/history", { manifest })),
      );
    }
    const tokens = v.parse(v.array(TokenInfoSchema), await call(h, "GET", "/tokens"));
    return { ps, events, histories, tokens };
  } finally {
    await h.close(true);
  }
}

/** The target answers as the source did; its ids and counters go on from the source's. */
async function assertCopied(source: Source, target: string, to = target): Promise<void> {
  const before = await observe(source.dataDir, source.admin);
  const counts = await copyStoreAt(`sqlite:${source.dataDir}`, to);
  assert.deepEqual(counts, {
    manifests: 2,
    containers: before.ps.length,
    hosts: 2,
    tokens: before.tokens.length,
    events: before.events.length,
    revisions: 3,
    rollouts: 1,
    secrets: 0,
  });
  const after = await observe(target, source.admin);
  assert.deepEqual(after.ps, before.ps, "same containers, hosts, spec hashes and states");
  assert.deepEqual(after.histories, before.histories);
  assert.deepEqual(after.tokens, before.tokens);
  // Opening a server may record events of its own: the copied ones come first, as they were.
  assert.deepEqual(after.events.slice(0, before.events.length), before.events);

  // The read token authenticates on the target, as that role.
  const h = await openHarness({ location: target, token: source.read });
  try {
    assert.equal((await h.call("POST", "/manifest/ps", {})).status, 200);
    const res = await h.call("POST", "/manifest/down", { manifest: "api" });
    await res.body?.cancel();
    assert.equal(res.status, 403);
  } finally {
    await h.close(true);
  }

  const [src, dst] = [await openStore(source.dataDir), await openStore(target)];
  try {
    assert.equal(dst.clusterId(), src.clusterId(), "agents keep seeing their installation");
    assert.deepEqual(await dst.rollout("api"), ROLLOUT);
    const indexes = await src.allHostIndexes();
    assert.deepEqual(await dst.allHostIndexes(), indexes);
    const highest = Math.max(...indexes.map((row) => row.idx), await src.indexCounter());
    assert.ok(highest > 0);
    assert.ok(await dst.bumpHostIndex("host-new") > highest, "indexes never go back");
    assert.ok(await dst.lastEventId() >= await src.lastEventId());
    assert.ok(
      await dst.insertEvent(eventRow({ at: new Date().toISOString() })) > await src.lastEventId(),
    );
  } finally {
    await src.close();
    await dst.close();
  }
}

/** A copy into a target that holds something is refused, and the target is left as it was. */
async function assertRefused(source: Source, target: string): Promise<void> {
  const before = await observe(target, source.admin);
  const password = URL.canParse(target) ? new URL(target).password : "";
  await assert.rejects(
    copyStoreAt(source.dataDir, target),
    (error) =>
      error instanceof CopyTargetNotEmptyError && /already holds .*manifests/.test(error.message) &&
      (password === "" || !error.message.includes(password)),
  );
  assert.deepEqual(await observe(target, source.admin), before);
}

Deno.test("store copy: SQLite into another data dir, then refused there", async () => {
  const source = await fillSource();
  await addRollout(source.dataDir);
  const target = await sqliteDataDir();
  try {
    await assertCopied(source, target, `sqlite:${target}`);
    await assertRefused(source, target);
  } finally {
    await Deno.remove(source.dataDir, { recursive: true });
    await Deno.remove(target, { recursive: true });
  }
});

Deno.test("store copy: SQLite into PostgreSQL, then refused there; the URL's password is never shown", async () => {
  const cluster = await startPostgres();
  const source = await fillSource();
  try {
    await addRollout(source.dataDir);
    const url = await cluster.createDatabase();
    await assertCopied(source, url);
    await assertRefused(source, url);
  } finally {
    await Deno.remove(source.dataDir, { recursive: true });
    await cluster.stop();
  }
});

Deno.test("store copy: the data dir of the last release without versions copies too", async () => {
  const source = await Deno.makeTempDir({ prefix: "launcher-copy-fixture-" });
  const target = await sqliteDataDir();
  try {
    await Deno.copyFile(
      new URL("../fixtures/datadir-v0/launcher.db", import.meta.url),
      `${source}/launcher.db`,
    );
    const counts = await copyStoreAt(source, target);
    assert.deepEqual(counts, {
      manifests: 2,
      containers: 4,
      hosts: 2,
      tokens: 4,
      events: 8,
      revisions: 3,
      rollouts: 0,
      secrets: 0,
    });
    const [src, dst] = [await openStore(source), await openStore(target)];
    try {
      assert.equal(dst.clusterId(), src.clusterId());
      assert.deepEqual(await dst.allContainers(), await src.allContainers());
      assert.deepEqual(await dst.allTokens(), await src.allTokens());
    } finally {
      await src.close();
      await dst.close();
    }
  } finally {
    await Deno.remove(source, { recursive: true });
    await Deno.remove(target, { recursive: true });
  }
});

Deno.test("store copy: a source data dir without a store is refused, and nothing is made there", async () => {
  const empty = await sqliteDataDir();
  const target = await sqliteDataDir();
  try {
    await assert.rejects(copyStoreAt(empty, target), /no store to copy from/);
    assert.deepEqual([...Deno.readDirSync(empty)], []);
  } finally {
    await Deno.remove(empty, { recursive: true });
    await Deno.remove(target, { recursive: true });
  }
});
