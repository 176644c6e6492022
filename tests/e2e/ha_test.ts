/**
 * High availability end to end (issue 10): one throwaway PostgreSQL cluster, two `launcher serve
 * --store URL` processes A and B, two hosts on real engines whose agents take both servers
 * (`--master A,B` for host-a, `--master B,A` for host-b, so that one polls A and one polls B).
 * A change through one server runs on the host polling the other; a server killed under a held
 * poll sends its agent to the other; the database restarted loses nothing answered and refuses
 * writes while down; the duty holder killed hands the duties over, and host liveness still works.
 * `logs -f` works through either server, whichever holds the agent's log poll.
 */
import assert from "node:assert/strict";
import { LauncherClient } from "../../src/client/client.ts";
import { startPostgres } from "../pg_cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { freePort } from "../processes.ts";
import { Cluster, PASSWORD, Proc, shopWeb, SLEEPER } from "./cluster.ts";
import { TEST_IMAGE } from "./engines.ts";

function kept(host: string): string {
  return `name: kept
containers:
  - name: db
    host: ${host}
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
`;
}

/**
 * A container on host-a that prints a numbered line five times a second. `$$` is the shell's `$`:
 * the CLI resolves `$NAME` in manifests.
 */
const talker = `name: talk
containers:
  - name: talk
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ["sh", "-c", "i=0; while :; do echo line $$i; i=$$((i+1)); sleep 0.2; done"]
`;

/** Follows `launcher logs -f` through a server until `want` shows, then stops it. */
async function followUntil(url: string, token: string, target: string, want: RegExp) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname, "logs", target, "-f"],
    stdout: "piped",
    stderr: "piped",
    env: { LAUNCHER_URL: url, LAUNCHER_TOKEN: token, NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!want.test(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
  } finally {
    child.kill("SIGTERM");
    await reader.cancel().catch(() => {});
    await child.status;
  }
  return { out, stderr: await stderr };
}

/** One placed container (no host), moved 3 s after its host goes offline. */
const placed = `name: moved
reschedule_after: 3s
containers:
  - name: web
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
`;

/** Server B: the same store and password as the cluster's server A, on its own port. */
async function startServerB(url: string, store: string): Promise<Proc> {
  const proc = new Proc("server B", [
    "serve",
    "--ip",
    "127.0.0.1",
    "--port",
    new URL(url).port,
    "--store",
    store,
    "--token-pass",
    PASSWORD,
  ]);
  await pollUntil("server B to answer", async () => {
    await new LauncherClient(url).healthz();
    return true;
  });
  return proc;
}

