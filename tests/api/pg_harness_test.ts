/**
 * The PostgreSQL test harness (tests/pg_cluster.ts) with the chosen driver, node-postgres: a
 * throwaway cluster starts, answers a parameterised query, delivers a NOTIFY, comes back after a
 * restart and after a crash, and leaves nothing behind. Without PostgreSQL installed this fails
 * rather than skips: CI installs it (.ci/run).
 */
import assert from "node:assert/strict";
import pg from "pg";
import { startPostgres } from "../pg_cluster.ts";

/** A connected client whose connection errors are kept (unheard, they would end the process). */
async function connect(url: string): Promise<{ client: pg.Client; errors: Error[] }> {
  const client = new pg.Client({ connectionString: url });
  const errors: Error[] = [];
  client.on("error", (error) => errors.push(error));
  await client.connect();
  return { client, errors };
}

async function answers(url: string): Promise<number> {
  const { client } = await connect(url);
  try {
    const { rows } = await client.query<{ one: number }>("SELECT 1 AS one");
    return rows[0].one;
  } finally {
    await client.end();
  }
}

/** Resolves with the next notification's payload; rejects after `ms`. */
function nextNotification(client: pg.Client, ms: number): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new Promise<string | undefined>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no notification within ${ms} ms`)), ms);
    client.once("notification", (message) => resolve(message.payload));
  }).finally(() => clearTimeout(timer));
}

Deno.test("a throwaway PostgreSQL cluster answers, notifies, restarts, recovers and goes away", async (t) => {
  const cluster = await startPostgres();
  try {
    await t.step("a parameterised query on a fresh database", async () => {
      const url = await cluster.createDatabase();
      assert.match(url, /^postgres:\/\/postgres:[0-9a-f]+@127\.0\.0\.1:\d+\/t_[0-9a-f]{16}$/);
      const { client } = await connect(url);
      try {
        const { rows } = await client.query<{ sum: number; db: string }>(
          "SELECT $1::int + 1 AS sum, current_database() AS db",
          [41],
        );
        assert.deepEqual(rows, [{ sum: 42, db: new URL(url).pathname.slice(1) }]);
      } finally {
        await client.end();
      }
    });

    await t.step("LISTEN on one connection hears NOTIFY from another", async () => {
      const listener = await connect(cluster.url);
      const sender = await connect(cluster.url);
      try {
        await listener.client.query("LISTEN launcher_test");
        const heard = nextNotification(listener.client, 10_000);
        await sender.client.query("SELECT pg_notify('launcher_test', $1)", ["hello"]);
        assert.equal(await heard, "hello");
      } finally {
        await Promise.all([listener.client.end(), sender.client.end()]);
      }
    });

    await t.step("restart() ends connections and the server answers again", async () => {
      const { client, errors } = await connect(cluster.url);
      try {
        await cluster.restart();
        await assert.rejects(client.query("SELECT 1"));
        assert.ok(errors.length > 0, "the client was told its connection ended");
      } finally {
        await client.end().catch(() => {});
      }
      assert.equal(await answers(cluster.url), 1);
    });

    await t.step("kill() refuses connections until restart() recovers the server", async () => {
      const { client } = await connect(cluster.url);
      try {
        await cluster.kill();
        await assert.rejects(client.query("SELECT 1"));
      } finally {
        await client.end().catch(() => {});
      }
      await assert.rejects(answers(cluster.url), { code: "ECONNREFUSED" });
      await cluster.restart();
      assert.equal(await answers(cluster.url), 1);
      assert.equal(
        await cluster.psql("SELECT datname FROM pg_database WHERE datname = 'launcher'"),
        "launcher\n",
      );
    });
  } finally {
    await cluster.stop();
  }
  await assert.rejects(Deno.stat(cluster.socketDir), Deno.errors.NotFound);
  await assert.rejects(answers(cluster.url), { code: "ECONNREFUSED" });
});
