/**
 * A full disk under the data dir: writes answer 507 and change nothing, reads keep working, and
 * the same writes work once there is space. Needs root, to mount a small tmpfs of its own.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertError, type Harness, openHarness, registration, SHOP_YAML } from "./harness.ts";
import { startServer } from "../../src/server/http/serve.ts";
import { StoreOpenError } from "../../src/server/store/store.ts";

const YAML = { "content-type": "application/x-yaml" };
const CHANGED_YAML = SHOP_YAML.replace("postgres:16", "postgres:17");
/** The message names the disk by its data dir, and says that nothing changed. */
const FULL_MESSAGE = /^the server's disk is full \(data dir .+\): nothing was changed/;

/** Runs a command; throws with its output when it fails. */
async function sh(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}): ${text(out.stderr)}`);
  }
  return text(out.stdout);
}

/**
 * Runs `fn` on a fresh 4 MiB tmpfs. Without root the mount fails and so does the test: a full disk
 * is not something to skip silently.
 */
async function withTmpfs(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "launcher-full-disk-" });
  try {
    await sh("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir);
    try {
      await fn(dir);
    } finally {
      // A file left open (by a store a failing test did not close) keeps the mount busy: detach
      // it then, so that no mount outlives the test.
      await sh("umount", dir).catch(() => sh("umount", "--lazy", dir));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Writes `path` until the file system has no block left, and checks that it has none. In WAL mode
 * SQLite appends every transaction to the -wal file (it only starts over after a checkpoint, at
 * 1,000 pages: more than this file system holds), so from here on every write needs a new block.
 */
async function fill(mount: string, path: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch (error) {
    assert.equal((error as { code?: string }).code, "ENOSPC", String(error));
  } finally {
    file.close();
  }
  assert.equal(await sh("stat", "-f", "--format=%a", mount), "0", "no free block is left");
}

async function json(res: Response, status = 200): Promise<unknown> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text);
}

/** What the reads show: ps, hosts and the whole event history. */
async function reads(h: Harness) {
  return {
    ps: await h.ps(),
    hosts: await json(await h.call("GET", "/hosts")),
    events: await json(await h.call("GET", "/events")),
  };
}

Deno.test("a full disk answers 507 storage_full, changes nothing, and the same up works once there is space", async () => {
  await withTmpfs(async (mount) => {
    const dataDir = join(mount, "data");
    await Deno.mkdir(dataDir);
    const h = await openHarness({ dataDir });
    try {
      await h.up(SHOP_YAML);
      await json(
        await h.call("POST", "/hosts/register", registration("host-a", { intervalMs: 5000 })),
      );
      // A token never used yet: its first use writes its last-used time.
      const created = await json(await h.call("POST", "/tokens", { role: "read" }), 201);
      const readToken = (created as { token: string }).token;
      const before = await reads(h);
      const lastSeen = (await h.planner.store.hostInfo("host-a"))?.last_seen;

      const filler = join(mount, "filler");
      await fill(mount, filler);

      const up = await h.call("POST", "/manifest/up", CHANGED_YAML, YAML);
      await assertError(up, 507, "storage_full", FULL_MESSAGE);
      assert.match(
        (await assertError(
          await h.call("POST", "/manifest/down", { manifest: "shop" }),
          507,
          "storage_full",
        )).error.message,
        new RegExp(`data dir ${dataDir.replaceAll("/", "\\/")}\\)`),
      );
      await assertError(
        await h.call("POST", "/state", { host: "host-a", name: "web", state: "running" }),
        507,
        "storage_full",
      );
      assert.deepEqual(await reads(h), before, "ps, hosts and events are as they were");

      // Reads that write on the side: a token's first use, and an agent's poll a while later.
      const ps = await h.app.request("/api/v1/manifest/ps", {
        method: "POST",
        headers: { authorization: `Bearer ${readToken}` },
      });
      assert.deepEqual(await json(ps), before.ps);
      h.clock.advance(5000);
      const desired = await json(await h.call("GET", "/container?host=host-a"));
      assert.equal((desired as unknown[]).length, 1);
      assert.equal(
        (await h.planner.store.hostInfo("host-a"))?.last_seen,
        lastSeen,
        "the write was skipped",
      );
      const tokens = await json(await h.call("GET", "/tokens")) as { lastUsedAt?: string }[];
      assert.ok(tokens.every((t) => t.lastUsedAt !== undefined), "last use is kept in memory");

      await Deno.remove(filler);
      const result = await h.up(CHANGED_YAML);
      assert.deepEqual(result.updated, ["db"]);
      const after = await reads(h);
      assert.equal(
        after.ps.find((c) => c.config.name === "db")?.config.image,
        "postgres:17",
      );
      const history = (page: unknown) => (page as { events: { id: number }[] }).events;
      const old = history(before.events);
      assert.deepEqual(history(after.events).slice(0, old.length), old, "history kept");
      assert.deepEqual(
        history(after.events).slice(old.length).map((e) => e.id),
        [old[old.length - 1].id + 1],
        "one event for the change, right after the last: the failed writes left none",
      );
    } finally {
      await h.close(true);
    }
  });
});

Deno.test("the server does not start on a full disk, and says why in one line", async () => {
  await withTmpfs(async (mount) => {
    const dataDir = join(mount, "data");
    await fill(mount, join(mount, "filler"));
    await assert.rejects(
      startServer({ hostname: "127.0.0.1", port: 0, store: dataDir, password: "pw" }),
      (error) => {
        assert.ok(error instanceof StoreOpenError, String(error));
        assert.equal(
          error.message,
          `cannot open the store ${join(dataDir, "launcher.db")}: ` +
            "the disk is full; free space and start the server again",
        );
        return true;
      },
    );
  });
});
