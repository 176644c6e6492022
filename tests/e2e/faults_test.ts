/**
 * What fault runs found, on real engines: an engine killed while the agent starts containers, a
 * failure that clears by itself, a re-applied manifest after a failed spec, graceful stops, and
 * two agents sharing one engine.
 */
import assert from "node:assert/strict";
import { Cluster, SLEEPER } from "./cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { TEST_IMAGE } from "./engines.ts";
import { DockerEngine } from "../../src/docker/docker_engine.ts";

const cmd = JSON.stringify(SLEEPER);

/** `count` sleepers on one host. */
function sleepers(name: string, host: string, count: number, extra = ""): string {
  const lines = [`name: ${name}`, "containers:"];
  for (let i = 0; i < count; i++) {
    lines.push(
      `  - name: c${i}`,
      `    host: ${host}`,
      `    image: ${TEST_IMAGE}`,
      `    cmd: ${cmd}`,
      ...(extra ? [`    ${extra}`] : []),
    );
  }
  return lines.join("\n") + "\n";
}

/** Waits until every container of `manifest` runs, in ps and on host-a's engine, with one id. */
async function allRunning(cluster: Cluster, manifest: string): Promise<void> {
  const list = await pollUntil(
    `all of ${manifest} running in ps and on the engine`,
    async () => {
      const ps = await cluster.ps(manifest);
      if (!ps.every((c) => c.state === "running" && c.error === undefined)) return false;
      const out = await cluster.engines.docker(
        "host-a",
        "ps",
        "--filter",
        `label=launcher.manifest=${manifest}`,
        "--format",
        "{{.ID}} {{.Names}} {{.State}}",
      );
      const engine = out.trim().split("\n").map((line) => line.split(" "));
      if (engine.length !== ps.length || engine.some(([, , state]) => state !== "running")) {
        return false;
      }
      return { ps, engine };
    },
    { timeoutMs: 120_000, everyMs: 250 },
  );
  for (const c of list.ps) {
    const onEngine = list.engine.find(([, name]) => name === `${manifest}_${c.config.name}`);
    assert.ok(onEngine, `${c.config.name} is on the engine`);
    assert.ok(c.containerId?.startsWith(onEngine[0]), `ps has the engine's id of ${c.config.name}`);
  }
}

