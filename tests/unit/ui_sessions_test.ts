/**
 * Web UI sessions over a store (SQLite in a temp dir) with an injected clock: random ids of which
 * the store keeps only hashes, ends by idleness, age and sign-out, the last use written at most
 * once a minute, a bounded count, and the duty's prune of ended sessions.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { openStore, type Store } from "../../src/server/store/store.ts";
import { sameSecret, UiSessions } from "../../src/server/ui_sessions.ts";

const MINUTE = 60_000;

/** A fresh store with tokens `a` and `b`, the `touchSession` writes made through it counted. */
async function withStore(
  fn: (store: Store, touches: () => number) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "launcher-ui-sessions-" });
  const store = await openStore(dir);
  let touched = 0;
  // An empty target: the store's own methods are frozen, which a proxy of it must answer as is.
  const counting = new Proxy({} as Store, {
    get(_, key) {
      const value = Reflect.get(store, key, store);
      if (key === "touchSession") {
        return (idHash: string, now: string) => {
          touched++;
          return store.touchSession(idHash, now);
        };
      }
      return typeof value === "function" ? value.bind(store) : value;
    },
  });
  try {
    for (const id of ["a", "b"]) {
      await store.insertToken({
        id,
        hash: `hash-${id}`,
        created_at: new Date(0).toISOString(),
        role: "admin",
        host: null,
        expires_at: null,
        last_used_at: null,
        revoked: 0,
      });
    }
    await fn(counting, () => touched);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

Deno.test("a session is found by its random id until it idles, ages or is deleted", async () => {
  await withStore(async (store) => {
    let now = 0;
    const sessions = new UiSessions(store, () => now, {
      idleMs: 10 * MINUTE,
      maxAgeMs: 50 * MINUTE,
    });
    const a = await sessions.create("a");
    assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
    assert.match(a.csrf, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a.id, a.csrf);
    assert.notEqual((await sessions.create("a")).id, a.id, "every sign-in gets a new id");
    const row = await store.sessionByHash(sha256(a.id));
    assert.equal(row?.token_id, "a", "the store knows it by the id's hash, and its token by id");
    assert.ok(!Object.values(row ?? {}).includes(a.id), "the store never holds the id");

    now = 9 * MINUTE;
    assert.equal((await sessions.get(a.id))?.tokenId, "a", "used within the idle time");
    now = 18 * MINUTE;
    assert.equal((await sessions.get(a.id))?.csrf, a.csrf, "each use restarts the idle time");
    now = 28 * MINUTE;
    assert.equal(await sessions.get(a.id), undefined, "idle for 10 minutes");
    assert.equal(await store.sessionByHash(sha256(a.id)), undefined, "and deleted");

    now = 0;
    const b = await sessions.create("b");
    for (now = 9 * MINUTE; now < 50 * MINUTE; now += 9 * MINUTE) {
      assert.ok(await sessions.get(b.id));
    }
    now = 50 * MINUTE;
    assert.equal(await sessions.get(b.id), undefined, "50 minutes after sign-in, used or not");

    const c = await sessions.create("b");
    await sessions.delete(c.id);
    assert.equal(await sessions.get(c.id), undefined);
    assert.equal(await sessions.get("no-such-id"), undefined);
  });
});

Deno.test("a session's last use is written at most once a minute", async () => {
  await withStore(async (store, touches) => {
    let now = 0;
    const sessions = new UiSessions(store, () => now, { idleMs: 10 * MINUTE });
    const a = await sessions.create("a");
    const stored = async () => (await store.sessionByHash(sha256(a.id)))?.last_used_at;

    for (now = 0; now < MINUTE; now += 5_000) assert.ok(await sessions.get(a.id));
    assert.equal(touches(), 0, "a page refreshing every 5 s writes nothing in its first minute");
    assert.equal(await stored(), new Date(0).toISOString());

    now = MINUTE;
    assert.equal((await sessions.get(a.id))?.lastUsedAt, MINUTE);
    assert.equal(touches(), 1, "a minute after the last write, a use writes again");
    assert.equal(await stored(), new Date(MINUTE).toISOString());
    for (now = MINUTE + 1; now < 2 * MINUTE; now += 7_000) await sessions.get(a.id);
    assert.equal(touches(), 1);

    // The idle time counts from the last use written: up to a minute earlier than the last use.
    now = 2 * MINUTE - 1;
    assert.ok(await sessions.get(a.id), "a use 59.999 s after the last write is not written");
    assert.equal(touches(), 1);
    now = 11 * MINUTE;
    assert.equal(await sessions.get(a.id), undefined, "10 minutes after the last use written");
  });
});

Deno.test("past the cap, the least recently used session of the store goes first", async () => {
  await withStore(async (store) => {
    let now = 0;
    const sessions = new UiSessions(store, () => now, { maxSessions: 2 });
    const a = await sessions.create("a");
    now += MINUTE;
    const b = await sessions.create("b");
    now += MINUTE;
    assert.ok(await sessions.get(a.id), "a is now the most recently used");
    now += MINUTE;
    const c = await sessions.create("a");
    assert.equal(await sessions.get(b.id), undefined, "b was used least recently");
    assert.ok(await sessions.get(a.id));
    assert.ok(await sessions.get(c.id));
  });
});

Deno.test("the duty deletes ended sessions, at most once a minute", async () => {
  await withStore(async (store) => {
    let now = 0;
    const sessions = new UiSessions(store, () => now, {
      idleMs: 10 * MINUTE,
      maxAgeMs: 60 * MINUTE,
    });
    const idle = await sessions.create("a");
    const revoked = await sessions.create("b");
    const kept = await sessions.create("a");
    assert.equal(sessions.pruneDue(), true, "never pruned yet");
    assert.equal(await sessions.prune(store), 0);
    assert.equal(sessions.pruneDue(), false);

    now = 5 * MINUTE;
    assert.ok(await sessions.get(kept.id));
    await store.revokeToken("b");
    now = 11 * MINUTE;
    assert.equal(sessions.pruneDue(), true);
    assert.equal(await sessions.prune(store), 2, "the idle one and the revoked token's");
    assert.equal(await store.sessionByHash(sha256(idle.id)), undefined);
    assert.equal(await store.sessionByHash(sha256(revoked.id)), undefined);
    assert.ok(await store.sessionByHash(sha256(kept.id)));

    now = 60 * MINUTE;
    assert.equal(await sessions.prune(store), 1, "an hour after sign-in");
  });
});

Deno.test("secrets compare equal only when equal", () => {
  assert.equal(sameSecret("abc", "abc"), true);
  assert.equal(sameSecret("abc", "abd"), false);
  assert.equal(sameSecret("abc", "abcd"), false);
  assert.equal(sameSecret("", "x"), false);
});
