/**
 * Hosts on real engines: agents register with their engine's facts and labels, a SIGKILLed agent
 * turns its host offline and its containers `unknown` (and back when it returns), and a host is
 * drained and removed.
 */
import assert from "node:assert/strict";
import type { HostStatus } from "../../src/api/schemas.ts";
import { Cluster, SLEEPER } from "./cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { TEST_IMAGE } from "./engines.ts";

const LABELS: Record<string, string[]> = {
  "host-a": ["--label", "zone=a", "--label", "tier=web"],
  "host-b": ["--label", "zone=b"],
};

const APP = `name: app
containers:
  - name: web
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
  - name: api
    host: host-b
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
`;

const MORE_ON_B = `name: more
containers:
  - name: extra
    host: host-b
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
`;

/** `text` as a regular expression that matches it literally. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function host(cluster: Cluster, name: string): Promise<HostStatus | undefined> {
  return (await cluster.client().hosts()).find((h) => h.name === name);
}

Deno.test("hosts: registration, offline and back, drain and remove", async (t) => {
  const cluster = await Cluster.start(["host-a", "host-b"], {
    interval: "500ms",
    agentArgs: LABELS,
  });
  try {
    await cluster.step(t, "hosts shows both hosts online with engine and labels", async () => {
      await pollUntil("both hosts registered", async () => {
        const list = await cluster.client().hosts();
        return list.filter((h) => h.registered && h.online).length === 2;
      });
      const version =
        (await cluster.engines.docker("host-a", "version", "-f", "{{.Server.Version}}"))
          .trim();
      const table = await cluster.cli(["hosts"]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^NAME\s+STATUS\s+LAST SEEN\s+RUNNING\/TOTAL\s+ENGINE\s+LABELS$/m);
      const row = (name: string, labels: string) =>
        new RegExp(
          `^${name}\\s+online\\s+now\\s+0/0\\s+${escape(version)}\\s+${labels}$`,
          "m",
        );
      assert.match(table.stdout, row("host-a", "tier=web,zone=a"));
      assert.match(table.stdout, row("host-b", "zone=b"));

      const json = await cluster.cli(["hosts", "-o", "json"]);
      assert.equal(json.code, 0, json.stderr);
      const a = (JSON.parse(json.stdout) as HostStatus[]).find((h) => h.name === "host-a");
      assert.equal(a?.engineVersion, version);
      assert.equal(a?.os, "linux");
      assert.ok((a?.cpus ?? 0) > 0);
      assert.ok((a?.memory ?? 0) > 0);
      assert.equal(a?.intervalMs, 500);
      assert.deepEqual(a?.labels, { zone: "a", tier: "web" });
    });

    await cluster.step(
      t,
      "a SIGKILLed agent turns its host offline and its containers unknown, and back",
      async () => {
        const file = cluster.writeManifest("app", APP);
        const up = await cluster.cli(["manifest", "up", "-f", file, "--wait"]);
        assert.equal(up.code, 0, up.stderr);
        assert.deepEqual((await host(cluster, "host-a"))?.containers, { running: 1, total: 1 });

        await cluster.stopAgent("host-a", "SIGKILL");
        const killed = Date.now();
        await pollUntil(
          "host-a offline",
          async () => (await host(cluster, "host-a"))?.online === false,
        );
        const took = Date.now() - killed;
        assert.ok(
          took >= 1000 && took < 5000,
          `offline after 3 missed 500ms intervals (${took} ms)`,
        );
        const ps = await cluster.ps("app");
        assert.equal(ps.find((c) => c.config.name === "web")?.state, "unknown");
        assert.equal(ps.find((c) => c.config.name === "api")?.state, "running");
        const table = await cluster.cli(["manifest", "ps", "--name", "app"]);
        assert.match(table.stdout, /app\s+web\s+host-a\s+\S+\s+-\s+running\s+unknown/);
        const hosts = await cluster.cli(["hosts"]);
        assert.match(hosts.stdout, /^host-a\s+offline\s+\d+s ago\s+1\/1/m);
        // The container itself kept running: only the server lost sight of it.
        assert.equal((await cluster.inspect("host-a", "app_web"))?.State.Running, true);

        cluster.startAgent("host-a", LABELS["host-a"]);
        await cluster.waitForStates("app", { web: "running" }, 20_000);
        assert.equal((await host(cluster, "host-a"))?.status, "online");
      },
    );

    await cluster.step(
      t,
      "a drained host empties, refuses new containers, and is removed",
      async () => {
        const early = await cluster.cli(["hosts", "rm", "host-b"]);
        assert.equal(early.code, 1);
        assert.match(early.stderr, /host host-b still has 1 container \(app\/api\): drain it/);

        const drain = await cluster.cli(["hosts", "drain", "host-b"]);
        assert.equal(drain.code, 0, drain.stderr);
        assert.equal(drain.stdout.trim(), "host-b: draining; removing app/api");
        await pollUntil("host-b's engine empty and api forgotten", async () => {
          const gone = !(await cluster.ps("app")).some((c) => c.config.name === "api");
          return gone && (await cluster.engineNames("host-b")).length === 0;
        });
        assert.equal((await host(cluster, "host-b"))?.status, "draining");
        assert.deepEqual(await cluster.engineNames("host-a"), ["app_web"], "host-a is untouched");

        const refused = await cluster.cli([
          "manifest",
          "up",
          "-f",
          cluster.writeManifest("more", MORE_ON_B),
        ]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /host host-b is draining and takes no new containers/);
        assert.equal((await cluster.cli(["manifest", "ps", "--name", "more"])).code, 1);

        await cluster.stopAgent("host-b", "SIGTERM");
        const rm = await cluster.cli(["hosts", "rm", "host-b"]);
        assert.equal(rm.code, 0, rm.stderr);
        assert.equal(rm.stdout.trim(), "host-b: removed");
        assert.equal(await host(cluster, "host-b"), undefined);

        // Its agent, started again, registers a fresh host that takes containers.
        cluster.startAgent("host-b", LABELS["host-b"]);
        await pollUntil(
          "host-b back",
          async () => (await host(cluster, "host-b"))?.status === "online",
        );
        const up = await cluster.cli([
          "manifest",
          "up",
          "-f",
          cluster.writeManifest("more", MORE_ON_B),
        ]);
        assert.equal(up.code, 0, up.stderr);
        await cluster.waitForStates("more", { extra: "running" });
      },
    );

    await cluster.step(t, "everything is removed", async () => {
      for (const name of ["app", "more"]) {
        const down = await cluster.cli(["manifest", "down", "--name", name, "--wait"]);
        assert.equal(down.code, 0, down.stderr);
      }
    });
  } finally {
    await cluster.stop();
  }
});
