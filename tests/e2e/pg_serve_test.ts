/**
 * `launcher serve --store postgres://...` as the real program, on a throwaway PostgreSQL cluster,
 * with one agent on a real engine: a manifest runs, the server restarted keeps it, ps shows it,
 * the database restarted under the server changes nothing, and the password shows nowhere.
 */
import assert from "node:assert/strict";
import { Cluster, SLEEPER } from "./cluster.ts";
import { TEST_IMAGE } from "./engines.ts";
import { startPostgres } from "../pg_cluster.ts";

function web(mode: string): string {
  return `name: shop
containers:
  - name: web
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
    environment: { MODE: ${mode} }
`;
}

Deno.test("serve --store postgres:// runs a manifest and keeps it across restarts", async (t) => {
  const pg = await startPostgres();
  let cluster: Cluster | undefined;
  try {
    const url = await pg.createDatabase();
    cluster = await Cluster.start(["host-a"], { store: url });
    const c = cluster;

    await c.step(t, "manifest up runs the container on the engine", async () => {
      const up = await c.cli(["manifest", "up", "-f", c.writeManifest("v1", web("one"))]);
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
        const up = await c.cli(["manifest", "up", "-f", c.writeManifest("v2", web("two"))]);
        assert.equal(up.code, 0, up.stderr);
        assert.match(up.stdout, /updated web/);
        await c.waitForStates("shop", { web: "running" });
        const inspect = await c.inspect("host-a", "shop_web");
        assert.ok(inspect?.Config.Env.includes("MODE=two"), "the agent got the change");
      },
    );

    await c.step(t, "the server names its store without the password", () => {
      const logs = c.logs();
      assert.ok(!logs.includes(pg.password), "the password is in no output");
      assert.match(logs, /\(store in postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/t_[0-9a-f]+\)/);
      return Promise.resolve();
    });
  } finally {
    await cluster?.stop();
    await pg.stop();
  }
});
