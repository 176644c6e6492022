import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import * as v from "valibot";
import { EventPageSchema } from "../../src/api/events.ts";
import { RevisionSchema } from "../../src/api/revisions.ts";
import { TokenInfoSchema } from "../../src/api/tokens.ts";
import { run } from "../../src/cli/main.ts";
import { startServer } from "../../src/server/http/serve.ts";
import { migrate, schemaVersion } from "../../src/server/store/migrate.ts";
import { MigrationError, StoreTooNewError } from "../../src/server/store/versions.ts";
import { MIGRATIONS } from "../../src/server/store/schema.ts";
import { SqliteStore } from "../../src/server/store/sqlite_store.ts";
import { find, type Harness, openHarness } from "./harness.ts";

/** The schema version this launcher writes. */
const CURRENT = MIGRATIONS.length;

/** Tokens recorded in tests/fixtures/README.md when the fixtures were made. */
const V0_TOKENS = {
  admin: "on52JZPcMxRP1Dt37Ja3gYYj8naFgOUl6q0nkm-H17Q",
  read: "ha82ltZuz3oGaCaC4-Bh5TSpcSEGaWHhXhIXckvFIkw",
  agentA: "1ogw67GI_nbaY5n6lVbJVksnCGKyQgdh3fzlr8STodU",
};

const OLD_TOKENS = [
  "7Gkuy4KL7G0LAWIIo2v_wkoECv1KvcWlnoSa9iFADKw",
  "1vfZ_zCtuYBtT8OzsTHTdImu-15MF128Vg6ro2mwftU",
];

/** Where the fixtures are; tests/fixtures/README.md says how each was made. */
const FIXTURES = new URL("../fixtures/", import.meta.url);

/** A temp data dir holding a copy of a checked-in fixture: the fixture itself is never opened. */
async function copyFixture(name: string): Promise<string> {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-schema-test-" });
  await Deno.copyFile(
    new URL(`${name}/launcher.db`, FIXTURES),
    join(dataDir, "launcher.db"),
  );
  return dataDir;
}

/**
 * The SHA-256 of the data dir's database file: comparing digests fails at once where a byte-wise
 * deepEqual of two files would spend minutes on its diff.
 */
async function fileDigest(dataDir: string): Promise<string> {
  const bytes = await Deno.readFile(join(dataDir, "launcher.db"));
  return createHash("sha256").update(bytes).digest("hex");
}

/** Runs `fn` on the data dir's database, opened apart from any store. */
function withDb<T>(dataDir: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(dataDir, "launcher.db"));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Every row of a query, as plain objects. */
function rows(db: DatabaseSync, sql: string): Record<string, unknown>[] {
  return db.prepare(sql).all().map((row) => ({ ...row }));
}

/** What a store holds that an upgrade must keep, read from the file as it is. */
function contents(dataDir: string) {
  return withDb(dataDir, (db) => ({
    containers: rows(
      db,
      "SELECT manifest, name, host, spec, spec_hash, desired, state FROM containers " +
        "ORDER BY manifest, name",
    ),
    // Columns of every release: an early one has no role or host.
    tokens: rows(db, "SELECT * FROM tokens ORDER BY created_at"),
    events: db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'events'").get()
      ? rows(db, "SELECT id, kind, manifest, container, action FROM events ORDER BY id")
      : [],
  }));
}

/** Asserts that ps lists the stored containers with their specs, hashes, hosts and states. */
async function assertContainersKept(
  h: Harness,
  stored: Record<string, unknown>[],
): Promise<void> {
  const ps = await h.ps();
  assert.equal(ps.length, stored.length);
  for (const row of stored) {
    const listed = find(ps, String(row.manifest), String(row.name));
    assert.deepEqual(listed.config, JSON.parse(String(row.spec)));
    assert.equal(listed.specHash, row.spec_hash);
    assert.equal(listed.host, row.host);
    assert.equal(listed.desired, row.desired);
    assert.equal(listed.state, row.state);
    assert.equal(listed.normalized.image, listed.config.image, "the normalized spec is filled");
  }
}