Deno.test("faults on real engines", async (t) => {
  const cluster = await Cluster.start(["host-a", "host-b"]);
  const scratch = await Deno.makeTempDir({ prefix: "launcher-faults-" });
  try {
    await cluster.step(
      t,
      "an engine killed while containers start: all run again and ps agrees with the engine",
      async () => {
        const client = cluster.client();
        // The fault runs left containers stuck in 5 of 6 rounds; three rounds here.
        for (let round = 1; round <= 3; round++) {
          const name = `crash${round}`;
          // The engine restarts what ran before the crash; the agent must start the rest.
          await client.up(sleepers(name, "host-a", 10, "restart: always"));
          // The fault lands mid-convergence, as in the fault runs (150-300 ms after the up).
          await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 150));
          await cluster.engines.crash("host-a");
          await allRunning(cluster, name);
          await client.down(name);
        }
      },
    );

    await cluster.step(
      t,
      "a failure that clears without any other change is reported",
      async () => {
        const device = `${scratch}/dev0`;
        const path = cluster.writeManifest(
          "device",
          `name: device\ncontainers:\n  - name: app\n    host: host-b\n    image: ${TEST_IMAGE}\n` +
            `    cmd: ${cmd}\n    options: ["--device=${device}"]\n`,
        );
        assert.equal((await cluster.cli(["manifest", "up", "-f", path])).code, 0);
        const failed = await pollUntil("app failed", async () => {
          const [c] = await cluster.ps("device");
          return c?.state === "failed" ? c : undefined;
        });
        assert.match(failed.error ?? "", /error gathering device information/);
        // Fault timing, not an assertion: by now the agent's retries back off for longer than its
        // 1 s check, the window in which a failure used to be forgotten without a report.
        await new Promise((resolve) => setTimeout(resolve, 4000));
        // The device appears and someone starts the container by hand, during the backoff.
        const mknod = new Deno.Command("mknod", { args: [device, "c", "1", "3"] }).outputSync();
        assert.ok(mknod.success);
        // In-process, so the hand beats the agent's own retry (0.5 s to 1 s after the failure).
        const engine = new DockerEngine(
          cluster.engines.hosts.find((h) => h.name === "host-b")!.dockerHost,
        );
        await engine.startContainer("device_app");
        await pollUntil("app running without an error in ps", async () => {
          const [c] = await cluster.ps("device");
          return c?.state === "running" && c.error === undefined;
        }, { timeoutMs: 90_000 });
        await cluster.client().down("device");
      },
    );

    await cluster.step(t, "up --wait after fixing a failed spec judges the new spec", async () => {
      const broken = cluster.writeManifest(
        "fix-v1",
        `name: fix\ncontainers:\n  - name: app\n    host: host-a\n    image: launcher-test:absent\n` +
          `    pull: never\n    cmd: ${cmd}\n`,
      );
      const first = await cluster.cli(["manifest", "up", "-f", broken, "--wait"]);
      assert.equal(first.code, 1);
      assert.match(first.stderr, /app on host-a failed: image launcher-test:absent is not on host/);
      const fixed = cluster.writeManifest(
        "fix-v2",
        `name: fix\ncontainers:\n  - name: app\n    host: host-a\n    image: ${TEST_IMAGE}\n` +
          `    cmd: ${cmd}\n`,
      );
      const second = await cluster.cli(["manifest", "up", "-f", fixed, "--wait"]);
      assert.equal(second.code, 0, second.stderr);
      const [app] = await cluster.ps("fix");
      assert.equal(app.state, "running");
      assert.equal(app.error, undefined);
      const events = await cluster.client().events({ manifest: "fix" });
      const after = events.events.slice(events.events.findLastIndex((e) => e.kind === "up"));
      assert.ok(
        after.every((e) => e.kind !== "state" || e.to !== "failed"),
        `no failure of the old spec after the fix: ${JSON.stringify(after)}`,
      );
    });

    await cluster.step(t, "down stops a container gracefully: its TERM handler runs", async () => {
      const out = `${scratch}/out`;
      await Deno.mkdir(out);
      const handler = JSON.stringify([
        "sh",
        "-c",
        "trap 'echo got-term > /out/term; exit 0' TERM; sleep 3600 & wait",
      ]);
      const path = cluster.writeManifest(
        "graceful",
        `name: graceful\ncontainers:\n  - name: app\n    host: host-a\n    image: ${TEST_IMAGE}\n` +
          `    cmd: ${handler}\n    volumes: ["${out}:/out"]\n`,
      );
      assert.equal((await cluster.cli(["manifest", "up", "-f", path, "--wait"])).code, 0);
      const down = await cluster.cli(["manifest", "down", "-f", path, "--wait"]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal((await Deno.readTextFile(`${out}/term`)).trim(), "got-term");
      const events = await cluster.client().events({ manifest: "graceful" });
      assert.ok(
        !events.events.some((e) => e.to === "exited (137)"),
        `no SIGKILL: ${JSON.stringify(events.events)}`,
      );
    });

    await cluster.step(
      t,
      "two agents on one engine leave each other's containers alone",
      async () => {
        // host-c has no engine of its own: its agent shares host-a's.
        cluster.startAgent("host-c", [], cluster.token, "host-a");
        const path = cluster.writeManifest(
          "shared",
          `name: shared\ncontainers:\n` +
            `  - name: a\n    host: host-a\n    image: ${TEST_IMAGE}\n    cmd: ${cmd}\n` +
            `  - name: c\n    host: host-c\n    image: ${TEST_IMAGE}\n    cmd: ${cmd}\n`,
        );
        const up = await cluster.cli(["manifest", "up", "-f", path, "--wait"]);
        assert.equal(up.code, 0, up.stderr);
        const ids = async () =>
          (await cluster.ps("shared")).map((c) => `${c.config.name}:${c.containerId}`).sort();
        const before = await ids();
        // Each agent's periodic check (1 s here) has seen the other's container a few times.
        await pollUntil(
          "both agents to say what they leave alone",
          () =>
            /leaving container shared_c .* alone: it belongs to host host-c/
              .test(cluster.agentOutput("host-a")) &&
            /leaving container shared_a .* alone: it belongs to host host-a/
              .test(cluster.agentOutput("host-c")),
        );
        assert.deepEqual(await ids(), before, "neither container was replaced");
        assert.deepEqual(
          (await cluster.engineNames("host-a")).filter((n) => n.startsWith("shared_")),
          ["shared_a", "shared_c"],
        );
        assert.equal((await cluster.cli(["manifest", "down", "-f", path, "--wait"])).code, 0);
        await cluster.stopAgent("host-c");
      },
    );
  } finally {
    await cluster.stop();
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
});