Deno.test("two servers on one PostgreSQL database with agents on both", async (t) => {
  const pg = await startPostgres();
  let cluster: Cluster | undefined;
  let serverB: Proc | undefined;
  try {
    const store = await pg.createDatabase();
    cluster = await Cluster.start(["host-a", "host-b"], {
      store,
      idle: ["host-a", "host-b"],
    });
    const c = cluster;
    const A = c.url;
    const B = `http://127.0.0.1:${freePort()}`;
    serverB = await startServerB(B, store);
    c.startAgent("host-a", [], c.token, "host-a", `${A},${B}`);
    c.startAgent("host-b", [], c.token, "host-b", `${B},${A}`);
    const on = (url: string) => new LauncherClient(url, c.token);
    const cliOn = (url: string, args: string[]) => c.cli(args, { env: { LAUNCHER_URL: url } });
    /** The step prints server B's output too when it fails. */
    const step = (name: string, fn: () => Promise<void>) =>
      c.step(t, name, async () => {
        try {
          await fn();
        } catch (error) {
          console.error(`--- server B\n${serverB?.output.join("") ?? "(stopped)"}`);
          throw error;
        }
      });
    const running = async (url: string, manifest: string, name: string) => {
      const list = await on(url).ps(manifest);
      return list.find((s) => s.config.name === name && s.state === "running");
    };
    await pollUntil("each server to hold one agent's poll", async () => {
      const [a, b] = await Promise.all([on(A).status(), on(B).status()]);
      return a.held.polls === 1 && b.held.polls === 1;
    });

    await step("a manifest through B runs on the host polling A", async () => {
      const up = await cliOn(B, ["manifest", "up", "-f", c.writeManifest("v1", shopWeb("one"))]);
      assert.equal(up.code, 0, up.stderr);
      await pollUntil(
        "shop/web running through A and B",
        async () => (await running(A, "shop", "web")) && (await running(B, "shop", "web")),
      );
      assert.deepEqual(await c.engineNames("host-a"), ["shop_web"]);
      assert.equal((await c.inspect("host-a", "shop_web"))?.State.Running, true);
    });

    await step("A killed under a held poll: its agent goes to B", async () => {
      assert.equal((await on(A).status()).held.polls, 1, "A holds host-a's poll");
      const killed = Date.now();
      await c.killServer();
      const change = cliOn(B, ["manifest", "up", "-f", c.writeManifest("v2", shopWeb("two"))]);
      await pollUntil("B to hold both polls", async () => (await on(B).status()).held.polls === 2);
      const moved = Date.now() - killed;
      const up = await change;
      assert.equal(up.code, 0, up.stderr);
      await pollUntil("the change to run on host-a", async () => {
        const inspect = await c.inspect("host-a", "shop_web");
        return inspect?.State.Running && inspect.Config.Env.includes("MODE=two");
      });
      const ran = Date.now() - killed;
      console.log(
        `failover: B holds host-a's poll ${moved} ms after the kill; change ran ${ran} ms`,
      );
      assert.ok(moved < 2_000, `the agent moved in ${moved} ms`);
      await c.startServer();
    });

    await step("PostgreSQL restarted: nothing lost, 503 while down, all converges", async () => {
      const up = await cliOn(A, ["manifest", "up", "-f", c.writeManifest("k1", kept("host-b"))]);
      assert.equal(up.code, 0, up.stderr);
      await pollUntil("kept/db running", () => running(A, "kept", "db"));
      const startedA = (await c.inspect("host-a", "shop_web"))?.State.StartedAt;
      const startedB = (await c.inspect("host-b", "kept_db"))?.State.StartedAt;
      assert.ok(startedA && startedB);

      await pg.kill();
      const down = await cliOn(B, [
        "manifest",
        "up",
        "-f",
        c.writeManifest("v3", shopWeb("three")),
      ]);
      assert.notEqual(down.code, 0, down.stdout);
      assert.match(down.stderr, /the store is unreachable/);
      await pg.restart();

      await pollUntil(
        "both manifests running through both servers",
        async () =>
          (await running(A, "shop", "web")) && (await running(B, "kept", "db")) &&
          (await running(B, "shop", "web")) && (await running(A, "kept", "db")),
      );
      const webEnv = (await c.inspect("host-a", "shop_web"))?.Config.Env ?? [];
      assert.ok(webEnv.includes("MODE=two"), "the refused write changed nothing");
      assert.equal((await c.inspect("host-a", "shop_web"))?.State.StartedAt, startedA);
      assert.equal((await c.inspect("host-b", "kept_db"))?.State.StartedAt, startedB);
      const again = await cliOn(B, [
        "manifest",
        "up",
        "-f",
        c.writeManifest("v4", shopWeb("four")),
      ]);
      assert.equal(again.code, 0, again.stderr);
      await pollUntil("the change after the outage to run on host-a", async () => {
        const inspect = await c.inspect("host-a", "shop_web");
        return inspect?.State.Running && inspect.Config.Env.includes("MODE=four");
      });
      assert.equal((await c.inspect("host-b", "kept_db"))?.State.StartedAt, startedB);
    });

    await step("logs -f works through either server, whichever holds the log poll", async () => {
      const up = await cliOn(A, ["manifest", "up", "-f", c.writeManifest("talk", talker)]);
      assert.equal(up.code, 0, up.stderr);
      await pollUntil("talk running", () => running(A, "talk", "talk"));
      // host-a's agent polls one of the two: through the other, the request crosses servers.
      for (const url of [A, B]) {
        const seen = await followUntil(url, c.token, "talk/talk", /line \d+\n[^]*line \d+\n/);
        assert.match(seen.out, /line \d+\n[^]*line \d+\n/, `${url}: ${seen.stderr}`);
      }
    });

    await step(
      "the duty holder killed: the other takes over, and sees a host go offline",
      async () => {
        const idA = (await on(A).status()).server;
        const idB = (await on(B).status()).server;
        const holder = await pollUntil("a duty holder", async () => {
          const h = (await on(A).status()).duties.holder;
          return h === idA || h === idB ? h : undefined;
        });
        assert.equal((await on(B).status()).duties.holder, holder, "both servers name the same");
        const survivor = holder === idA ? B : A;
        const survivorId = holder === idA ? idB : idA;
        if (holder === idA) {
          await c.killServer();
        } else {
          await serverB?.stop("SIGKILL");
          serverB = undefined;
        }
        const killed = Date.now();
        await pollUntil("the survivor to hold the duties", async () => {
          const s = await on(survivor).status();
          return s.duties.holding && s.duties.holder === survivorId;
        }, { timeoutMs: 10_000 });
        console.log(
          `duties: ${holder === idA ? "A" : "B"} killed, the other took them over ${
            Date.now() - killed
          } ms after the holder's kill`,
        );
        const status = await cliOn(survivor, ["status"]);
        assert.equal(status.code, 0, status.stderr);
        assert.match(status.stdout, /duties\s+this server/);

        await pollUntil(
          "the survivor to hold both polls",
          async () => (await on(survivor).status()).held.polls === 2,
        );
        const file = c.writeManifest("m1", placed);
        const up = await cliOn(survivor, ["manifest", "up", "-f", file]);
        assert.equal(up.code, 0, up.stderr);
        let seen = "";
        const before = await pollUntil(() => `moved/web placed and running: ${seen}`, async () => {
          const list = await on(survivor).ps("moved");
          seen = JSON.stringify(list.map((s) => [s.host, s.state, s.error]));
          return list.find((s) => s.state === "running");
        });
        const victim = before.host;
        const other = victim === "host-a" ? "host-b" : "host-a";
        await c.stopAgent(victim);
        const stopped = Date.now();
        await pollUntil(`${victim} offline through the survivor`, async () => {
          const hosts = await on(survivor).hosts();
          return hosts.find((h) => h.name === victim)?.status === "offline";
        }, { timeoutMs: 15_000 });
        const offline = Date.now() - stopped;
        assert.ok(offline >= 2_000, `offline after 3 intervals, not ${offline} ms`);
        const hosts = await cliOn(survivor, ["hosts"]);
        assert.equal(hosts.code, 0, hosts.stderr);
        assert.match(hosts.stdout, new RegExp(`${victim}\\s+offline`));
        assert.match(hosts.stdout, new RegExp(`${other}\\s+online`));
        await pollUntil(() => `moved/web rescheduled to ${other}: ${seen}`, async () => {
          const list = await on(survivor).ps("moved");
          seen = JSON.stringify(list.map((s) => [s.config.name, s.host, s.state, s.error]));
          const web = list.find((s) => s.state === "running");
          const inspect = await c.inspect(other, "moved_web.1");
          return web?.host === other && inspect?.State.Running;
        }, { timeoutMs: 20_000 });
        console.log(
          `${victim} offline ${offline} ms after its agent's kill; moved/web ran on ${other} ${
            Date.now() - stopped
          } ms after`,
        );
      },
    );
  } finally {
    await serverB?.stop("SIGKILL");
    await cluster?.stop();
    await pg.stop();
  }
});
