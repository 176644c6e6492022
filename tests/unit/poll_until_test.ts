import assert from "node:assert/strict";
import { pollUntil } from "../poll_until.ts";

Deno.test("pollUntil resolves with the first value that is neither undefined nor false", async () => {
  let calls = 0;
  const value = await pollUntil("the third call", () => {
    calls++;
    if (calls === 1) return undefined;
    if (calls === 2) return false;
    return calls;
  }, { everyMs: 1 });
  assert.equal(value, 3);
});

Deno.test("pollUntil counts errors as not yet and names the last one when it gives up", async () => {
  let calls = 0;
  let seen = "nothing";
  await assert.rejects(
    pollUntil(() => `a miracle (last seen: ${seen})`, () => {
      calls++;
      seen = `call ${calls}`;
      throw new Error(`refused ${calls}`);
    }, { timeoutMs: 30, everyMs: 5 }),
    (error: Error) => {
      assert.match(error.message, /^timed out after 30 ms waiting for a miracle \(last seen: call/);
      assert.ok(error.message.endsWith(`: refused ${calls}`), error.message);
      return true;
    },
  );
  assert.ok(calls >= 2, `called ${calls} times`);
});
