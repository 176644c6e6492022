/**
 * Logs over the in-process API, with a fake agent on the agent's own channel: the request is
 * handed out by the agent's poll, the agent's streaming upload is piped to the client, and every
 * way a session ends (output ends, client leaves, agent leaves, container forgotten, shutdown)
 * ends the other side too.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import { type LogRequest, LogRequestListSchema } from "../../src/api/schemas.ts";
import { MAX_BODY_BYTES } from "../../src/server/http/app.ts";
import type { ManualClock } from "../manual_clock.ts";
import { assertError, type Harness, openHarness, registration, SHOP_YAML } from "./harness.ts";
import { pollUntil } from "../poll_until.ts";

const READY = `${JSON.stringify({ ready: true })}\n`;
const line = (stream: string, data: string) => `${JSON.stringify({ stream, data })}\n`;

/** A harness with shop applied and host-a registered, on a clock that stands still. */
async function open(options: Parameters<typeof openHarness>[0] = {}): Promise<
  { h: Harness; clock: ManualClock }
> {
  const h = await openHarness(options);
  const clock = h.clock;
  await h.up(SHOP_YAML);
  const res = await h.call("POST", "/hosts/register", registration("host-a", { labels: {} }));
  assert.equal(res.status, 200, await res.text());
  return { h, clock };
}

function request(h: Harness, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${h.token}`);
  return Promise.resolve(h.app.request(`/api/v1${path}`, { ...init, headers }));
}

/** The fake agent's poll for log requests. */
async function agentPoll(h: Harness, host = "host-a", wait = "10s"): Promise<LogRequest[]> {
  const res = await request(h, `/agent/logs/requests?host=${host}&wait=${wait}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return v.parse(LogRequestListSchema, JSON.parse(text)).requests;
}

/** The fake agent's upload of a request's output. */
function upload(
  h: Harness,
  id: string,
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): Promise<Response> {
  return request(h, `/agent/logs/${id}?host=host-a`, {
    method: "POST",
    body,
    signal,
    duplex: "half",
  } as RequestInit);
}

/** A stream the test writes to as it goes, and which says when its reader first waits on it. */
function pushStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  let read = false;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    // With no queue to fill ahead, pull runs only when a reader waits for a chunk.
    pull() {
      read = true;
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  return {
    stream,
    read: () => read,
    push: (text: string) => controller.enqueue(new TextEncoder().encode(text)),
    close: () => {
      // A stream the server already cancelled is closed as it is.
      if (!cancelled) controller.close();
    },
    cancelled: () => cancelled,
  };
}

