/**
 * Secrets end to end: a real server, agents and engines. A secret set through the CLI reaches the
 * container's environment on its host (read back with `docker inspect`), a new value recreates
 * the container with it, and neither value appears in the data dir's SQLite file or WAL, in any
 * CLI output the test captured (ps, diff, events, secret ls, each also as -o json), nor in what
 * the server and the agents logged during the whole run.
 */
import assert from "node:assert/strict";
import { type CliResult, Cluster, SLEEPER } from "./cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { TEST_IMAGE } from "./engines.ts";

const VALUE = "e2e-first-value-7f3a9c";
const NEW_VALUE = "e2e-second-value-b81d04";

/** Manifest `shop`: `api` on host-a, with the secret when `withSecret`; `db` on host-b. */
function shop(withSecret: boolean): string {
  const secret = withSecret ? ", DB_PASSWORD: { secret: db-password }" : "";
  return `name: shop
containers:
  - name: api
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
    environment: { MODE: prod${secret} }
  - name: db
    host: host-b
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
    environment: { MODE: prod }
`;
}

Deno.test("a secret reaches only its container, is rotated, and is never shown", async (t) => {
  const cluster = await Cluster.start(["host-a", "host-b"]);
  const outputs: CliResult[] = [];
  /** Runs a CLI command, keeping its output for the final search; fails on a non-zero exit. */
  const cli = async (args: string[], opts: { stdin?: string; code?: number } = {}) => {
    const result = await cluster.cli(args, { stdin: opts.stdin });
    outputs.push(result);
    assert.equal(result.code, opts.code ?? 0, `${args.join(" ")}: ${result.stderr}`);
    return result;
  };
  const file = cluster.writeManifest("shop", shop(false));
  const envOf = async (host: string, name: string) => {
    const inspect = await cluster.inspect(host, name);
    return inspect === undefined ? undefined : { id: inspect.Id, env: inspect.Config.Env };
  };
  try {
    await cluster.step(t, "a manifest naming a missing secret is refused at the door", async () => {
      Deno.writeTextFileSync(file, shop(true));
      const up = await cli(["manifest", "up", "-f", file], { code: 1 });
      assert.match(
        up.stderr,
        /containers\[0\]\.environment\.DB_PASSWORD\.secret \(line 7, column \d+\): secret db-password does not exist/,
      );
      assert.equal((await cluster.client().manifests()).length, 0, "nothing stored");
    });

    await cluster.step(t, "secret set reads the value from standard input", async () => {
      const set = await cli(["secret", "set", "db-password"], { stdin: `${VALUE}\n` });
      assert.equal(set.stdout.trim(), "secret db-password created");
      const empty = await cli(["secret", "set", "other"], { stdin: "\n", code: 2 });
      assert.match(empty.stderr, /no value for secret other on standard input/);
    });

    await cluster.step(
      t,
      "the container on its host gets the value in its environment",
      async () => {
        Deno.writeTextFileSync(file, shop(false));
        await cli(["manifest", "up", "-f", file, "--wait", "--timeout", "60s"]);
        Deno.writeTextFileSync(file, shop(true));
        const diff = await cli(["manifest", "diff", "-f", file], { code: 3 });
        assert.match(diff.stdout, /environment\.DB_PASSWORD: \(none\) -> \(secret db-password\)/);
        await cli(["manifest", "diff", "-f", file, "-o", "json"], { code: 3 });
        await cli(["manifest", "up", "-f", file, "--wait", "--timeout", "60s"]);
        const api = await pollUntil("api to run with the secret", async () => {
          const seen = await envOf("host-a", "shop_api");
          return seen?.env.includes(`DB_PASSWORD=${VALUE}`) ? seen : undefined;
        }, { timeoutMs: 60_000 });
        assert.ok(api.env.includes("MODE=prod"));
        const db = await envOf("host-b", "shop_db");
        assert.ok(db && !db.env.some((v) => v.startsWith("DB_PASSWORD=")));
        await cluster.waitForStates("shop", { api: "running", db: "running" });
      },
    );

    await cluster.step(t, "readers see the reference, never the value", async () => {
      await cli(["manifest", "ps", "-f", file]);
      const json = await cli(["manifest", "ps", "-f", file, "-o", "json"]);
      assert.match(json.stdout, /"DB_PASSWORD": \{\s*"secret": "db-password"\s*\}/);
      const diff = await cli(["manifest", "diff", "-f", file]);
      assert.match(diff.stdout, /no changes/);
      await cli(["manifest", "ls"]);
      await cli(["manifest", "history", "shop"]);
      const ls = await cli(["secret", "ls"]);
      assert.match(ls.stdout, /^db-password\s+.*\s+shop$/m);
      await cli(["secret", "ls", "-o", "json"]);
      const events = await cli(["events"]);
      assert.match(events.stdout, /secret\s+secret db-password\s+set\s+by token/);
      await cli(["events", "-o", "json"]);
    });

    await cluster.step(t, "a new value recreates the container with it", async () => {
      const before = await envOf("host-a", "shop_api");
      const set = await cli(["secret", "set", "db-password"], { stdin: NEW_VALUE });
      assert.equal(
        set.stdout.trim(),
        "secret db-password updated; recreating 1 container: shop/api",
      );
      const after = await pollUntil("api to run with the new value", async () => {
        const seen = await envOf("host-a", "shop_api");
        return seen?.env.includes(`DB_PASSWORD=${NEW_VALUE}`) ? seen : undefined;
      }, { timeoutMs: 60_000 });
      assert.notEqual(after.id, before?.id, "a new container");
      await cluster.waitForStates("shop", { api: "running", db: "running" });
      const same = await cli(["secret", "set", "db-password"], { stdin: `${NEW_VALUE}\n` });
      assert.equal(same.stdout.trim(), "secret db-password unchanged (same value)");
      assert.equal((await envOf("host-a", "shop_api"))?.id, after.id, "the same value: kept");
      const diff = await cli(["manifest", "diff", "-f", file]);
      assert.match(diff.stdout, /no changes/);
      await cli(["manifest", "ps", "-f", file, "-o", "json"]);
      await cli(["events", "-o", "json"]);
    });

    await cluster.step(t, "a secret in use is not removed; unused, it is", async () => {
      const refused = await cli(["secret", "rm", "db-password"], { code: 1 });
      assert.match(refused.stderr, /secret db-password is used by manifest shop/);
      await cli(["manifest", "down", "-f", file, "--wait", "--timeout", "60s"]);
      const removed = await cli(["secret", "rm", "db-password"]);
      assert.equal(removed.stdout.trim(), "secret db-password removed");
    });

    await cluster.step(t, "no value in the data dir, any CLI output or any log", async () => {
      const files = [
        `${cluster.workDir}/data/launcher.db`,
        `${cluster.workDir}/data/launcher.db-wal`,
      ];
      let stored = "";
      for (const path of files) {
        stored += new TextDecoder("latin1").decode(await Deno.readFile(path));
      }
      assert.ok(stored.includes("db-password"), "the files hold the secret's name");
      const printed = outputs.map((o) => `${o.stdout}\n${o.stderr}`).join("\n");
      const logs = cluster.logs();
      assert.ok(logs.includes("launcher server listening"), "the server's log is read");
      for (const value of [VALUE, NEW_VALUE]) {
        assert.ok(!stored.includes(value), "not in the SQLite file or its WAL");
        assert.ok(!printed.includes(value), "not in any CLI output");
        assert.ok(!logs.includes(value), "not in the server's or an agent's log");
      }
    });
  } finally {
    await cluster.stop();
  }
});
