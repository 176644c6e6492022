/**
 * The client's failover over real local servers: a connection that fails sends the request to the
 * next server, an HTTP answer of any status is the caller's, and the server that answered stays
 * current.
 */
import assert from "node:assert/strict";
import { LauncherClient } from "../../src/client/client.ts";
import { ApiError, UnreachableError } from "../../src/client/errors.ts";
import { pollUntil } from "../poll_until.ts";
import { freePort } from "../processes.ts";

/** A free port: nothing listens on it, so connections are refused. */
function refusing(): string {
  return `http://127.0.0.1:${freePort()}`;
}

/** A server answering every request with `answer`, recording what it was asked. */
function answering(answer: (request: Request) => Response | Promise<Response>) {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    seen.push(`${request.method} ${new URL(request.url).pathname}`);
    return answer(request);
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

/** A server that reads each request and hangs up without answering, as one dying would. */
function hangingUp() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        accepted++;
        await conn.read(new Uint8Array(4096)).catch(() => null);
        conn.close();
      }
    } catch {
      // The listener was closed.
    }
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    get accepted() {
      return accepted;
    },
    close: async () => {
      listener.close();
      await loop;
    },
  };
}

const ok = () => Response.json({ ok: true });

Deno.test("a request refused by the first server goes to the second", async () => {
  const b = answering(ok);
  try {
    const down = refusing();
    const moves: string[] = [];
    const client = new LauncherClient([down, b.url], undefined, {
      onFailover: (from, to, reason) => moves.push(`${from} -> ${to}: ${reason}`),
    });
    await client.healthz();
    assert.deepEqual(b.seen, ["GET /api/v1/healthz"]);
    assert.equal(client.url, b.url);
    assert.equal(moves.length, 1);
    assert.match(moves[0], new RegExp(`^${down} -> ${b.url}: .*Connection refused`));
  } finally {
    await b.close();
  }
});

Deno.test("later requests go first to the server that answered", async () => {
  const a = hangingUp();
  const b = answering(ok);
  try {
    const client = new LauncherClient([a.url, b.url]);
    await client.healthz();
    assert.equal(a.accepted, 1, "a hung up on the first request");
    await client.healthz();
    await client.healthz();
    assert.equal(a.accepted, 1, "a was not asked again");
    assert.equal(b.seen.length, 3);
    assert.equal(client.url, b.url);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("an HTTP 500 is the caller's answer, never sent to another server", async () => {
  const a = answering(() =>
    Response.json({ error: { code: "internal", message: "internal server error" } }, {
      status: 500,
    })
  );
  const b = answering(ok);
  try {
    const client = new LauncherClient([a.url, b.url]);
    await assert.rejects(client.healthz(), (error) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, 500);
      assert.equal(error.code, "internal");
      return true;
    });
    assert.deepEqual(b.seen, []);
    assert.equal(client.url, a.url, "a answered: it stays current");
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("when no server answers, the error names every server tried", async () => {
  const first = refusing();
  const second = refusing();
  const client = new LauncherClient([first, second]);
  await assert.rejects(client.healthz(), (error) => {
    assert.ok(error instanceof UnreachableError);
    assert.equal(error.code, "server_unreachable");
    assert.deepEqual(error.attempts.map((a) => a.url), [first, second]);
    assert.match(
      error.message,
      new RegExp(`^cannot reach any server: ${first} \\(.*refused.*\\), ${second} \\(.*refused`),
    );
    return true;
  });
  // One server keeps the message it always had.
  await assert.rejects(
    new LauncherClient(first).healthz(),
    new RegExp(`^UnreachableError: cannot reach the server at ${first}: .*refused`),
  );
});

Deno.test("a request not safe to repeat goes elsewhere only when it surely never arrived", async () => {
  const a = hangingUp();
  const b = answering(() => Response.json({ token: "t" }, { status: 201 }));
  try {
    await assert.rejects(
      new LauncherClient([a.url, b.url]).createToken("pw"),
      /may have been done there, so it is not sent to another server/,
    );
    assert.deepEqual(b.seen, []);
    // Refused: nothing was sent, so the next server may take it.
    assert.equal(await new LauncherClient([refusing(), b.url]).createToken("pw"), "t");
    assert.deepEqual(b.seen, ["POST /api/v1/token"]);
    // An up is idempotent: sent again elsewhere after a hang-up.
    const upped = { manifest: "shop", created: [], updated: [], unchanged: ["web"], removed: [] };
    const c = answering(() => Response.json(upped));
    try {
      assert.deepEqual(await new LauncherClient([a.url, c.url]).up("name: shop"), upped);
      assert.deepEqual(c.seen, ["POST /api/v1/manifest/up"]);
    } finally {
      await c.close();
    }
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("the caller's own abort is not a failover", async () => {
  const a = answering((request) =>
    new Promise((resolve) =>
      request.signal.addEventListener("abort", () => resolve(ok()), { once: true })
    )
  );
  const b = answering(ok);
  try {
    const client = new LauncherClient([a.url, b.url]);
    const controller = new AbortController();
    const held = client.desired("host-a", 0, 60_000, controller.signal);
    await pollUntil("the poll to be held by a", () => a.seen.length === 1);
    controller.abort();
    await assert.rejects(held, { name: "AbortError" });
    assert.deepEqual(b.seen, []);
    assert.equal(client.url, a.url);
  } finally {
    await a.close();
    await b.close();
  }
});
