/**
 * Placement on real engines: replicas spread over hosts, a label constraint, a fixed port that
 * keeps replicas apart with the one left over pending until a fourth host registers, a lost host's
 * containers moved and its stale copies removed when its agent returns, a rolling update in
 * ordered batches, a bad image rolled back, and a drain that moves a placed container.
 *
 * `manifest up --wait` following a rollout's batches is not covered here: `--wait` does not know
 * rollouts yet (src/cli/wait.ts).
 */
import assert from "node:assert/strict";
import type { ContainerStatus, EventRecord, ManifestSummary } from "../../src/api/schemas.ts";
import { Cluster, SLEEPER } from "./cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { TEST_IMAGE } from "./engines.ts";

const HOSTS = ["host-a", "host-b", "host-c", "host-d"];
/** One zone per host, so that a label picks exactly one. */
const LABELS = Object.fromEntries(HOSTS.map((h) => [h, ["--label", `zone=${h.slice(-1)}`]]));

/** A manifest of one placed spec `web`: `top` goes before `containers`, `extra` into the spec. */
function placed(name: string, replicas: number, extra = "", top = ""): string {
  return `name: ${name}\n${top}containers:\n  - name: web\n    image: ${TEST_IMAGE}\n` +
    `    cmd: ${JSON.stringify(SLEEPER)}\n    replicas: ${replicas}\n${extra}`;
}

/** One engine container of a manifest, as `docker ps` shows it. */
interface EngineContainer {
  host: string;
  name: string;
  state: string;
  image: string;
}

/** Every engine container of a manifest, on every engine. */
async function onEngines(cluster: Cluster, manifest: string): Promise<EngineContainer[]> {
  const all = await Promise.all(cluster.engines.hosts.map(async ({ name: host }) => {
    const out = await cluster.engines.docker(
      host,
      "ps",
      "-a",
      "--filter",
      `label=launcher.manifest=${manifest}`,
      "--format",
      "{{.Names}} {{.State}} {{.Image}}",
    );
    return out.split("\n").filter(Boolean).map((line) => {
      const [name, state, image] = line.split(" ");
      return { host, name, state, image };
    });
  }));
  return all.flat();
}

/**
 * Waits until every container of `manifest` runs in ps, and the engines hold exactly one running
 * container per instance, each on the host ps names (nothing left over anywhere). Returns ps.
 */
