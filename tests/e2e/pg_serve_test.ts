/**
 * `launcher serve --store postgres://...` as the real program, on a throwaway PostgreSQL cluster,
 * with one agent on a real engine: a manifest runs, the server restarted keeps it, ps shows it,
 * the database restarted under the server changes nothing, a second server on the same database
 * serves the same installation, and the password shows nowhere.
 */
import assert from "node:assert/strict";
import { LauncherClient } from "../../src/client/client.ts";
import { Cluster, PASSWORD, shopWeb } from "./cluster.ts";
import { startPostgres } from "../pg_cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { freePort } from "../processes.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A second server on the same store, as its own process; `stop` ends it and returns its output. */
function secondServer(store: string): { url: string; stop: () => Promise<string> } {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--ip", "127.0.0.1", "--port", String(port)],
    env: { LAUNCHER_STORE: store, LAUNCHER_TOKEN_PASS: PASSWORD },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGTERM");
      const out = await output;
      return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    },
  };
}

Deno.test("serve --store postgres:// runs a manifest and keeps it across restarts", async (t) => {
  const pg = await startPostgres();
  let cluster: Cluster | undefined;
  try {
    const url = await pg.createDatabase();
    cluster = await Cluster.start(["host-a"], { store: url });
    const c = cluster;

    await c.step(t, "manifest up runs the container on the engine", async () => {
      const up = await c.cli(["manifest", "up", "-f", c.writeManifest("v1", shopWeb("one"))]);
      assert.equal(up.code, 0, up.stderr);
      await c.waitForStates("shop", { web: "running" });
      assert.deepEqual(await c.engineNames("host-a"), ["shop_web"]);
    });

    await c.step(
      t,
      "a server killed and restarted keeps the manifest, its state and the token",
      async () => {
        const before = await c.ps("shop");
        await c.killServer();
        await c.startServer();
        const after = await c.waitForStates("shop", { web: "running" });
        assert.equal(after[0].containerId, before[0].containerId, "the same container");
        const ps = await c.cli(["manifest", "ps", "--name", "shop"]);
        assert.equal(ps.code, 0, ps.stderr);
        assert.match(ps.stdout, /shop\s+web\s+host-a\s+launcher-test:1\s+-\s+running\s+running/);
      },
    );

    await c.step(
      t,
      "the database restarted under the server: the next change goes through",
      async () => {
        await pg.restart();
        const up = await c.cli(["manifest", "up", "-f", c.writeManifest("v2", shopWeb("two"))]);
        assert.equal(up.code, 0, up.stderr);
        assert.match(up.stdout, /updated web/);
        await c.waitForStates("shop", { web: "running" });
        const inspect = await c.inspect("host-a", "shop_web");
        assert.ok(inspect?.Config.Env.includes("MODE=two"), "the agent got the change");
      },
    );

    let secondOutput = "";
    await c.step(
      t,
      "a second server on the database (LAUNCHER_STORE) serves the same installation",
      async () => {
        const second = secondServer(url);
        try {
          const client = new LauncherClient(second.url, c.token);
          await pollUntil("the second server to answer", () => client.healthz().then(() => true));
          assert.deepEqual(
            (await client.ps("shop")).map((x) => [x.config.name, x.state, x.containerId]),
            (await c.ps("shop")).map((x) => [x.config.name, x.state, x.containerId]),
            "the same state through either server, with the first one's token",
          );
          const up = await client.up(shopWeb("three"));
          assert.deepEqual(up.updated, ["web"]);
          // The agent polls the first server: the change made through the second reaches it.
          await pollUntil(
            "the agent to apply the change made through the second server",
            async () => (await c.inspect("host-a", "shop_web"))?.Config.Env.includes("MODE=three"),
          );
          await c.waitForStates("shop", { web: "running" });
        } finally {
          secondOutput = await second.stop();
        }
      },
    );

    await c.step(t, "the servers name their store without the password", () => {
      const logs = c.logs() + secondOutput;
      assert.ok(!logs.includes(pg.password), "the password is in no output");
      const named = /\(store in postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/t_[0-9a-f]+\)/g;
      assert.equal(
        logs.match(named)?.length,
        2,
        "the first server's (since its restart), the second's",
      );
      return Promise.resolve();
    });
  } finally {
    await cluster?.stop();
    await pg.stop();
  }
});
