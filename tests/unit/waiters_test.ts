import assert from "node:assert/strict";
import { OverloadedError } from "../../src/api/errors.ts";
import { Waiters } from "../../src/server/waiters.ts";
import { ManualClock } from "../manual_clock.ts";

Deno.test("a wait ends woken, on its timeout, on abort, or closed, and says which", async () => {
  const clock = new ManualClock();
  const waits = new Waiters<string>({ max: 10, clock });
  const woken = waits.wait("a", 1000);
  const other = waits.wait("b", 1000);
  const timed = waits.wait("a", 500);
  const controller = new AbortController();
  const aborted = waits.wait("c", 1000, controller.signal);
  assert.equal(waits.held, 4);
  assert.equal(waits.count("a"), 2);

  clock.advance(500);
  assert.equal(await timed, "timeout");
  assert.equal(waits.wake("a"), 1);
  assert.equal(await woken, "woken");
  controller.abort();
  assert.equal(await aborted, "aborted");
  assert.equal(waits.held, 1, "b is still held");
  assert.deepEqual(clock.pending(), [500], "the others' timers are gone");

  waits.close();
  assert.equal(await other, "closed");
  assert.equal(await waits.wait("b", 1000), "closed", "closed waiters hold nothing new");
  assert.equal(waits.held, 0);
  assert.deepEqual(clock.pending(), []);
});

Deno.test("waits answer at once when given no time or an aborted signal", async () => {
  const waits = new Waiters<string>({ max: 10, clock: new ManualClock() });
  assert.equal(await waits.wait("a", 0), "timeout");
  assert.equal(await waits.wait("a", -1), "timeout");
  assert.equal(await waits.wait("a", 1000, AbortSignal.abort()), "aborted");
  assert.equal(waits.held, 0);
});

Deno.test("beyond the cap a wait is refused with OverloadedError", async () => {
  const clock = new ManualClock();
  const waits = new Waiters<string>({ max: 2, clock });
  const first = waits.wait("a", 1000);
  const second = waits.wait("b", 1000);
  await assert.rejects(waits.wait("c", 1000), OverloadedError);
  waits.wakeAll();
  assert.deepEqual(await Promise.all([first, second]), ["woken", "woken"]);
  assert.equal(await Promise.race([waits.wait("c", 1000), "held"]), "held", "room again");
  waits.close();
});
