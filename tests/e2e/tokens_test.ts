/**
 * Scoped tokens with the real binary: a read token changes nothing but reads, an agent token
 * runs its own host's containers and nothing of another host's, and tokens are listed without
 * secrets and revoked at once.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import { TokenInfoSchema } from "../../src/api/schemas.ts";
import { ApiError } from "../../src/client/errors.ts";
import { LauncherClient } from "../../src/client/client.ts";
import { Cluster, PASSWORD, SLEEPER } from "./cluster.ts";
import { TEST_IMAGE } from "./engines.ts";

const cmd = JSON.stringify(SLEEPER);
const greeter = JSON.stringify(["sh", "-c", `echo hello-from-web; ${SLEEPER[2]}`]);

const SHOP = `name: shop
containers:
  - name: web
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${greeter}
  - name: api
    host: host-b
    image: ${TEST_IMAGE}
    cmd: ${cmd}
`;

/** Asserts that a promise rejects with an API error of this status and code. */
async function rejectsWith(promise: Promise<unknown>, status: number, code: string) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.status, status, error.message);
    assert.equal(error.code, code);
    return true;
  });
}

Deno.test("scoped tokens with the real binary", async (t) => {
  const cluster = await Cluster.start(["host-a", "host-b"]);
  try {
    const file = cluster.writeManifest("shop", SHOP);
    const tokens: Record<string, string> = { admin: cluster.token };
    const as = (role: string) => ({ env: { LAUNCHER_TOKEN: tokens[role] } });

    await cluster.step(t, "token generate makes scoped tokens both ways", async () => {
      const read = await cluster.cli(["token", "generate", "--role", "read"]);
      assert.equal(read.code, 0, read.stderr);
      assert.match(read.stdout, /^[A-Za-z0-9_-]{43}\n$/, "the token alone");
      tokens.read = read.stdout.trim();

      const agent = await cluster.cli(
        ["token", "generate", "--role", "agent", "--host", "host-a", "--ttl", "1h"],
      );
      assert.equal(agent.code, 0, agent.stderr);
      tokens.agent = agent.stdout.trim();

      const viaPassword = await cluster.cli(
        ["token", "generate", "--role", "read", "--ttl", "30d", "--password-stdin"],
        { stdin: `${PASSWORD}\n`, env: { LAUNCHER_TOKEN: "" } },
      );
      assert.equal(viaPassword.code, 0, viaPassword.stderr);
      tokens.readByPassword = viaPassword.stdout.trim();

      const noHost = await cluster.cli(["token", "generate", "--role", "agent"]);
      assert.equal(noHost.code, 2);
      assert.match(noHost.stderr, /--role agent needs --host/);
      const byRead = await cluster.cli(["token", "generate"], as("read"));
      assert.equal(byRead.code, 1);
      assert.match(byRead.stderr, /token has role read, but POST \/tokens needs role admin/);
    });

    await cluster.step(t, "a read token cannot apply a manifest but lists it", async () => {
      const up = await cluster.cli(["manifest", "up", "-f", file], as("read"));
      assert.equal(up.code, 1);
      assert.match(up.stderr, /token has role read, but POST \/manifest\/up needs role admin/);
      assert.equal(up.stdout, "");
      assert.deepEqual(await cluster.ps(), [], "nothing was stored");
      const ps = await cluster.cli(["manifest", "ps"], as("readByPassword"));
      assert.equal(ps.code, 0, ps.stderr);
      assert.match(ps.stdout, /^MANIFEST\s+CONTAINER/);
    });

    await cluster.step(t, "an agent with an agent token runs its host's containers", async () => {
      await cluster.stopAgent("host-a");
      cluster.startAgent("host-a", [], tokens.agent);
      const up = await cluster.cli(["manifest", "up", "-f", file]);
      assert.equal(up.code, 0, up.stderr);
      await cluster.waitForStates("shop", { web: "running", api: "running" });
      assert.deepEqual(await cluster.engineNames("host-a"), ["shop_web"]);
      const ps = await cluster.cli(["manifest", "ps", "-f", file], as("read"));
      assert.equal(ps.code, 0, ps.stderr);
      assert.match(ps.stdout, /shop\s+web\s+host-a\s+\S+\s+-\s+running\s+running/);
      const logs = await cluster.cli(["logs", "shop/web"], as("read"));
      assert.equal(logs.code, 0, logs.stderr);
      assert.equal(logs.stdout, "hello-from-web\n", "the agent answered the log request");
      assert.doesNotMatch(cluster.logs(), /forbidden|token has role/);
    });

    await cluster.step(t, "the agent token cannot act for another host", async () => {
      const agent = new LauncherClient(cluster.url, tokens.agent);
      const own = await agent.desired("host-a", 0, 0);
      assert.deepEqual(own.containers.map((c) => c.config.name), ["web"]);
      await rejectsWith(agent.desired("host-b", 0, 0), 403, "forbidden");
      await rejectsWith(
        agent.report([{ host: "host-b", manifest: "shop", name: "api", state: "exited" }]),
        403,
        "forbidden",
      );
      await rejectsWith(
        agent.report([
          { host: "host-a", manifest: "shop", name: "web", state: "running" },
          { host: "host-b", manifest: "shop", name: "api", state: "exited" },
        ]),
        403,
        "forbidden",
      );
      await rejectsWith(agent.logRequests("host-b", 0), 403, "forbidden");
      await rejectsWith(
        agent.registerHost({
          host: "host-b",
          engineVersion: "x",
          os: "linux",
          arch: "amd64",
          cpus: 1,
          memory: 1,
          agentVersion: "x",
          labels: {},
          intervalMs: 1000,
        }),
        403,
        "forbidden",
      );
      await rejectsWith(agent.ps(), 403, "forbidden");
      const api = (await cluster.ps("shop")).find((c) => c.config.name === "api");
      assert.equal(api?.state, "running", "no report for host-b got through");
    });

    await cluster.step(
      t,
      "token ls lists every token and no secret; revoke is at once",
      async () => {
        const ls = await cluster.cli(["token", "ls"]);
        assert.equal(ls.code, 0, ls.stderr);
        const lines = ls.stdout.trim().split("\n");
        assert.match(
          lines[0],
          /^ID\s+ROLE\s+HOST\s+STATUS\s+CREATED\s+EXPIRES\s+LAST USED$/,
        );
        assert.equal(lines.length, 5, ls.stdout);
        assert.match(
          ls.stdout,
          /\n[0-9a-f]{12}\s+agent\s+host-a\s+active\s+\S+ ago\s+in \S+\s+\S+ ago/,
        );
        for (const secret of Object.values(tokens)) assert.ok(!ls.stdout.includes(secret));

        const json = await cluster.cli(["token", "ls", "-o", "json"]);
        assert.equal(json.code, 0, json.stderr);
        for (const secret of Object.values(tokens)) assert.ok(!json.stdout.includes(secret));
        const list = v.parse(v.array(TokenInfoSchema), JSON.parse(json.stdout));
        const read = list.filter((token) => token.role === "read" && token.expiresAt === undefined);
        assert.equal(read.length, 1);

        const revoke = await cluster.cli(["token", "revoke", read[0].id]);
        assert.equal(revoke.code, 0, revoke.stderr);
        assert.equal(revoke.stdout, `token ${read[0].id} revoked\n`);
        const ps = await cluster.cli(["manifest", "ps"], as("read"));
        assert.equal(ps.code, 1);
        assert.match(ps.stderr, /token revoked/);
        const after = await cluster.cli(["token", "ls"]);
        assert.match(after.stdout, new RegExp(`${read[0].id}\\s+read\\s+-\\s+revoked`));
        const unknown = await cluster.cli(["token", "revoke", "000000000000"]);
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /no token with id 000000000000/);
      },
    );
  } finally {
    await cluster.stop();
  }
});
