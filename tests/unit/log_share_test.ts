/**
 * The log relays of two servers sharing requests (`LogRelay.share` and `offer`), on a manual
 * clock: a request for an agent polling the other server is published with its origin and again
 * every second until taken, handed out once however often it comes, ignored by a server that does
 * not hold the agent's poll, and timed out with a clear message when nobody takes it.
 */
import assert from "node:assert/strict";
import { AgentTimeoutError } from "../../src/api/errors.ts";
import { LogRelay } from "../../src/server/logs.ts";
import type { SharedLogRequest } from "../../src/server/wakeups.ts";
import { ManualClock } from "../manual_clock.ts";
import { advertiseUrl } from "../../src/cli/serve.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { defaultAdvertiseUrl } from "../../src/server/http/serve.ts";

const REQUEST = { manifest: "shop", container: "web", follow: true, timestamps: false };

/** Server B's relay (sharing, its publishes recorded) and server A's, on one clock. */
function twoRelays() {
  const clock = new ManualClock();
  const a = new LogRelay({ clock, pickupMs: 5000 });
  const b = new LogRelay({ clock, pickupMs: 5000 });
  const published: SharedLogRequest[] = [];
  b.share({ origin: "http://b:8080", publish: (shared) => published.push(shared) });
  return { clock, a, b, published };
}

Deno.test("a request for an agent polling another server is published until taken, handed out once", async () => {
  const { clock, a, b, published } = twoRelays();
  const agentPoll = new AbortController();
  // host-a's agent polls server A.
  const polled = a.poll("host-a", 30_000, agentPoll.signal);
  assert.equal(a.connected("host-a"), true);
  assert.equal(b.connected("host-a"), false);
  const client = new AbortController();
  const opened = b.open({
    host: "host-a",
    request: REQUEST,
    exists: () => Promise.resolve(true),
    signal: client.signal,
  });
  opened.catch(() => {});
  assert.equal(published.length, 1);
  const shared = published[0];
  assert.equal(shared.host, "host-a");
  assert.equal(shared.request.origin, "http://b:8080");
  // The first publish was lost; the second one reaches A, whose held poll hands it out.
  clock.advance(1000);
  assert.equal(published.length, 2);
  a.offer(published[1].host, published[1].request);
  const handed = await polled;
  assert.deepEqual(handed.map((r) => [r.id, r.origin]), [[shared.request.id, "http://b:8080"]]);
  // Heard again (the next publish): not handed out twice.
  clock.advance(1000);
  assert.equal(published.length, 3);
  a.offer(published[2].host, published[2].request);
  assert.deepEqual(await a.poll("host-a", 0, agentPoll.signal), []);
  // B itself, and a server that holds no poll of host-a, ignore it.
  b.offer(shared.host, shared.request);
  const c = new LogRelay({ clock });
  c.offer(shared.host, shared.request);
  assert.deepEqual(await c.poll("host-a", 0, agentPoll.signal), []);
  client.abort();
  await assert.rejects(opened);
  assert.equal(b.openSessions, 0);
  // Gone: no more publishes.
  clock.advance(5000);
  assert.equal(published.length, 3);
  a.close();
  b.close();
  c.close();
});

Deno.test("a shared request nobody takes times out, saying why", async () => {
  const { clock, b, published } = twoRelays();
  const opened = b.open({
    host: "host-z",
    request: REQUEST,
    exists: () => Promise.resolve(true),
    signal: new AbortController().signal,
  });
  clock.advance(4999);
  assert.equal(published.length, 5);
  clock.advance(1);
  await assert.rejects(opened, (error: Error) => {
    assert.ok(error instanceof AgentTimeoutError);
    assert.match(error.message, /no agent of host-z took the log request within 5s/);
    assert.match(error.message, /http:\/\/b:8080/);
    return true;
  });
  clock.advance(5000);
  assert.equal(published.length, 5);
  b.close();
});

Deno.test("a relay that does not share hands nothing to other servers and offers nothing", async () => {
  const clock = new ManualClock();
  const relay = new LogRelay({ clock, pickupMs: 5000 });
  assert.equal(relay.shared, false);
  const agentPoll = new AbortController();
  const polled = relay.poll("host-a", 30_000, agentPoll.signal);
  const opened = relay.open({
    host: "host-a",
    request: REQUEST,
    exists: () => Promise.resolve(true),
    signal: new AbortController().signal,
  });
  opened.catch(() => {});
  const [request] = await polled;
  assert.equal(request.origin, undefined);
  relay.close();
  await assert.rejects(opened);
});

Deno.test("serve --advertise-url takes an http(s) URL; the default names the machine for a wildcard", () => {
  assert.equal(advertiseUrl("http://ctl-1:8080/"), "http://ctl-1:8080");
  assert.equal(advertiseUrl("https://ctl.example/launcher"), "https://ctl.example/launcher");
  assert.throws(() => advertiseUrl("ctl-1:8080"), UsageError);
  assert.throws(() => advertiseUrl("ftp://ctl-1"), UsageError);
  assert.equal(defaultAdvertiseUrl("10.0.0.5", 8080), "http://10.0.0.5:8080");
  assert.equal(defaultAdvertiseUrl("0.0.0.0", 8080), `http://${Deno.hostname()}:8080`);
});