/** Reads NDJSON lines from a response until it ends. */
async function readAll(res: Response): Promise<unknown[]> {
  const text = await res.text();
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

/** Reads one NDJSON line from a reader. */
async function readLine(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  state: { buffer: string },
): Promise<unknown> {
  while (!state.buffer.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the stream ended");
    state.buffer += new TextDecoder().decode(value);
  }
  const newline = state.buffer.indexOf("\n");
  const text = state.buffer.slice(0, newline);
  state.buffer = state.buffer.slice(newline + 1);
  return JSON.parse(text);
}

/** Asks for logs while the fake agent polls; returns the request the agent got. */
async function ask(h: Harness, query: string, signal?: AbortSignal) {
  const polled = agentPoll(h);
  await pollUntil("the agent's poll to be held", () => h.planner.logs.heldPolls === 1);
  const answer = request(h, `/logs?${query}`, { signal });
  const [got] = await polled;
  return { got, answer };
}

Deno.test("the agent's poll hands out the request and its upload reaches the client", async () => {
  const { h } = await open();
  try {
    const { got, answer } = await ask(
      h,
      "manifest=shop&container=web&tail=5&timestamps=true&since=2024-01-02T03:04:05Z",
    );
    assert.deepEqual({ ...got, id: "" }, {
      id: "",
      manifest: "shop",
      container: "web",
      follow: false,
      timestamps: true,
      tail: 5,
      since: Date.parse("2024-01-02T03:04:05Z") / 1000,
    });
    const agent = pushStream();
    const uploaded = upload(h, got.id, agent.stream);
    agent.push(READY + line("stdout", "one\n"));
    agent.push(line("stderr", "two\n"));
    agent.close();
    const res = await answer;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-ndjson");
    assert.deepEqual(await readAll(res), [
      { stream: "stdout", data: "one\n" },
      { stream: "stderr", data: "two\n" },
    ]);
    assert.equal((await uploaded).status, 204);
    assert.equal(h.planner.logs.openSessions, 0);
  } finally {
    await h.close();
  }
});

Deno.test("a client that leaves a follow ends the agent's upload at once", async () => {
  const { h } = await open();
  try {
    const { got, answer } = await ask(h, "manifest=shop&container=web&follow=true");
    assert.equal(got.follow, true);
    const agent = pushStream();
    const uploaded = upload(h, got.id, agent.stream);
    agent.push(READY + line("stdout", "hello\n"));
    const res = await answer;
    const reader = res.body!.getReader();
    assert.deepEqual(await readLine(reader, { buffer: "" }), { stream: "stdout", data: "hello\n" });
    await reader.cancel();
    const up = await uploaded;
    assert.equal(up.status, 204, "answered while the agent's body is still open");
    assert.equal(h.planner.logs.openSessions, 0);
    agent.close();
  } finally {
    await h.close();
  }
});

Deno.test("an agent that goes away mid-stream ends the client's stream with an error line", async () => {
  const { h } = await open();
  try {
    const { got, answer } = await ask(h, "manifest=shop&container=web&follow=1");
    const agent = pushStream();
    const gone = new AbortController();
    const uploaded = upload(h, got.id, agent.stream, gone.signal);
    agent.push(READY + `{"stream":"stdout","data":"half a li`);
    const res = await answer;
    const reader = res.body!.getReader();
    const state = { buffer: "" };
    const first = reader.read();
    gone.abort();
    agent.close();
    await uploaded.catch(() => {});
    const { value } = await first;
    state.buffer = new TextDecoder().decode(value);
    let rest = "";
    while (true) {
      const { value: more, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(more);
    }
    const lines = (state.buffer + rest).split("\n").filter((l) => l !== "");
    const last = JSON.parse(lines[lines.length - 1]);
    assert.equal(last.error.code, "agent_lost");
    assert.match(last.error.message, /the agent of host-a stopped sending logs/);
    assert.equal(h.planner.logs.openSessions, 0);
  } finally {
    await h.close();
  }
});

Deno.test("the agent's first line answers the client: not found is 404, others 502", async () => {
  const { h } = await open();
  try {
    for (
      const [code, status] of [["not_found", 404], ["engine_unreachable", 502]] as const
    ) {
      const { got, answer } = await ask(h, "manifest=shop&container=web");
      const agent = pushStream();
      const uploaded = upload(h, got.id, agent.stream);
      agent.push(`${JSON.stringify({ error: { code, message: `engine says ${code}` } })}\n`);
      agent.close();
      await assertError(
        await answer,
        status,
        code === "not_found" ? "not_found" : "agent_error",
        new RegExp(`engine says ${code}`),
      );
      assert.equal((await uploaded).status, 204);
    }
    assert.equal(h.planner.logs.openSessions, 0);
  } finally {
    await h.close();
  }
});

Deno.test("unknown manifests and containers are 404, bad queries 400", async () => {
  const { h } = await open();
  try {
    await assertError(
      await request(h, "/logs?manifest=nope&container=web"),
      404,
      "not_found",
      /manifest nope not found/,
    );
    await assertError(
      await request(h, "/logs?manifest=shop&container=nope"),
      404,
      "not_found",
      /container nope not found in manifest shop/,
    );
    for (
      const query of [
        "container=web",
        "manifest=shop",
        "manifest=shop&container=web&tail=-1",
        "manifest=shop&container=web&tail=x",
        "manifest=shop&container=web&follow=maybe",
        "manifest=shop&container=web&since=yesterday",
        "manifest=shop&container=web&since=2024-13-45T00:00:00Z",
      ]
    ) {
      await assertError(await request(h, `/logs?${query}`), 400, "invalid_query");
    }
  } finally {
    await h.close();
  }
});

Deno.test("an offline or unconnected host answers host_offline at once", async () => {
  // The clock moves only when told, so no timer can answer these: each answer is immediate.
  const { h, clock } = await open();
  try {
    await assertError(
      await request(h, "/logs?manifest=shop&container=web"),
      503,
      "host_offline",
      /the agent of host host-a is not taking log requests/,
    );
    await assertError(
      await request(h, "/logs?manifest=shop&container=db"),
      503,
      "host_offline",
      /host host-b is offline: no agent has connected for it/,
    );
    clock.advance(3001);
    await assertError(
      await request(h, "/logs?manifest=shop&container=web"),
      503,
      "host_offline",
      /host host-a is offline \(last seen 3s ago\)/,
    );
    assert.deepEqual(clock.pending(), [], "no request is left waiting");
  } finally {
    await h.close();
  }
});

Deno.test("an agent that disconnects fails what it was handed, at once", async () => {
  const { h } = await open();
  try {
    const connection = new AbortController();
    const polled = request(h, "/agent/logs/requests?host=host-a&wait=10s", {
      signal: connection.signal,
    });
    await pollUntil("the agent's poll to be held", () => h.planner.logs.heldPolls === 1);
    // The clock stands still: the pickup timeout cannot be what answers.
    const answer = request(h, "/logs?manifest=shop&container=web&follow=true");
    await (await polled).body?.cancel();
    // The connection breaks before the answer reached the agent.
    connection.abort();
    await assertError(await answer, 503, "host_offline", /the agent of host host-a disconnected/);

    const again = new AbortController();
    const held = request(h, "/agent/logs/requests?host=host-a&wait=10s", { signal: again.signal });
    await pollUntil("the agent's poll to be held", () => h.planner.logs.heldPolls === 1);
    again.abort();
    await held.catch(() => {});
    await pollUntil("the agent's poll to be released", () => h.planner.logs.heldPolls === 0);
    await assertError(
      await request(h, "/logs?manifest=shop&container=web"),
      503,
      "host_offline",
      /not taking log requests/,
    );
    assert.equal(h.planner.logs.openSessions, 0);
  } finally {
    await h.close();
  }
});

Deno.test("a request no agent takes in time is 504", async () => {
  const { h, clock } = await open();
  try {
    // The agent polls once and then never comes back for the request.
    await agentPoll(h, "host-a", "0");
    const res = request(h, "/logs?manifest=shop&container=web");
    await pollUntil("the request to be queued", () => h.planner.logs.openSessions === 1);
    clock.advance(9_999);
    assert.equal(h.planner.logs.openSessions, 1, "still waiting just before the pickup time");
    clock.advance(1);
    await assertError(await res, 504, "agent_timeout", /did not start sending logs within 10s/);
    assert.equal(h.planner.logs.openSessions, 0);
    const late = await upload(h, "anything", pushStream().stream);
    await assertError(late, 404, "not_found");

    // An agent that takes the request and attaches, but never says ready, is cut off too. Its
    // host was last seen 10 s ago: a desired-list poll shows it online again.
    const seen = await h.call("GET", "/container?host=host-a&index=0&wait=0");
    await seen.body?.cancel();
    const { got, answer } = await ask(h, "manifest=shop&container=web");
    const silent = pushStream();
    const uploaded = upload(h, got.id, silent.stream);
    await pollUntil("the server to read the upload", silent.read);
    clock.advance(10_000);
    await assertError(await answer, 504, "agent_timeout");
    assert.equal((await uploaded).status, 204);
    assert.ok(silent.cancelled(), "the server stopped reading the upload");
    assert.equal(h.planner.logs.openSessions, 0);
  } finally {
    await h.close();
  }
});

Deno.test("a followed container that is forgotten ends the stream", async () => {
  const { h, clock } = await open();
  try {
    const { got, answer } = await ask(h, "manifest=shop&container=web&follow=true");
    const agent = pushStream();
    const uploaded = upload(h, got.id, agent.stream);
    agent.push(READY);
    const res = await answer;
    assert.equal(res.status, 200);
    await h.call("POST", "/manifest/down", { manifest: "shop" });
    await h.call("POST", "/state", {
      host: "host-a",
      name: "web",
      manifest: "shop",
      state: "removed",
    });
    // Followed containers are looked at once a second.
    clock.advance(1000);
    assert.deepEqual(await readAll(res), []);
    assert.equal((await uploaded).status, 204);
    agent.close();
  } finally {
    await h.close();
  }
});

Deno.test("an upload is not held to the body size limit", async () => {
  const { h } = await open();
  try {
    const { got, answer } = await ask(h, "manifest=shop&container=web");
    const agent = pushStream();
    const uploaded = upload(h, got.id, agent.stream);
    agent.push(READY);
    const big = line("stdout", `${"x".repeat(64 * 1024)}\n`);
    const count = Math.ceil((MAX_BODY_BYTES * 2) / big.length);
    const res = await answer;
    const read = res.text();
    for (let i = 0; i < count; i++) agent.push(big);
    agent.close();
    assert.equal((await read).length, big.length * count);
    assert.equal((await uploaded).status, 204);
  } finally {
    await h.close();
  }
});

Deno.test("shutdown answers held polls and ends open streams", async () => {
  const { h } = await open();
  try {
    const { got, answer } = await ask(h, "manifest=shop&container=web&follow=true");
    const agent = pushStream();
    const uploaded = upload(h, got.id, agent.stream);
    agent.push(READY);
    const res = await answer;
    const held = agentPoll(h, "host-a", "30s");
    await pollUntil("the agent's poll to be held", () => h.planner.logs.heldPolls === 1);
    h.planner.releaseWaiters();
    assert.deepEqual(await held, []);
    const lines = await readAll(res);
    assert.deepEqual(lines, [{
      error: { code: "shutting_down", message: "the server is shutting down" },
    }]);
    assert.equal((await uploaded).status, 204);
    await assertError(
      await request(h, "/logs?manifest=shop&container=web"),
      503,
      "shutting_down",
    );
    agent.close();
  } finally {
    await h.close();
  }
});

Deno.test("an agent token polls and uploads for its own host only", async () => {
  const { h } = await open();
  try {
    const res = await h.call("POST", "/tokens", { role: "agent", host: "host-b" });
    const { token } = await res.json() as { token: string };
    const denied = await h.app.request("/api/v1/agent/logs/requests?host=host-a&wait=0", {
      headers: { authorization: `Bearer ${token}` },
    });
    await assertError(denied, 403, "forbidden");
    const own = await h.app.request("/api/v1/agent/logs/requests?host=host-b&wait=0", {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(own.status, 200);
    assert.deepEqual(await own.json(), { requests: [] });
  } finally {
    await h.close();
  }
});
