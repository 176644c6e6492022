/**
 * Speed that the 5-second polling design could not give: with a 30 s interval, changes still
 * reach the engine, and engine changes reach `ps`, within a couple of seconds.
 */
import assert from "node:assert/strict";
import { Cluster, SLEEPER } from "./cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { TEST_IMAGE } from "./engines.ts";

const FAST = 5000;

function manifest(name: string, image = TEST_IMAGE): string {
  return `name: ${name}
containers:
  - name: app
    host: host-a
    image: ${image}
    cmd: ${JSON.stringify(SLEEPER)}
`;
}

Deno.test("changes converge in seconds with a 30s interval", async (t) => {
  const cluster = await Cluster.start(["host-a"], { interval: "30s" });
  try {
    // Let the agent's first long-poll settle in, so the test measures the held request.
    await new Promise((r) => setTimeout(r, 1000));

    await cluster.step(t, "up reaches the engine through the held long-poll", async () => {
      const up = await cluster.cli([
        "manifest",
        "up",
        "-f",
        cluster.writeManifest("fast", manifest("fast")),
      ]);
      assert.equal(up.code, 0, up.stderr);
      await cluster.waitForStates("fast", { app: "running" }, FAST);
    });

    await cluster.step(
      t,
      "a container killed on the engine shows failed with its exit code",
      async () => {
        await cluster.engines.docker("host-a", "kill", "fast_app");
        // No restart policy: nothing starts it again, so the exit is a failure.
        const [app] = await cluster.waitForStates("fast", { app: "failed" }, FAST);
        assert.equal(app.exitCode, 137);
        assert.equal(app.error, "exited with code 137");
      },
    );

    await cluster.step(t, "up --wait exits 0 once everything runs", async () => {
      const file = cluster.writeManifest("waited", manifest("waited"));
      const up = await cluster.cli(["manifest", "up", "--wait", "--timeout", "20s", "-f", file]);
      assert.equal(up.code, 0, up.stderr);
      const [app] = await cluster.ps("waited");
      assert.equal(app.state, "running");
      assert.match(up.stderr, /app \(host-a\): running/);
    });

    await cluster.step(
      t,
      "up --wait exits 1 naming the container whose image cannot be pulled",
      async () => {
        const file = cluster.writeManifest("bad", manifest("bad", "nonexistent.invalid/nope:1"));
        const up = await cluster.cli(["manifest", "up", "--wait", "--timeout", "20s", "-f", file]);
        assert.equal(up.code, 1);
        assert.match(up.stderr, /error: app on host-a failed: .*nonexistent\.invalid/);
      },
    );

    await cluster.step(t, "down --wait exits 0 once the engine is empty", async () => {
      for (const name of ["fast", "waited", "bad"]) {
        const down = await cluster.cli(["manifest", "down", "--wait", "--name", name]);
        assert.equal(down.code, 0, down.stderr);
      }
      assert.deepEqual(await cluster.engineNames("host-a"), []);
    });

    await cluster.step(t, "a server restarted mid-long-poll does not wedge the agent", async () => {
      await cluster.killServer();
      await cluster.startServer();
      const up = await cluster.cli([
        "manifest",
        "up",
        "-f",
        cluster.writeManifest("after", manifest("after")),
      ]);
      assert.equal(up.code, 0, up.stderr);
      await cluster.waitForStates("after", { app: "running" }, 10_000);
    });

    await cluster.step(
      t,
      "what happens while the server is down reaches ps once it is back",
      async () => {
        await cluster.killServer();
        await cluster.engines.docker("host-a", "kill", "after_app");
        await new Promise((r) => setTimeout(r, 500));
        await cluster.startServer();
        const [app] = await cluster.waitForStates("after", { app: "failed" }, 10_000);
        assert.equal(app.exitCode, 137);
        await cluster.engines.docker("host-a", "start", "after_app");
        await cluster.waitForStates("after", { app: "running" }, FAST);
      },
    );

    await cluster.step(
      t,
      "the agent survives an engine restart and reports correctly afterwards",
      async () => {
        await cluster.engines.restart("host-a");
        // The engine's restart stops the container (SIGTERM: its trap exits 0) and, with no
        // restart policy, does not start it again; the agent must see it.
        await cluster.waitForStates("after", { app: "completed" }, 10_000);
        await cluster.engines.docker("host-a", "start", "after_app");
        await cluster.waitForStates("after", { app: "running" }, FAST);
        await cluster.engines.docker("host-a", "kill", "after_app");
        await cluster.waitForStates("after", { app: "failed" }, FAST);
      },
    );

    await cluster.step(
      t,
      "the agent exits 0 on SIGTERM and leaves its containers running",
      async () => {
        await cluster.engines.docker("host-a", "start", "after_app");
        await pollUntil(
          "after_app running",
          async () => (await cluster.inspect("host-a", "after_app"))?.State.Running,
        );
        assert.equal(await cluster.stopAgent("host-a", "SIGTERM"), 0);
        assert.equal((await cluster.inspect("host-a", "after_app"))?.State.Running, true);
      },
    );
  } finally {
    await cluster.stop();
  }
});
