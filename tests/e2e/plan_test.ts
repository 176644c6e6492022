/**
 * Plan, list and history with the real program on a real engine: `manifest diff` shows the
 * exact change and changes nothing, `manifest ls` counts by state, `events` tells who did what
 * and what the agent saw, and `events -f` prints a new event within a second.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import { EventSchema } from "../../src/api/schemas.ts";
import { Cluster, SLEEPER } from "./cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { TEST_IMAGE } from "./engines.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

function shop(mode: string, withWorker: boolean): string {
  const container = (name: string, env: string) =>
    `  - name: ${name}
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
    environment: { MODE: ${env} }
`;
  return `name: shop\ncontainers:\n${container("web", mode)}${
    withWorker ? container("worker", "batch") : ""
  }`;
}

/** A CLI process that keeps running (`events -f`), with its output as it comes. */
class Follower {
  readonly lines: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #read: Promise<void>;
  #stderr = "";

  constructor(cluster: Cluster, args: string[]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { LAUNCHER_URL: cluster.url, LAUNCHER_TOKEN: cluster.token, NO_COLOR: "1" },
    }).spawn();
    this.#child = child;
    this.#read = Promise.all([
      (async () => {
        let rest = "";
        for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
          const parts = (rest + chunk).split("\n");
          rest = parts.pop() ?? "";
          this.lines.push(...parts);
        }
      })(),
      (async () => {
        for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
          this.#stderr += chunk;
        }
      })(),
    ]).then(() => {});
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Stops the process (as Ctrl-C does) and waits for its output to end. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGINT");
    } catch {
      // Already gone.
    }
    await this.#child.status;
    await this.#read;
  }
}

