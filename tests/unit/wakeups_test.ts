/**
 * Wake-ups without a database: the in-process ones, the NOTIFY payload (small, never data, "read
 * everything again" when it would not fit, and anything unreadable a re-read), the lease of a
 * single server, and the holder named by a PostgreSQL session.
 */
import assert from "node:assert/strict";
import { LocalLease } from "../../src/server/duty_lease.ts";
import { parseHolder } from "../../src/server/pg_duty_lease.ts";
import { decode, encode, MAX_PAYLOAD_BYTES } from "../../src/server/pg_wakeups.ts";
import { LocalWakeups, type Wakeup } from "../../src/server/wakeups.ts";

Deno.test("in-process wake-ups reach every subscriber at once, until it unsubscribes", async () => {
  const wakeups = new LocalWakeups();
  const heard: Wakeup[] = [];
  const other: Wakeup[] = [];
  const stop = wakeups.subscribe((w) => heard.push(w));
  wakeups.subscribe((w) => other.push(w));
  wakeups.publish([{ host: "a", index: 3 }], 7);
  wakeups.publish([]); // moved nothing: not a wake-up
  assert.deepEqual(heard, [{ kind: "changed", hosts: [{ host: "a", index: 3 }], lastEventId: 7 }]);
  stop();
  wakeups.publish([], 8);
  assert.equal(heard.length, 1);
  assert.deepEqual(other.at(-1), { kind: "changed", hosts: [], lastEventId: 8 });
  assert.equal(wakeups.listening(), true);
  await wakeups.close();
  wakeups.publish([], 9);
  assert.equal(other.length, 2, "closed: nobody hears");
});

Deno.test("a NOTIFY payload names hosts and indexes and the last event id, and reads back", () => {
  const text = encode({ hosts: new Map([["host-a", 41], ["host-b", 42]]), lastEventId: 1234 });
  assert.equal(text, '{"v":1,"h":{"host-a":41,"host-b":42},"e":1234}');
  assert.deepEqual(decode(text), {
    kind: "changed",
    hosts: [{ host: "host-a", index: 41 }, { host: "host-b", index: 42 }],
    lastEventId: 1234,
  });
  assert.deepEqual(decode(encode({ hosts: new Map(), lastEventId: 5 })), {
    kind: "changed",
    hosts: [],
    lastEventId: 5,
  });
  assert.deepEqual(decode(encode({ hosts: new Map([["h", 1]]) })), {
    kind: "changed",
    hosts: [{ host: "h", index: 1 }],
  });
});

Deno.test("a payload that would not fit says 'read everything again' instead", () => {
  // 40 hosts with names of 253 characters: about 10,500 bytes of hosts.
  const hosts = new Map(
    Array.from({ length: 40 }, (_, i) => [`${String(i).padStart(3, "0")}${"x".repeat(250)}`, i]),
  );
  const text = encode({ hosts, lastEventId: 9 });
  assert.ok(new TextEncoder().encode(text).length <= MAX_PAYLOAD_BYTES);
  assert.equal(text, '{"v":1,"all":true}');
  assert.deepEqual(decode(text), { kind: "reread" });
  // Just under the bound still names its hosts.
  const fits = new Map(Array.from({ length: 12 }, (_, i) => [`${i}${"y".repeat(250)}`, i]));
  assert.ok(decode(encode({ hosts: fits })).kind === "changed");
});

Deno.test("an unreadable or unknown payload asks for a re-read", () => {
  for (
    const payload of [
      undefined,
      "",
      "not json",
      "null",
      "[]",
      '{"v":2,"h":{"a":1}}',
      '{"v":1,"h":{"a":"1"}}',
      '{"v":1,"h":[1]}',
      '{"v":1,"e":1.5}',
      '{"v":1}',
    ]
  ) {
    assert.deepEqual(decode(payload), { kind: "reread" }, String(payload));
  }
});

Deno.test("a single server's lease is held from start to close", async () => {
  const lease = new LocalLease("ctl:8080", Date.UTC(2026, 0, 1));
  assert.equal(lease.holding(), true);
  assert.deepEqual(await lease.holder(), { server: "ctl:8080", since: "2026-01-01T00:00:00.000Z" });
  await lease.close();
  assert.equal(lease.holding(), false);
  assert.equal(await lease.holder(), undefined);
});

Deno.test("the holder is read back from the holding session's application_name", () => {
  assert.deepEqual(parseHolder("launcher duties 1767225600000 ctl-1:8080"), {
    server: "ctl-1:8080",
    since: "2026-01-01T00:00:00.000Z",
  });
  // Between taking the lock and renaming itself, the session still has its first name.
  assert.equal(parseHolder("launcher lease ctl-2:8080").server, "ctl-2:8080");
});
