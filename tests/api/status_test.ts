/**
 * `GET /status` and `launcher status`: the server that answers, its store (never a password), who
 * runs the cluster duties and since when, whether it hears other servers, what it holds.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import { ServerStatusSchema } from "../../src/api/schemas.ts";
import { statusText } from "../../src/cli/status.ts";
import { LauncherClient } from "../../src/client/client.ts";
import { storeKind } from "../../src/server/cluster.ts";
import type { DutyLease } from "../../src/server/duty_lease.ts";
import { startServer } from "../../src/server/http/serve.ts";
import { pollUntil } from "../poll_until.ts";
import { ManualWakeups, SwitchLease } from "../unit/fakes/cluster_fakes.ts";
import { type Harness, openHarness, sqliteDataDir } from "./harness.ts";

async function status(h: Harness) {
  const res = await h.call("GET", "/status");
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return v.parse(ServerStatusSchema, body);
}

Deno.test("one server on SQLite holds the duties itself and counts what it holds", async () => {
  const h = await openHarness({ dataDir: await sqliteDataDir() });
  try {
    const first = await status(h);
    assert.equal(first.store.kind, "sqlite");
    assert.match(first.store.location, /launcher\.db$/);
    assert.equal(first.duties.holding, true);
    assert.equal(first.duties.holder, first.server);
    assert.deepEqual(first.wakeups, { kind: "in-process", listening: true });
    assert.deepEqual(first.held, { polls: 0, follows: 0 });

    const controller = new AbortController();
    const poll = h.app.request("/api/v1/container?host=host-a&index=0&wait=30s", {
      headers: { authorization: `Bearer ${h.token}` },
      signal: controller.signal,
    });
    await pollUntil("a held poll", () => h.planner.heldWaiters === 1);
    assert.equal((await status(h)).held.polls, 1);
    controller.abort();
    await (await poll).body?.cancel();
  } finally {
    await h.close();
  }
});

/** `GET /status` of a server with this lease (and wake-ups that say "postgres"). */
async function statusWith(lease: DutyLease) {
  const h = await openHarness({ lease, wakeups: new ManualWakeups() });
  try {
    return await status(h);
  } finally {
    await h.close();
  }
}

Deno.test("a server that does not hold the lease names the holder, or why it cannot", async () => {
  let s = await statusWith(new SwitchLease("ctl-1:8080", false));
  assert.equal(s.duties.holding, false);
  assert.equal(s.duties.holder, undefined, "nobody holds it");
  assert.equal(s.wakeups.kind, "postgres");
  assert.match(statusText(s), /^duties +nobody \(a server takes them within seconds\)$/m);

  const other: DutyLease = {
    server: "ctl-1:8080",
    shared: true,
    holding: () => false,
    holder: () => Promise.resolve({ server: "ctl-2:8080", since: "2026-01-01T00:00:00.000Z" }),
    close: () => Promise.resolve(),
  };
  s = await statusWith(other);
  assert.equal(s.server, "ctl-1:8080");
  assert.deepEqual(s.duties, {
    holding: false,
    holder: "ctl-2:8080",
    since: "2026-01-01T00:00:00.000Z",
  });
  const now = Date.parse("2026-01-01T00:03:00.000Z");
  assert.match(
    statusText(s, now),
    /^duties +ctl-2:8080, since 2026-01-01T00:00:00.000Z \(3m ago\)$/m,
  );

  s = await statusWith({
    ...other,
    holder: () => Promise.reject(new Error("connect ECONNREFUSED")),
  });
  assert.equal(s.duties.error, "connect ECONNREFUSED");
  assert.match(
    statusText(s),
    /^duties +unknown \(cannot read the holder: connect ECONNREFUSED\)$/m,
  );
});

Deno.test("a location names its kind of store", () => {
  assert.equal(storeKind("postgres://launcher:s3cret@db.internal:5432/launcher"), "postgres");
  assert.equal(storeKind("postgresql://db/launcher"), "postgres");
  assert.equal(storeKind("/var/lib/launcher"), "sqlite");
});

Deno.test("launcher status shows the server by its id over HTTP", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-status-test-" });
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    store: dataDir,
    password: "pw",
    serverId: "ctl-1:8080",
  });
  try {
    const client = new LauncherClient(
      server.url,
      await new LauncherClient(server.url).createToken("pw"),
    );
    const s = await client.status();
    assert.equal(s.server, "ctl-1:8080");
    const text = statusText(s, Date.parse(s.duties.since!));
    assert.equal(
      text,
      [
        "server     ctl-1:8080 (launcher " + s.version + ")",
        `store      sqlite ${s.store.location}`,
        `duties     this server, since ${s.duties.since} (0s ago)`,
        "wake-ups   in process (one server)",
        "held       0 agent long-polls, 0 event follows",
      ].join("\n"),
    );
  } finally {
    await server.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