Deno.test("diff, manifest ls and events on a real engine", async (t) => {
  const cluster = await Cluster.start(["host-a"]);
  try {
    const v1 = cluster.writeManifest("shop-v1", shop("prod", true));
    const v2 = cluster.writeManifest("shop-v2", shop("staging", false));

    await cluster.step(
      t,
      "diff of a new manifest plans creates, exits 3, stores nothing",
      async () => {
        const diff = await cluster.cli(["manifest", "diff", "-f", v1]);
        assert.equal(diff.code, 3, diff.stderr);
        assert.equal(
          diff.stdout,
          "shop: 2 to create\n+ create     web on host-a\n+ create     worker on host-a\n",
        );
        assert.deepEqual(await cluster.ps(), []);
        const ls = await cluster.cli(["manifest", "ls"]);
        assert.equal(ls.code, 0, ls.stderr);
        assert.equal(
          ls.stdout.trim(),
          "NAME   CONTAINERS   RUNNING   EXITED   FAILED   PENDING   OTHER   ROLLOUT   AGE",
        );
      },
    );

    await cluster.step(
      t,
      "after up, diff exits 0 and manifest ls counts them running",
      async () => {
        const up = await cluster.cli(["manifest", "up", "-f", v1, "--wait", "--timeout", "60s"]);
        assert.equal(up.code, 0, up.stderr);
        const diff = await cluster.cli(["manifest", "diff", "-f", v1]);
        assert.equal(diff.code, 0, diff.stderr);
        assert.match(diff.stdout, /^shop: no changes; 2 unchanged\n= unchanged\s+web on host-a\n/);
        const ls = await cluster.cli(["manifest", "ls"]);
        assert.equal(ls.code, 0, ls.stderr);
        assert.match(ls.stdout.split("\n")[1], /^shop\s+2\s+2\s+0\s+0\s+0\s+0\s+-\s+\d+s$/);
      },
    );

    await cluster.step(t, "diff prints the exact change, exits 3 and changes nothing", async () => {
      const before = await cluster.ps("shop");
      const engineBefore = await cluster.inspect("host-a", "shop_web");
      const diff = await cluster.cli(["manifest", "diff", "-f", v2]);
      assert.equal(diff.code, 3, diff.stderr);
      assert.equal(
        diff.stdout,
        [
          "shop: 1 to recreate, 1 to remove",
          "~ recreate   web on host-a",
          "    environment.MODE: prod -> staging",
          "- remove     worker on host-a",
          "",
        ].join("\n"),
      );
      const json = await cluster.cli(["manifest", "diff", "-f", v2, "-o", "json"]);
      assert.equal(json.code, 3, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout).containers[0].changes, [
        { field: "environment.MODE", from: "prod", to: "staging" },
      ]);
      // Time for an agent to act on anything the diff had wrongly changed.
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(await cluster.ps("shop"), before);
      const engineAfter = await cluster.inspect("host-a", "shop_web");
      assert.equal(engineAfter?.Id, engineBefore?.Id);
      assert.deepEqual(await cluster.engineNames("host-a"), ["shop_web", "shop_worker"]);
    });

    await cluster.step(t, "manifest ls counts a stopped container as exited", async () => {
      const stop = await cluster.cli(["container", "stop", "-h", "host-a", "-c", "worker"]);
      assert.equal(stop.code, 0, stop.stderr);
      await cluster.waitForStates("shop", { web: "running", worker: "exited" });
      const ls = await cluster.cli(["manifest", "ls", "-o", "json"]);
      assert.equal(ls.code, 0, ls.stderr);
      const [summary] = JSON.parse(ls.stdout);
      assert.deepEqual([summary.name, summary.containers, summary.states], [
        "shop",
        2,
        { running: 1, exited: 1 },
      ]);
    });

    await cluster.step(t, "events shows the up, the action and the state changes", async () => {
      const r = await cluster.cli(["events", "--manifest", "shop"]);
      assert.equal(r.code, 0, r.stderr);
      const by = String.raw`by token [0-9a-f]+ \(admin\)`;
      assert.match(r.stdout, new RegExp(String.raw`\bup\s+shop/web on host-a  create  ${by}`));
      assert.match(r.stdout, new RegExp(String.raw`\baction\s+shop/worker on host-a  stop  ${by}`));
      assert.match(r.stdout, /\bstate\s+shop\/web on host-a {2}\S+ -> running\n/);
      assert.match(r.stdout, /\bstate\s+shop\/worker on host-a {2}running -> exited \(\d+\)/);
      const host = await cluster.cli(["events", "--host", "host-b", "-o", "json"]);
      assert.equal(host.code, 0, host.stderr);
      assert.deepEqual(JSON.parse(host.stdout), []);
      const bad = await cluster.cli(["events", "--since", "yesterday"]);
      assert.equal(bad.code, 2);
    });

    await cluster.step(t, "events -f prints a new event within a second", async () => {
      const { last } = await cluster.client().events();
      const follower = new Follower(cluster, ["events", "-f", "--manifest", "shop", "-o", "json"]);
      try {
        const ids = () => follower.lines.map((l) => v.parse(EventSchema, JSON.parse(l)).id);
        await pollUntil("the follower to print what is there", () => ids().includes(last), {
          timeoutMs: 20_000,
        });
        // Its long-poll is in place once the server holds it: give it a moment to be sent.
        await new Promise((r) => setTimeout(r, 300));
        const started = performance.now();
        await cluster.client().up(shop("staging", false));
        const seen = await pollUntil("the new events", () => {
          const events = follower.lines.map((l) => v.parse(EventSchema, JSON.parse(l)));
          return events.some((e) => e.id > last && e.kind === "up") && events;
        }, { timeoutMs: 5000 });
        const ms = performance.now() - started;
        assert.ok(ms < 1000, `printed after ${Math.round(ms)} ms`);
        const recreate = seen.find((e) => e.id > last && e.action === "recreate");
        assert.deepEqual(recreate?.changes, [
          { field: "environment.MODE", from: "prod", to: "staging" },
        ]);
      } finally {
        await follower.stop();
      }
      assert.equal(follower.stderr, "");
    });
  } finally {
    await cluster.stop();
  }
});
