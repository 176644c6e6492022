import assert from "node:assert/strict";
import { join } from "node:path";
import { LauncherClient } from "../../src/client/client.ts";
import { startServer } from "../../src/server/http/serve.ts";
import { EmptyPasswordError } from "../../src/server/auth.ts";
import { SHOP_YAML } from "./harness.ts";
import { pollUntil } from "../poll_until.ts";

Deno.test("startServer serves the API over HTTP on a free port and creates the data dir", async () => {
  const root = await Deno.makeTempDir({ prefix: "launcher-serve-test-" });
  const dataDir = join(root, "nested", "data");
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    store: dataDir,
    password: "pw",
  });
  try {
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
    await Deno.stat(join(dataDir, "launcher.db"));
    const anonymous = new LauncherClient(server.url);
    await anonymous.healthz();
    const client = new LauncherClient(server.url, await anonymous.createToken("pw"));
    assert.deepEqual((await client.up(SHOP_YAML)).created, ["web", "db"]);
    assert.equal((await client.ps("shop")).length, 2);
    const desired = await client.desired("host-a", 0, 1000);
    assert.equal(desired.containers[0].config.name, "web");
    assert.deepEqual(
      await client.report([{ host: "host-a", name: "web", state: "running" }]),
      { applied: 1, unknown: 0 },
    );
  } finally {
    await server.close();
    await Deno.remove(root, { recursive: true });
  }
});

/** A server on a free port over a fresh data dir, and a client holding a token for it. */
async function serveWithClient() {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-serve-test-" });
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    store: dataDir,
    password: "pw",
  });
  const client = new LauncherClient(
    server.url,
    await new LauncherClient(server.url).createToken("pw"),
  );
  return { dataDir, server, client };
}

Deno.test("a client that hangs up releases its held long-poll", async () => {
  const { dataDir, server, client } = await serveWithClient();
  try {
    const controller = new AbortController();
    const held = client.desired("host-a", 0, 60_000, controller.signal);
    await pollUntil("the poll to be held", () => server.planner.heldWaiters === 1);
    controller.abort();
    await assert.rejects(held);
    await pollUntil("the waiter to be released", () => server.planner.heldWaiters === 0);

    const answered = await client.desired("host-a", 0, 100);
    assert.deepEqual({ ...answered, cluster: undefined }, {
      index: 0,
      containers: [],
      cluster: undefined,
    });
    // A round trip after it: had the answered poll's signal fired late, it would show by now.
    await client.healthz();
    assert.equal(server.planner.heldWaiters, 0, "a normal answer leaves nothing behind");
  } finally {
    await server.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("close answers held long-polls at once and closes the store", async () => {
  const { dataDir, server, client } = await serveWithClient();
  try {
    const held = client.desired("host-a", 0, 60_000);
    await pollUntil("the poll to be held", () => server.planner.heldWaiters === 1);
    // The poll asked for a minute: close answering it is what lets both of these finish.
    await server.close();
    assert.deepEqual({ ...await held, cluster: undefined }, {
      index: 0,
      containers: [],
      cluster: undefined,
    });
    await server.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("aborting the signal closes the server", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-serve-test-" });
  const controller = new AbortController();
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    store: dataDir,
    password: "pw",
    signal: controller.signal,
  });
  try {
    await new LauncherClient(server.url).healthz();
    controller.abort();
    await server.close();
    await assert.rejects(new LauncherClient(server.url).healthz(), /cannot reach the server/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("an empty password is refused before anything starts", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-serve-test-" });
  try {
    await assert.rejects(
      startServer({ hostname: "127.0.0.1", port: 0, store: dataDir, password: "" }),
      EmptyPasswordError,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("startServer makes the data dir's secret key once, and refuses a key that is not the store's", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-serve-test-" });
  try {
    const first = await startServer({
      hostname: "127.0.0.1",
      port: 0,
      store: dataDir,
      password: "pw",
    });
    await first.close();
    const keyFile = join(dataDir, "secret.key");
    assert.equal((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
    const key = await Deno.readTextFile(keyFile);
    const again = await startServer({
      hostname: "127.0.0.1",
      port: 0,
      store: dataDir,
      password: "pw",
    });
    await again.close();
    assert.equal(await Deno.readTextFile(keyFile), key, "kept, never replaced");

    const other = join(dataDir, "other.key");
    await Deno.writeTextFile(
      other,
      btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
    );
    await assert.rejects(
      startServer({
        hostname: "127.0.0.1",
        port: 0,
        store: dataDir,
        password: "pw",
        secretKeyFile: other,
      }),
      /the secret key in .*other\.key is not the key of the store/,
    );
    const short = join(dataDir, "short.key");
    await Deno.writeTextFile(short, "c2hvcnQ=\n");
    await assert.rejects(
      startServer({
        hostname: "127.0.0.1",
        port: 0,
        store: dataDir,
        password: "pw",
        secretKeyFile: short,
      }),
      /secret key file .*short\.key: must hold 32 random bytes/,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
