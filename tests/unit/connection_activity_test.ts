import assert from "node:assert/strict";
import { ConnectionActivity } from "../../src/server/http/idle_connections.ts";

/** A promise and its settlers, for a request's `completed`. */
function completion() {
  let resolve = () => {};
  let reject = (_: Error) => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

Deno.test("a client with a request open counts as active now; after it, from when it ended", async () => {
  let now = 1_000;
  const activity = new ConnectionActivity(() => now);
  assert.equal(activity.lastActive(50_000), 0, "never seen: never active");

  const first = completion();
  const second = completion();
  activity.track(50_000, first.promise);
  activity.track(50_000, second.promise);
  now = 5_000;
  assert.equal(activity.lastActive(50_000), 5_000, "held: active whatever the time");
  assert.equal(activity.openRequests(50_000), 2);

  first.resolve();
  await first.promise;
  now = 6_000;
  assert.equal(activity.lastActive(50_000), 6_000, "one of two still open");

  now = 7_000;
  second.reject(new Error("client went away"));
  await second.promise.catch(() => {});
  now = 9_000;
  assert.equal(activity.lastActive(50_000), 7_000, "an abandoned answer ends the request too");
  assert.equal(activity.openRequests(50_000), 0);
  assert.equal(activity.lastActive(50_001), 0, "other clients are apart");
});

Deno.test("forgetting drops only clients idle since before the cut", async () => {
  let now = 0;
  const activity = new ConnectionActivity(() => now);
  const old = completion();
  const recent = completion();
  const open = completion();
  activity.track(1, old.promise);
  activity.track(2, recent.promise);
  activity.track(3, open.promise);
  now = 100;
  old.resolve();
  await old.promise;
  now = 900;
  recent.resolve();
  await recent.promise;
  now = 1_000;
  activity.forget(500);
  assert.equal(activity.lastActive(1), 0);
  assert.equal(activity.lastActive(2), 900);
  assert.equal(activity.lastActive(3), 1_000, "an open request is never forgotten");
  open.resolve();
  await open.promise;
});