async function converged(
  cluster: Cluster,
  manifest: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ContainerStatus[]> {
  let seen = "";
  return await pollUntil(
    () => `${manifest} to converge on ${count} containers; saw ${seen}`,
    async () => {
      const ps = await cluster.ps(manifest);
      const engine = await onEngines(cluster, manifest);
      seen = JSON.stringify({
        ps: ps.map((c) => [c.config.name, c.host, c.desired, c.state, c.error]),
        engine: engine.map((e) => [e.host, e.name, e.state]),
      });
      if (ps.length !== count || engine.length !== count) return false;
      const matched = ps.every((c) =>
        c.desired === "running" && c.state === "running" &&
        engine.some((e) =>
          e.name === `${manifest}_${c.config.name}` && e.host === c.host && e.state === "running"
        )
      );
      return matched ? ps : false;
    },
    { timeoutMs, everyMs: 200 },
  );
}

/** A manifest's summary (`GET /manifests`), with its rollout. */
async function summary(cluster: Cluster, name: string): Promise<ManifestSummary | undefined> {
  return (await cluster.client().manifests()).find((m) => m.name === name);
}

/** Runs a CLI command and asserts it succeeded; returns its stdout. */
async function ok(cluster: Cluster, args: string[]): Promise<string> {
  const result = await cluster.cli(args);
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** Removes a manifest and waits until its containers are gone from every engine. */
async function down(cluster: Cluster, name: string): Promise<void> {
  await ok(cluster, ["manifest", "down", "--name", name, "--wait"]);
  await pollUntil(
    `${name} gone from every engine`,
    async () => (await onEngines(cluster, name)).length === 0,
  );
}

Deno.test("placement on real engines", async (t) => {
  // host-d's engine runs from the start; its agent registers only in the pending step.
  const cluster = await Cluster.start(HOSTS, {
    interval: "1s",
    agentArgs: LABELS,
    idle: ["host-d"],
  });
  try {
    // Placement sees only registered hosts: replicas applied before the agents register would
    // all land on the first one.
    await pollUntil("host-a, host-b and host-c registered", async () => {
      const hosts = await cluster.client().hosts();
      return hosts.filter((h) => h.registered && h.online).length === 3;
    }, { timeoutMs: 60_000 });

    await cluster.step(t, "replicas: 3 spread over the three hosts, one each", async () => {
      const file = cluster.writeManifest("shop", placed("shop", 3));
      await ok(cluster, ["manifest", "up", "-f", file, "--wait"]);
      const ps = await converged(cluster, "shop", 3);
      assert.deepEqual(ps.map((c) => c.host).sort(), ["host-a", "host-b", "host-c"]);
      const engine = await onEngines(cluster, "shop");
      for (const host of ["host-a", "host-b", "host-c"]) {
        const here = engine.filter((e) => e.host === host);
        assert.equal(here.length, 1, `${host} runs one: ${JSON.stringify(engine)}`);
        assert.match(here[0].name, /^shop_web\.[123]$/);
      }
      const table = await ok(cluster, ["manifest", "ps", "--name", "shop"]);
      for (const c of ps) {
        assert.match(
          table,
          new RegExp(
            `^shop\\s+${c.config.name}\\s+${c.host}\\s+\\S+\\s+-\\s+running\\s+running`,
            "m",
          ),
        );
      }
      await down(cluster, "shop");
    });

    await cluster.step(t, "a label constraint keeps replicas to the matching host", async () => {
      const file = cluster.writeManifest(
        "zoned",
        placed("zoned", 2, "    placement:\n      labels: { zone: b }\n"),
      );
      await ok(cluster, ["manifest", "up", "-f", file, "--wait"]);
      const ps = await converged(cluster, "zoned", 2);
      assert.deepEqual(ps.map((c) => c.host), ["host-b", "host-b"]);
      assert.deepEqual(await cluster.engineNames("host-b"), ["zoned_web.1", "zoned_web.2"]);
      await down(cluster, "zoned");
    });

    await cluster.step(
      t,
      "a fixed port keeps replicas apart; the fourth waits with its reason until host-d registers",
      async () => {
        const file = cluster.writeManifest("ports", placed("ports", 4, '    ports: ["8080:80"]\n'));
        await ok(cluster, ["manifest", "up", "-f", file]);
        const reason = "no host fits: 3 have port 8080/tcp taken";
        const ps = await pollUntil("three running and web.4 pending", async () => {
          const list = await cluster.ps("ports");
          const running = list.filter((c) => c.state === "running");
          const waiting = list.find((c) => c.config.name === "web.4");
          return running.length === 3 && waiting?.state === "pending" ? list : false;
        });
        assert.deepEqual(
          ps.filter((c) => c.state === "running").map((c) => c.host).sort(),
          ["host-a", "host-b", "host-c"],
        );
        const web4 = ps.find((c) => c.config.name === "web.4")!;
        assert.equal(web4.host, "");
        assert.equal(web4.error, reason);
        const table = await ok(cluster, ["manifest", "ps", "--name", "ports"]);
        assert.match(table, /^MANIFEST\s+CONTAINER\s+HOST\s+.*\s+ERROR$/m);
        assert.match(
          table,
          new RegExp(
            `^ports\\s+web\\.4\\s+-\\s+${TEST_IMAGE}\\s+8080:80\\s+running\\s+pending\\s+\\S+\\s+${reason}$`,
            "m",
          ),
        );
        assert.equal((await onEngines(cluster, "ports")).length, 3);

        cluster.startAgent("host-d", LABELS["host-d"]);
        const after = await converged(cluster, "ports", 4);
        assert.equal(after.find((c) => c.config.name === "web.4")?.host, "host-d");
        const inspect = await cluster.inspect("host-d", "ports_web.4");
        assert.deepEqual(inspect?.HostConfig.PortBindings, {
          "80/tcp": [{ HostIp: "", HostPort: "8080" }],
        });
        await down(cluster, "ports");
      },
    );

    await cluster.step(
      t,
      "a lost host's containers run elsewhere, and its agent removes the stale copies on return",
      async () => {
        const file = cluster.writeManifest(
          "moved",
          placed("moved", 3, "", "reschedule_after: 5s\n"),
        );
        await ok(cluster, ["manifest", "up", "-f", file, "--wait"]);
        const before = await converged(cluster, "moved", 3);
        const victim = before.find((c) => c.config.name === "web.1")!.host;
        await cluster.stopAgent(victim, "SIGKILL");
        const after = await pollUntil(`web.1 moved off ${victim} and running`, async () => {
          const list = await cluster.ps("moved");
          const moved = list.every((c) => c.host !== victim && c.state === "running");
          return list.length === 3 && moved ? list : false;
        }, { timeoutMs: 30_000, everyMs: 200 });
        assert.equal(new Set(after.map((c) => c.host)).size, 3, "still one per host");
        const web1 = after.find((c) => c.config.name === "web.1")!;
        // The moved replica runs on its new host's engine; its old copy still runs on the lost
        // host, where no agent is left to remove it.
        const engine = await onEngines(cluster, "moved");
        assert.ok(
          engine.some((e) =>
            e.host === web1.host && e.name === "moved_web.1" && e.state === "running"
          ),
          JSON.stringify(engine),
        );
        assert.ok(
          engine.some((e) => e.host === victim && e.name === "moved_web.1"),
          JSON.stringify(engine),
        );
        const table = await ok(cluster, ["manifest", "ps", "--name", "moved"]);
        assert.match(
          table,
          new RegExp(`^moved\\s+web\\.1\\s+${web1.host}\\s+.*running\\s+running`, "m"),
        );
        const events = await cluster.client().events({ manifest: "moved" });
        const moves = events.events.filter((e) => e.action === "reschedule");
        assert.deepEqual(
          moves.map((e) => [e.container, e.from, e.to]),
          [["web.1", victim, web1.host]],
        );

        cluster.startAgent(victim, LABELS[victim]);
        const final = await converged(cluster, "moved", 3);
        assert.ok(final.every((c) => c.host !== victim));
        assert.equal(
          (await onEngines(cluster, "moved")).filter((e) => e.host === victim).length,
          0,
          `${victim} keeps no stale copy`,
        );
      },
    );

    // The next two steps roll the same manifest: first a good change, then a bad image.
    const rolling = (update: string, env: string, extra = "") =>
      placed(
        "roll",
        3,
        `    environment: { VERSION: "${env}" }\n${extra}`,
        `update:\n${update.split("\n").map((l) => `  ${l}`).join("\n")}\n`,
      );
    const rollEvents = async (): Promise<EventRecord[]> => {
      const out = await ok(cluster, ["events", "-m", "roll", "-o", "json"]);
      return (JSON.parse(out) as EventRecord[]).filter((e) => e.kind === "rollout");
    };

    await cluster.step(t, "a rolling update replaces one batch at a time, in order", async () => {
      await down(cluster, "moved");
      const update = "parallel: 1\nmin_healthy: 1s\ndeadline: 1m";
      await ok(cluster, [
        "manifest",
        "up",
        "-f",
        cluster.writeManifest("roll-v1", rolling(update, "1")),
        "--wait",
      ]);
      await converged(cluster, "roll", 3);
      const up = await ok(cluster, [
        "manifest",
        "up",
        "-f",
        cluster.writeManifest("roll-v2", rolling(update, "2")),
      ]);
      assert.match(up, /^roll: updated web\.1, web\.2, web\.3$/m);
      await pollUntil("the rollout to succeed", async () => {
        const rollout = (await summary(cluster, "roll"))?.rollout;
        if (rollout?.status !== "running" && rollout?.status !== "succeeded") {
          throw new Error(`rollout is ${JSON.stringify(rollout)}`);
        }
        return rollout.status === "succeeded";
      }, { timeoutMs: 60_000, everyMs: 200 });
      const listed = JSON.parse(
        await ok(cluster, ["manifest", "ls", "-o", "json"]),
      ) as ManifestSummary[];
      const rollout = listed.find((m) => m.name === "roll")?.rollout;
      assert.equal(rollout?.status, "succeeded");
      assert.equal(rollout?.batch, 3);
      assert.equal(rollout?.batches, 3);
      assert.equal(rollout?.done, 3);

      assert.deepEqual((await rollEvents()).map((e) => [e.action, e.to]), [
        ["start", "3 to replace, 1 at a time"],
        ["batch", "batch 1 of 3: web.1"],
        ["batch", "batch 2 of 3: web.2"],
        ["batch", "batch 3 of 3: web.3"],
        ["succeeded", "3 replaced"],
      ]);
      // One batch at a time: each replica's new copy changes state only during its own batch.
      const all = JSON.parse(
        await ok(cluster, ["events", "-m", "roll", "-o", "json"]),
      ) as EventRecord[];
      const rolled = all.slice(all.findIndex((e) => e.kind === "rollout"));
      const marks = rolled.flatMap((e, i) => e.action === "batch" ? [i] : []);
      for (const [k, at] of marks.entries()) {
        const end = rolled.findIndex((e, i) => i > at && e.kind === "rollout");
        const states = rolled.flatMap((e, i) =>
          e.kind === "state" && e.container === `web.${k + 1}` ? [i] : []
        );
        assert.ok(
          states.length > 0 && states.every((i) => i > at && i < end),
          `web.${k + 1} changed state only in batch ${k + 1}: ${JSON.stringify(rolled)}`,
        );
      }

      // The same, as people read it.
      const text = await ok(cluster, ["events", "-m", "roll"]);
      const lines = [
        "start: 3 to replace, 1 at a time",
        "batch: batch 1 of 3: web.1",
        "batch: batch 2 of 3: web.2",
        "batch: batch 3 of 3: web.3",
        "succeeded: 3 replaced",
      ].map((what) => text.indexOf(`rollout  roll  ${what}  by `));
      assert.ok(lines.every((at, i) => at > 0 && (i === 0 || at > lines[i - 1])), text);

      const ps = await converged(cluster, "roll", 3);
      for (const c of ps) {
        const env = (await cluster.inspect(c.host, `roll_${c.config.name}`))?.Config.Env;
        assert.ok(env?.includes("VERSION=2"), `${c.config.name}: ${env}`);
      }
    });

    await cluster.step(t, "a bad image is rolled back and the old spec runs again", async () => {
      const before = (await rollEvents()).length;
      const update = "parallel: 1\nmin_healthy: 1s\ndeadline: 10s\non_failure: rollback";
      const bad =
        rolling(update, "2").replace(`image: ${TEST_IMAGE}`, "image: launcher-test:absent") +
        "    pull: never\n";
      // up --wait follows the rollout: its batch line, then exit 1 naming the container.
      const wait = await cluster.cli([
        "manifest",
        "up",
        "-f",
        cluster.writeManifest("roll-bad", bad),
        "--wait",
        "--timeout",
        "1m",
      ]);
      assert.equal(wait.code, 1, wait.stderr);
      assert.match(wait.stdout, /roll: rolling out web\.1, web\.2, web\.3 in batches/);
      assert.match(wait.stderr, /^roll: rollout batch 1\/3, 0 of 3 replaced$/m);
      assert.match(
        wait.stderr,
        /roll: rollout rolled-back: batch 1 of 3 missed its deadline of 10s: web\.1 is failed/,
      );
      const rollout = (await summary(cluster, "roll"))?.rollout;
      assert.ok(rollout?.status === "rolled-back", JSON.stringify(rollout));
      assert.equal(rollout.failed, "web.1");
      assert.match(
        rollout.error ?? "",
        /^batch 1 of 3 missed its deadline of 10s: web\.1 is failed: image launcher-test:absent is not on host host-[a-d]/,
      );
      assert.deepEqual(
        (await rollEvents()).slice(before).map((e) => [e.action, e.container]),
        [["start", undefined], ["batch", undefined], ["failed", "web.1"], [
          "rollback",
          undefined,
        ]],
      );
      const ps = await converged(cluster, "roll", 3);
      assert.deepEqual(ps.map((c) => c.config.image), [TEST_IMAGE, TEST_IMAGE, TEST_IMAGE]);
      const engine = await onEngines(cluster, "roll");
      assert.deepEqual(engine.map((e) => e.image), [TEST_IMAGE, TEST_IMAGE, TEST_IMAGE]);
      // The previous spec is the rolled one: VERSION=2 stays.
      for (const c of ps) {
        const env = (await cluster.inspect(c.host, `roll_${c.config.name}`))?.Config.Env;
        assert.ok(env?.includes("VERSION=2"), `${c.config.name}: ${env}`);
      }
      const text = await ok(cluster, ["events", "-m", "roll"]);
      assert.match(
        text,
        /rollout {2}roll\/web\.1 {2}failed: batch 1 of 3 missed its deadline of 10s: web\.1 is failed: image launcher-test:absent is not on host/,
      );
      assert.match(text, /rollout {2}roll {2}rollback: web\.1 {2}by scheduler$/m);
      await down(cluster, "roll");
    });

    await cluster.step(t, "drain moves a placed container to another host", async () => {
      const file = cluster.writeManifest("drain", placed("drain", 1));
      await ok(cluster, ["manifest", "up", "-f", file, "--wait"]);
      const [first] = await converged(cluster, "drain", 1);
      const from = first.host;
      const out = await ok(cluster, ["hosts", "drain", from]);
      assert.equal(
        out.trim(),
        `${from}: draining; moving drain/web.1 (each removed once its replacement runs)`,
      );
      const [moved] = await converged(cluster, "drain", 1);
      assert.equal(moved.config.name, "web.2");
      assert.notEqual(moved.host, from);
      assert.deepEqual(
        (await cluster.engineNames(from)).filter((n) => n.startsWith("drain_")),
        [],
      );
      const events = await cluster.client().events({ manifest: "drain" });
      const drains = events.events.filter((e) => e.action === "drain");
      assert.deepEqual(
        drains.map((e) => [e.container, e.host, e.to]),
        [["web.1", from, `web.2 on ${moved.host}`]],
      );
      await down(cluster, "drain");
    });
  } finally {
    await cluster.stop();
  }
});
