/**
 * An agent given two servers, over a fake engine: when the server holding its long-poll goes away
 * (closed, or cut off without answering as a killed process is), the agent polls the other one at
 * once, and a report queued while the first was dying reaches the second. The servers are real
 * and in process.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Agent } from "../../src/agent/agent.ts";
import { LauncherClient } from "../../src/client/client.ts";
import { type RunningServer, startServer } from "../../src/server/http/serve.ts";
import { FakeEngine } from "./fakes/fake_engine.ts";
import { pollUntil } from "../poll_until.ts";

const MANIFEST = `name: shop
containers:
  - name: web
    host: host-a
    image: launcher-test:1
`;

/** A server on a free port over `dataDir`. */
function serve(dataDir: string): Promise<RunningServer> {
  return startServer({ hostname: "127.0.0.1", port: 0, store: dataDir, password: "pw" });
}

/**
 * Two servers over one store forked in two (they cannot share one yet): the same installation,
 * token and manifest, so each would hand the agent the same list.
 */
async function twoServers() {
  const dirs = [
    await Deno.makeTempDir({ prefix: "launcher-failover-test-" }),
    await Deno.makeTempDir({ prefix: "launcher-failover-test-" }),
  ];
  const first = await serve(dirs[0]);
  const token = await new LauncherClient(first.url).createToken("pw");
  await new LauncherClient(first.url, token).up(MANIFEST);
  await first.close();
  for await (const entry of Deno.readDir(dirs[0])) {
    await Deno.copyFile(join(dirs[0], entry.name), join(dirs[1], entry.name));
  }
  const a = await serve(dirs[0]);
  const b = await serve(dirs[1]);
  const cleanup = async () => {
    await b.close();
    await a.close();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  };
  return { a, b, token, cleanup };
}

/** A pass-through in front of `target` that notes when each request arrived. */
function recording(target: string) {
  const arrivals: { at: number; request: string }[] = [];
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const url = new URL(request.url);
    arrivals.push({ at: Date.now(), request: `${request.method} ${url.pathname}` });
    return fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: request.signal,
    }).catch(() => new Response(null, { status: 502 })); // The agent hung up: nobody reads this.
  });
  return { url: `http://127.0.0.1:${proxy.addr.port}`, arrivals, close: () => proxy.shutdown() };
}

/** A TCP relay to `port` that can die at once, cutting every connection without an answer. */
function relay(port: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const pipes: Promise<void>[] = [];
  const loop = (async () => {
    try {
      for await (const inbound of listener) {
        const outbound = await Deno.connect({ hostname: "127.0.0.1", port });
        conns.add(inbound).add(outbound);
        for (const [from, to] of [[inbound, outbound], [outbound, inbound]]) {
          pipes.push(from.readable.pipeTo(to.writable).catch(() => {}));
        }
      }
    } catch {
      // The listener was closed.
    }
  })();
  let killed: Promise<void> | undefined;
  const kill = () => killed ??= cut();
  const cut = async () => {
    listener.close();
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Its pipe closed it already.
      }
    }
    await loop;
    await Promise.all(pipes);
  };
  return { url: `http://127.0.0.1:${listener.addr.port}`, kill };
}

/**
 * Runs an agent on `[first, b]` until its poll is held on the first server, ends that server with
 * `die`, makes the container exit while it dies, and checks that b gets a poll and the report.
 */
async function failOver(
  how: (
    a: RunningServer,
  ) => { url: string; die: () => Promise<void>; cleanup: () => Promise<void> },
): Promise<void> {
  const { a, b, token, cleanup } = await twoServers();
  const front = recording(b.url);
  const first = how(a);
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  try {
    const onA = new LauncherClient(a.url, token);
    const onB = new LauncherClient(b.url, token);
    const engine = new FakeEngine();
    const logs: string[] = [];
    const agent = new Agent({
      api: new LauncherClient([first.url, front.url], token, {
        onFailover: (from, to, reason) => logs.push(`${from} unreachable (${reason}); using ${to}`),
      }),
      engine,
      host: "host-a",
      intervalMs: 60_000,
      parallel: 4,
      log: (line) => logs.push(line),
    });
    running = agent.run(stop.signal);
    await pollUntil(
      "web running on a, with the agent's poll held there",
      async () => (await onA.ps("shop"))[0]?.state === "running" && a.planner.heldWaiters > 0,
    );
    assert.equal(front.arrivals.length, 0, "b heard nothing while a answered");

    const dying = first.die();
    // Queued while a is dying: the container exits by itself.
    engine.crash(engine.byName("shop_web")!.id, 3);
    await dying;

    // Measured here: b heard the poll 5 to 110 ms after a began to close or was cut off. The test
    // asks only that it happens; the timeout is generous for slow machines.
    await pollUntil(
      () => `a poll at b (it heard ${JSON.stringify(front.arrivals)}; agent: ${logs.join(" | ")})`,
      () => front.arrivals.find((r) => r.request === "GET /api/v1/container"),
      { timeoutMs: 30_000 },
    );
    await pollUntil("the exit reported to b", async () => {
      const [web] = await onB.ps("shop");
      return web?.state === "failed" && web.exitCode === 3;
    }, { timeoutMs: 30_000 });
    assert.ok(front.arrivals.some((r) => r.request === "POST /api/v1/state"));
  } finally {
    stop.abort();
    await running;
    await first.cleanup();
    await front.close();
    await cleanup();
  }
}

Deno.test("when its server closes, the agent polls the next one at once and reports there", async () => {
  await failOver((a) => ({ url: a.url, die: () => a.close(), cleanup: async () => {} }));
});

Deno.test("when its held poll is cut off unanswered, the agent polls the next server at once", async () => {
  await failOver((a) => {
    const cut = relay(a.port);
    return { url: cut.url, die: cut.kill, cleanup: cut.kill };
  });
});
