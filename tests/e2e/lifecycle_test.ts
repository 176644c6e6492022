/**
 * The whole life of a manifest on two real engines: up, re-up with one change, adoption after an
 * agent restart, a server restart, every container action, a failing image, and down.
 */
import assert from "node:assert/strict";
import { Cluster, SLEEPER } from "./cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { TEST_IMAGE } from "./engines.ts";

const cmd = JSON.stringify(SLEEPER);

function shop(webMode: string, withWorker: boolean): string {
  return `name: shop
containers:
  - name: web
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${cmd}
    ports: ["127.0.0.1:8080:80"]
    environment: { MODE: ${webMode} }
    options: ["--memory=64m", "--label=tier=front", "--restart", "on-failure:3"]
  - name: api
    host: host-b
    image: ${TEST_IMAGE}
    entrypoint: sh -c
    cmd: ["trap 'exit 0' TERM; sleep 3600 & wait"]
${
    withWorker
      ? `  - name: worker
    host: host-b
    image: ${TEST_IMAGE}
    cmd: ${cmd}
`
      : ""
  }`;
}

Deno.test("a manifest's life on two engines", async (t) => {
  const cluster = await Cluster.start(["host-a", "host-b"]);
  try {
    const v1 = cluster.writeManifest("shop-v1", shop("prod", true));
    const v2 = cluster.writeManifest("shop-v2", shop("staging", false));

    await cluster.step(t, "up puts each container on the engine of its host", async () => {
      const up = await cluster.cli(["manifest", "up", "-f", v1]);
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stdout, /shop: created web, api, worker/);
      await cluster.waitForStates("shop", { web: "running", api: "running", worker: "running" });
      assert.deepEqual(await cluster.engineNames("host-a"), ["shop_web"]);
      assert.deepEqual(await cluster.engineNames("host-b"), ["shop_api", "shop_worker"]);
      const web = await cluster.inspect("host-a", "shop_web");
      assert.ok(web?.Config.Env.includes("MODE=prod"));
      assert.equal(web?.HostConfig.Memory, 64 * 1024 * 1024);
      assert.deepEqual(web?.HostConfig.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 3 });
      assert.equal(web?.Config.Labels["tier"], "front");
      assert.equal(web?.Config.Labels["launcher.manifest"], "shop");
      const ps = await cluster.cli(["manifest", "ps", "-f", v1]);
      assert.equal(ps.code, 0, ps.stderr);
      assert.match(
        ps.stdout,
        /^MANIFEST\s+CONTAINER\s+HOST\s+IMAGE\s+PORTS\s+DESIRED\s+STATE\s+AGE/,
      );
      assert.match(
        ps.stdout,
        /shop\s+web\s+host-a\s+launcher-test:1\s+127\.0\.0\.1:8080:80\s+running\s+running/,
      );
    });

    await cluster.step(
      t,
      "up with one spec changed recreates that one only and removes the dropped",
      async () => {
        const before = await cluster.ps("shop");
        const id = (name: string) => before.find((c) => c.config.name === name)?.containerId;
        const up = await cluster.cli(["manifest", "up", "-f", v2]);
        assert.equal(up.code, 0, up.stderr);
        assert.match(up.stdout, /updated web; unchanged api; removed worker/);
        const after = await pollUntil("web recreated and worker gone", async () => {
          const list = await cluster.ps("shop");
          const web = list.find((c) => c.config.name === "web");
          const gone = !list.some((c) => c.config.name === "worker");
          return web?.state === "running" && web.containerId !== id("web") && gone && list;
        });
        assert.equal(after.find((c) => c.config.name === "api")?.containerId, id("api"));
        assert.deepEqual(await cluster.engineNames("host-b"), ["shop_api"]);
        const web = await cluster.inspect("host-a", "shop_web");
        assert.ok(web?.Config.Env.includes("MODE=staging"));
      },
    );

    await cluster.step(
      t,
      "an agent killed and restarted adopts its containers without restarting",
      async () => {
        const before = await cluster.inspect("host-a", "shop_web");
        await cluster.stopAgent("host-a", "SIGKILL");
        cluster.startAgent("host-a");
        // Three full passes at a 1s interval: time enough to do anything it wrongly would.
        await new Promise((r) => setTimeout(r, 3500));
        const after = await cluster.inspect("host-a", "shop_web");
        assert.equal(after?.Id, before?.Id);
        assert.equal(after?.State.StartedAt, before?.State.StartedAt);
        assert.deepEqual(await cluster.engineNames("host-a"), ["shop_web"]);
      },
    );

    await cluster.step(
      t,
      "a server killed and restarted keeps manifests, states and tokens",
      async () => {
        const before = await cluster.ps("shop");
        await cluster.killServer();
        const down = await cluster.cli(["manifest", "ps", "--name", "shop"]);
        assert.equal(down.code, 1);
        assert.match(down.stderr, /^error: cannot reach the server/);
        // Containers keep running while the server is away.
        assert.equal((await cluster.inspect("host-a", "shop_web"))?.State.Running, true);
        await cluster.startServer();
        const after = await cluster.ps("shop");
        const strip = (l: typeof before) => l.map(({ updatedAt: _, ...c }) => c);
        assert.deepEqual(strip(after), strip(before));
      },
    );

    await cluster.step(t, "stop, kill, restart and rm reach the engine and ps", async () => {
      const act = async (action: string, host: string, name: string) => {
        const r = await cluster.cli(["container", action, "-h", host, "-c", name]);
        assert.equal(r.code, 0, r.stderr);
      };
      const webBefore = await cluster.inspect("host-a", "shop_web");
      await act("restart", "host-a", "web");
      await pollUntil("web restarted", async () => {
        const web = await cluster.inspect("host-a", "shop_web");
        return web?.State.Running && web.State.StartedAt !== webBefore?.State.StartedAt;
      });
      assert.equal((await cluster.inspect("host-a", "shop_web"))?.Id, webBefore?.Id);

      await act("stop", "host-a", "web");
      const stopped = await cluster.waitForStates("shop", { web: "exited" });
      assert.equal(stopped.find((c) => c.config.name === "web")?.desired, "stopped");
      assert.equal((await cluster.inspect("host-a", "shop_web"))?.State.Running, false);

      await act("kill", "host-b", "api");
      const killed = await cluster.waitForStates("shop", { api: "exited" });
      const api = killed.find((c) => c.config.name === "api");
      assert.equal(api?.desired, "killed");
      assert.equal(api?.exitCode, 137);

      await act("rm", "host-b", "api");
      await pollUntil("api gone from ps", async () => {
        return !(await cluster.ps("shop")).some((c) => c.config.name === "api");
      });
      assert.deepEqual(await cluster.engineNames("host-b"), []);

      const unknown = await cluster.cli(["container", "stop", "-h", "host-b", "-c", "nope"]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /nope/);
    });

    await cluster.step(
      t,
      "a container whose image does not exist shows failed with the engine's message",
      async () => {
        const file = cluster.writeManifest(
          "broken",
          `name: broken\ncontainers:\n  - name: ghost\n    host: host-b\n    image: nonexistent.invalid/nope:1\n`,
        );
        const up = await cluster.cli(["manifest", "up", "-f", file]);
        assert.equal(up.code, 0, up.stderr);
        const [ghost] = await cluster.waitForStates("broken", { ghost: "failed" });
        assert.match(ghost.error ?? "", /nonexistent\.invalid/);
        const ps = await cluster.cli(["manifest", "ps", "--name", "broken"]);
        assert.match(ps.stdout, /ERROR/);
        assert.match(ps.stdout, /failed/);
        // The other host's containers were not held back.
        assert.equal((await cluster.inspect("host-a", "shop_web"))?.State.Status, "exited");
      },
    );

    await cluster.step(t, "down removes everything on both engines", async () => {
      for (const name of ["shop", "broken"]) {
        const r = await cluster.cli(["manifest", "down", "--name", name]);
        assert.equal(r.code, 0, r.stderr);
      }
      await pollUntil("both engines empty and the manifests gone", async () => {
        const empty = (await cluster.engineNames("host-a")).length === 0 &&
          (await cluster.engineNames("host-b")).length === 0;
        return empty && (await cluster.ps()).length === 0;
      });
      const ps = await cluster.cli(["manifest", "ps", "--name", "shop"]);
      assert.equal(ps.code, 1);
      assert.match(ps.stderr, /shop/);
    });
  } finally {
    await cluster.stop();
  }
});
