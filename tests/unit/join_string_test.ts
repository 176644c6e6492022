/** Join strings: what `token generate --join` prints and `agent --join` reads. */
import assert from "node:assert/strict";
import { formatJoinString, JoinStringError, parseJoinString } from "../../src/client/join.ts";

const HASH = "0123456789abcdef".repeat(4);
const TOKEN = "eI8XDqA55NQydD4QX6hwVH17oz-M4UdL0pfBhyv8sfs";

Deno.test("a join string holds the CA hash and the token, and reads back", () => {
  const text = formatJoinString({ caSha256: HASH, token: TOKEN });
  assert.equal(text, `launcher1:${HASH}:${TOKEN}`);
  assert.deepEqual(parseJoinString(text), { caSha256: HASH, token: TOKEN });
  assert.deepEqual(parseJoinString(` ${text}\n`), { caSha256: HASH, token: TOKEN }, "pasted");
});

Deno.test("a malformed join string is refused, saying which part, never echoing the token", () => {
  const cases: [string, RegExp][] = [
    [`K10${HASH}::${TOKEN}`, /does not start with "launcher1:"/],
    [`launcher1:${HASH}`, /has 2 parts, not 3/],
    [`launcher1:${HASH}:${TOKEN}:extra`, /has 4 parts, not 3/],
    [`launcher1:${HASH.slice(1)}:${TOKEN}`, /CA hash is not 64 lowercase hex digits/],
    [`launcher1:${HASH.toUpperCase()}:${TOKEN}`, /CA hash is not 64 lowercase hex digits/],
    [`launcher1:${HASH.slice(1)}g:${TOKEN}`, /CA hash is not 64 lowercase hex digits/],
    [`launcher1:${HASH}:`, /token is empty or holds other characters/],
    [`launcher1:${HASH}:tok en`, /token is empty or holds other characters/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseJoinString(text), (error) => {
      assert.ok(error instanceof JoinStringError, String(error));
      assert.equal(error.code, "bad_join_string");
      assert.match(error.message, message, text);
      assert.ok(!error.message.includes(TOKEN), "the token stays out of the message");
      return true;
    });
  }
});