/** The answer's status to a request with `token`. */
async function status(h: Harness, token: string, method: string, path: string, body?: unknown) {
  const res = await h.app.request(`/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.body?.cancel();
  return res.status;
}

/** The tokens `GET /tokens` lists. */
async function tokens(h: Harness) {
  const res = await h.call("GET", "/tokens");
  assert.equal(res.status, 200);
  return v.parse(v.array(TokenInfoSchema), await res.json());
}

/** The events `GET /events` lists, as the fields the fixture's rows hold. */
async function events(h: Harness) {
  const res = await h.call("GET", "/events");
  assert.equal(res.status, 200);
  return v.parse(EventPageSchema, await res.json()).events.map((e) => ({
    id: e.id,
    kind: e.kind,
    manifest: e.manifest ?? null,
    container: e.container ?? null,
    action: e.action ?? null,
  }));
}

/**
 * Opens a copy of a fixture from before versions in a harness with `token`, runs `fn` with what
 * the file held, and checks what every upgrade must do: ps lists the stored containers as they
 * were, and the store ends at this launcher's version.
 */
async function upgradeFixture(
  name: string,
  token: string,
  fn: (h: Harness, before: ReturnType<typeof contents>) => Promise<void>,
): Promise<void> {
  const dataDir = await copyFixture(name);
  try {
    const before = contents(dataDir);
    assert.equal(withDb(dataDir, schemaVersion), 0, "the fixture is from before versions");
    const h = await openHarness({ dataDir, token });
    try {
      await assertContainersKept(h, before.containers);
      await fn(h, before);
    } finally {
      await h.close(true);
    }
    assert.equal(withDb(dataDir, schemaVersion), CURRENT);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("a data dir of the last release without versions keeps its manifests, tokens and events", async () => {
  await upgradeFixture("datadir-v0", V0_TOKENS.admin, async (h, before) => {
    const ps = await h.ps();
    assert.equal(find(ps, "shop", "web").config.image, "nginx:1.28");
    assert.equal(find(ps, "api", "app.1").host, "host-b", "placed instances keep their host");
    assert.equal(find(ps, "api", "app.2").host, "host-a");

    // Every token keeps its id, role and host, and still authenticates as that role.
    const byId = (a: { id: unknown }, b: { id: unknown }) =>
      String(a.id).localeCompare(String(b.id));
    assert.deepEqual(
      (await tokens(h)).map((t) => ({ id: t.id, role: t.role, host: t.host ?? null })).sort(byId),
      before.tokens.map(({ id, role, host }) => ({ id, role, host })).sort(byId),
    );
    assert.equal(await status(h, V0_TOKENS.read, "POST", "/manifest/ps", {}), 200);
    assert.equal(
      await status(h, V0_TOKENS.read, "POST", "/manifest/down", { manifest: "api" }),
      403,
    );
    assert.equal(await status(h, V0_TOKENS.agentA, "GET", "/container?host=host-a"), 200);
    assert.equal(await status(h, V0_TOKENS.agentA, "GET", "/container?host=host-b"), 403);

    assert.equal(before.events.length, 8);
    assert.deepEqual(await events(h), before.events);

    // The revisions are kept, and the last one's text hashes as the stored specs do: web is
    // unchanged, and db (stopped) is only asked to run again, with the same hash.
    const res = await h.call("POST", "/manifest/revision", { manifest: "shop", number: 2 });
    assert.equal(res.status, 200);
    const again = await h.up(v.parse(RevisionSchema, await res.json()).text);
    assert.deepEqual([again.unchanged, again.updated, again.revision], [["web"], ["db"], 3]);
    const db = find(await h.ps(), "shop", "db");
    assert.equal(db.specHash, find(ps, "shop", "db").specHash);
    assert.equal(db.desired, "running");
  });
});

Deno.test("a data dir of an early release (323125d, before scoped tokens) keeps its manifests and tokens", async () => {
  await upgradeFixture("datadir-v0-323125d", OLD_TOKENS[0], async (h, before) => {
    assert.deepEqual(before.events, [], "that release kept no events");
    const list = await tokens(h);
    assert.deepEqual(list.map((t) => t.createdAt), before.tokens.map((t) => t.created_at));
    for (const token of list) {
      assert.equal(token.role, "admin", "a token from before roles could do everything");
      assert.match(token.id, /^[0-9a-f]{12}$/, "its UUID id became a short one");
    }
    for (const token of OLD_TOKENS) {
      assert.equal(await status(h, token, "POST", "/manifest/ps", {}), 200);
    }
    assert.deepEqual(await events(h), [], "the events table is made, empty");
    const desired = await h.call("GET", "/container?host=host-a&index=0");
    const { cluster } = await desired.json() as { cluster: string };
    assert.match(cluster, /^[0-9a-f-]{36}$/, "the installation got its id");
    // Today's hash of that release's specs is the stored one: the upgrade recreates nothing (db,
    // stopped, is only asked to run again).
    const again = await h.up(await Deno.readTextFile(new URL("shop.yaml", FIXTURES)));
    assert.deepEqual([again.unchanged, again.updated], [["web"], ["db"]]);
  });
});

Deno.test("opening a store at this launcher's version again writes nothing", async () => {
  const dataDir = await copyFixture("datadir-v0");
  try {
    const first = new SqliteStore(dataDir);
    assert.deepEqual(first.migrated, { from: 0, to: CURRENT, created: false });
    await first.close();
    const migrated = await fileDigest(dataDir);
    const applied = withDb(dataDir, (db) => rows(db, "SELECT version, name FROM schema_version"));
    assert.deepEqual(applied, MIGRATIONS.map(({ version, name }) => ({ version, name })));

    const second = new SqliteStore(dataDir);
    assert.deepEqual(second.migrated, { from: CURRENT, to: CURRENT, created: false });
    await second.close();
    assert.equal(await fileDigest(dataDir), migrated, "the file is as the first open left it");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a new store is made by the migrations, at this launcher's version", () => {
  const db = new DatabaseSync(":memory:");
  try {
    assert.equal(schemaVersion(db), undefined);
    assert.deepEqual(migrate(db), { from: 0, to: CURRENT, created: true });
    assert.equal(schemaVersion(db), CURRENT);
    assert.deepEqual(migrate(db), { from: CURRENT, to: CURRENT, created: false });
  } finally {
    db.close();
  }
});

/** A copy of datadir-v0 migrated, then marked as written by a launcher two versions newer. */
async function newerStore(): Promise<string> {
  const dataDir = await copyFixture("datadir-v0");
  await new SqliteStore(dataDir).close();
  withDb(dataDir, (db) => {
    db.prepare("INSERT INTO schema_version VALUES ($version, 'from_the_future', 'later')")
      .run({ version: CURRENT + 2 });
  });
  return dataDir;
}

/** What a launcher of this version says of a store two versions newer. */
function tooNewMessage(dataDir: string): string {
  return `the store at ${join(dataDir, "launcher.db")} was written by a newer launcher ` +
    `(schema version ${CURRENT + 2}; this launcher knows up to ${CURRENT}): ` +
    "upgrade launcher, or restore a backup";
}

Deno.test("a store written by a newer launcher is refused and left as it is", async () => {
  const dataDir = await newerStore();
  try {
    const digest = await fileDigest(dataDir);
    assert.throws(() => new SqliteStore(dataDir), (error) => {
      assert.ok(error instanceof StoreTooNewError, String(error));
      assert.equal(error.code, "store_too_new");
      assert.equal(error.message, tooNewMessage(dataDir));
      return true;
    });
    assert.equal(await fileDigest(dataDir), digest, "not a byte changed");
    assert.deepEqual(
      [...Deno.readDirSync(dataDir)].map((entry) => entry.name),
      ["launcher.db"],
      "no WAL left behind",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("serve refuses a store written by a newer launcher in one line, exit code 1", async () => {
  const dataDir = await newerStore();
  const errors: string[] = [];
  const original = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    const code = await run([
      "serve",
      ...["--ip", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--token-pass", "pw"],
    ]);
    assert.equal(code, 1);
  } finally {
    console.error = original;
    await Deno.remove(dataDir, { recursive: true });
  }
  assert.deepEqual(errors, [`error: ${tooNewMessage(dataDir)}`]);
});

Deno.test("a failing migration leaves the store exactly as it was, and names itself", async () => {
  const dataDir = await copyFixture("datadir-v0");
  try {
    const digest = await fileDigest(dataDir);
    const failing = {
      version: CURRENT + 1,
      name: "fails_halfway",
      up(db: DatabaseSync) {
        // Schema and data both changed before the failure: all of it, and migration 1, must go.
        db.exec("ALTER TABLE tokens ADD COLUMN note TEXT");
        db.exec("CREATE TABLE half (x INTEGER) STRICT");
        db.exec("DELETE FROM events");
        throw new Error("the step broke");
      },
    };
    withDb(dataDir, (db) => {
      assert.throws(() => migrate(db, [...MIGRATIONS, failing]), (error) => {
        assert.ok(error instanceof MigrationError, String(error));
        assert.equal(
          error.message,
          `schema migration ${CURRENT + 1} (fails_halfway) failed: the step broke`,
        );
        return true;
      });
      assert.equal(db.isTransaction, false);
    });
    assert.equal(await fileDigest(dataDir), digest, "not a byte changed");

    // The store still opens, from version 0, with the real migrations.
    const store = new SqliteStore(dataDir);
    assert.deepEqual(store.migrated, { from: 0, to: CURRENT, created: false });
    await store.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a list of migrations with a gap is refused before anything runs", () => {
  const db = new DatabaseSync(":memory:");
  try {
    const skipped = { version: CURRENT + 2, name: "skips_one", up() {} };
    assert.throws(
      () => migrate(db, [...MIGRATIONS, skipped]),
      new RegExp(`migration skips_one has version ${CURRENT + 2}, not ${CURRENT + 1}`),
    );
    assert.equal(schemaVersion(db), undefined);
  } finally {
    db.close();
  }
});

Deno.test("the server says once that it upgraded a store, and not for a new one", async () => {
  const dataDir = await copyFixture("datadir-v0");
  const fresh = await Deno.makeTempDir({ prefix: "launcher-schema-test-" });
  try {
    const logs: string[] = [];
    const log = (line: string) => logs.push(line);
    for (const dir of [dataDir, dataDir, fresh]) {
      const server = await startServer({
        hostname: "127.0.0.1",
        port: 0,
        store: dir,
        password: "pw",
        log,
      });
      await server.close();
    }
    assert.deepEqual(logs.filter((line) => line.includes("schema")), [
      `upgraded the store ${join(dataDir, "launcher.db")} from schema version 0 to ${CURRENT}`,
    ]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(fresh, { recursive: true });
  }
});

Deno.test("migration 2 gives a store of version 1 its secrets table; old events name none", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-v1-" });
  try {
    withDb(dataDir, (db) => {
      migrate(db, MIGRATIONS.slice(0, 1));
      db.exec("INSERT INTO events (at, kind, actor, action) VALUES ('then', 'up', 'admin', 'x')");
    });
    const store = new SqliteStore(dataDir);
    try {
      assert.deepEqual(store.migrated, { from: 1, to: CURRENT, created: false });
      const [event] = await store.firstEvents({
        after: 0,
        since: "",
        manifest: null,
        host: null,
        limit: 10,
      });
      assert.equal(event.action, "x", "the event is kept");
      assert.equal(event.secret, null);
      assert.deepEqual(await store.allSecrets(), []);
      assert.equal(await store.secretKeyCheck(), undefined);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("migration 3 gives a store of version 2 its web UI sessions; tokens keep theirs", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-v2-" });
  try {
    withDb(dataDir, (db) => {
      migrate(db, MIGRATIONS.slice(0, 2));
      db.exec("INSERT INTO tokens (id, hash, created_at) VALUES ('t1', 'h1', 'then')");
    });
    const store = new SqliteStore(dataDir);
    try {
      assert.deepEqual(store.migrated, { from: 2, to: CURRENT, created: false });
      assert.equal((await store.tokenById("t1"))?.hash, "h1", "the token is kept");
      const row = {
        id_hash: "s1",
        token_id: "t1",
        csrf: "c1",
        created_at: "then",
        last_used_at: "then",
      };
      await store.insertSession(row);
      assert.deepEqual(await store.sessionByHash("s1"), row);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
