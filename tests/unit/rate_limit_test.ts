import assert from "node:assert/strict";
import { FailureLimiter } from "../../src/server/rate_limit.ts";

Deno.test("five failures in the window refuse the client until the oldest leaves it", () => {
  let now = 1_000_000;
  const limiter = new FailureLimiter({ now: () => now });
  for (let i = 0; i < 5; i++) {
    assert.equal(limiter.retryAfterMs("a"), 0);
    limiter.fail("a");
    now += 1000;
  }
  assert.equal(limiter.retryAfterMs("a"), 55_000, "the first failure was 5 s ago");
  assert.equal(limiter.retryAfterMs("b"), 0, "other clients are not affected");
  now += 54_999;
  assert.equal(limiter.retryAfterMs("a"), 1);
  now += 1;
  assert.equal(limiter.retryAfterMs("a"), 0, "one failure left the window: one more try");
  limiter.fail("a");
  assert.equal(limiter.retryAfterMs("a"), 1000, "refused until the second failure leaves too");
});

Deno.test("a success forgets the client's failures", () => {
  const limiter = new FailureLimiter({ now: () => 0 });
  for (let i = 0; i < 4; i++) limiter.fail("a");
  limiter.succeed("a");
  for (let i = 0; i < 4; i++) limiter.fail("a");
  assert.equal(limiter.retryAfterMs("a"), 0);
  limiter.fail("a");
  assert.equal(limiter.retryAfterMs("a"), 60_000);
});

Deno.test("the least recently failing clients are forgotten beyond maxClients", () => {
  const limiter = new FailureLimiter({ now: () => 0, maxFailures: 1, maxClients: 2 });
  limiter.fail("a");
  limiter.fail("b");
  limiter.fail("a");
  limiter.fail("c");
  assert.equal(limiter.retryAfterMs("b"), 0, "b failed least recently and was dropped");
  assert.ok(limiter.retryAfterMs("a") > 0);
  assert.ok(limiter.retryAfterMs("c") > 0);
});
