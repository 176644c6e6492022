/** Web UI sessions in memory: random ids, ends by idleness, age and sign-out, a bounded count. */
import assert from "node:assert/strict";
import { sameSecret, SessionStore } from "../../src/server/http/ui/sessions.ts";

Deno.test("a session is found by its random id until it idles, ages or is deleted", () => {
  let now = 0;
  const sessions = new SessionStore({ now: () => now, idleMs: 1000, maxAgeMs: 5000 });
  const a = sessions.create("token-a");
  assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
  assert.match(a.csrf, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.id, a.csrf);
  assert.notEqual(sessions.create("token-a").id, a.id, "every sign-in gets a new id");
  now = 900;
  assert.equal(sessions.get(a.id)?.token, "token-a", "used within the idle time");
  now = 1800;
  assert.equal(sessions.get(a.id)?.token, "token-a", "each use restarts the idle time");
  now = 2800;
  assert.equal(sessions.get(a.id), undefined, "idle for 1 s");
  assert.equal(sessions.get(a.id), undefined, "and gone for good");

  now = 0;
  const b = sessions.create("token-b");
  for (now = 900; now < 5000; now += 900) assert.ok(sessions.get(b.id));
  now = 5000;
  assert.equal(sessions.get(b.id), undefined, "5 s after sign-in, used or not");

  const c = sessions.create("token-c");
  sessions.delete(c.id);
  assert.equal(sessions.get(c.id), undefined);
  assert.equal(sessions.get("no-such-id"), undefined);
});

Deno.test("past the cap, the least recently used session goes first", () => {
  const sessions = new SessionStore({ now: () => 0, maxSessions: 2 });
  const a = sessions.create("a");
  const b = sessions.create("b");
  assert.ok(sessions.get(a.id), "a is now the most recently used");
  const c = sessions.create("c");
  assert.equal(sessions.size, 2);
  assert.equal(sessions.get(b.id), undefined, "b was used least recently");
  assert.ok(sessions.get(a.id));
  assert.ok(sessions.get(c.id));
});

Deno.test("secrets compare equal only when equal", () => {
  assert.equal(sameSecret("abc", "abc"), true);
  assert.equal(sameSecret("abc", "abd"), false);
  assert.equal(sameSecret("abc", "abcd"), false);
  assert.equal(sameSecret("", "x"), false);
});
