/**
 * The duty lease on a real PostgreSQL (tests/pg_cluster.ts): of two servers on one database
 * exactly one holds it and `holder()` names it on both; when the holder's connection is
 * terminated, or the holder closes, the other takes over within about two seconds (the time is
 * printed); after a restart or a crash of PostgreSQL exactly one holds it again; servers on
 * another database do not compete.
 */
import assert from "node:assert/strict";
import { PgDutyLease } from "../../src/server/pg_duty_lease.ts";
import { type PgCluster, startPostgres } from "../pg_cluster.ts";
import { pollUntil } from "../poll_until.ts";

/** Two leases on one database, with their logs. */
interface Pair {
  a: PgDutyLease;
  b: PgDutyLease;
  log: string[];
  close(): Promise<void>;
}

function pair(url: string, names: [string, string]): Pair {
  const log: string[] = [];
  const open = (server: string) =>
    new PgDutyLease({ url, server, log: (line) => log.push(`${server}: ${line}`) });
  const a = open(names[0]);
  const b = open(names[1]);
  return { a, b, log, close: () => Promise.all([a.close(), b.close()]).then(() => {}) };
}

/** The one lease of the pair that holds, once exactly one does. */
async function oneHolder(p: Pair, what = "exactly one lease held"): Promise<PgDutyLease> {
  return await pollUntil(what, () => {
    const holders = [p.a, p.b].filter((l) => l.holding());
    return holders.length === 1 ? holders[0] : undefined;
  });
}

/** Terminates the holder's lease session (as an operator or a failover would). */
async function terminateSession(pg: PgCluster, server: string): Promise<void> {
  const out = await pg.psql(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity " +
      `WHERE application_name LIKE 'launcher duties % ${server}'`,
  );
  assert.equal(out.trim(), "1");
}

Deno.test("the duty lease: one holder, named, and another takes over when it goes", async (t) => {
  const pg = await startPostgres();
  try {
    await t.step("exactly one of two holds it, and holder() names it on both", async () => {
      const p = pair(await pg.createDatabase(), ["ctl-1:8080", "ctl-2:8080"]);
      try {
        const holder = await oneHolder(p);
        const named = await Promise.all([p.a.holder(), p.b.holder()]);
        assert.equal(named[0]?.server, holder.server);
        assert.deepEqual(named[1], named[0]);
        const age = Date.now() - Date.parse(named[0]!.since);
        assert.ok(age >= -1000 && age < 60_000, `since ${named[0]!.since}`);
      } finally {
        await p.close();
      }
    });

    await t.step("the holder's session terminated: the other holds within about 2 s", async () => {
      const p = pair(await pg.createDatabase(), ["ctl-1:8080", "ctl-2:8080"]);
      try {
        const first = await oneHolder(p);
        const other = first === p.a ? p.b : p.a;
        const start = performance.now();
        await terminateSession(pg, first.server);
        await pollUntil("the holder knows it lost the lease", () => !first.holding());
        const stopped = performance.now() - start;
        await pollUntil("the other holds the lease", () => other.holding(), {
          timeoutMs: 5000,
          everyMs: 10,
        });
        const took = performance.now() - start;
        assert.equal(first.holding(), false);
        assert.equal((await other.holder())?.server, other.server);
        await pollUntil("the first one connected again", () => first.holder().then(() => true));
        assert.equal((await first.holder())?.server, other.server);
        console.log(
          `lease after pg_terminate_backend: old holder stopped after ${stopped.toFixed(0)} ms, ` +
            `new holder after ${took.toFixed(0)} ms`,
        );
        assert.ok(p.log.some((line) => /lost the duty lease/.test(line)), p.log.join("\n"));
      } finally {
        await p.close();
      }
    });

    await t.step("the holder closes: the other holds within about 2 s", async () => {
      const p = pair(await pg.createDatabase(), ["ctl-1:8080", "ctl-2:8080"]);
      try {
        const first = await oneHolder(p);
        const other = first === p.a ? p.b : p.a;
        const start = performance.now();
        await first.close();
        assert.equal(first.holding(), false);
        await pollUntil("the other holds the lease", () => other.holding(), {
          timeoutMs: 5000,
          everyMs: 10,
        });
        console.log(
          `lease after the holder closed: new holder after ${
            (performance.now() - start).toFixed(0)
          } ms`,
        );
        assert.equal((await other.holder())?.server, other.server);
      } finally {
        await p.close();
      }
    });

    await t.step(
      "after a restart and after a crash of PostgreSQL, exactly one holds it",
      async () => {
        const p = pair(await pg.createDatabase(), ["ctl-1:8080", "ctl-2:8080"]);
        try {
          await oneHolder(p);
          await pg.restart();
          let most = 0;
          await pollUntil("the lease lost with the connections, then held by one", () => {
            const held = [p.a, p.b].filter((l) => l.holding()).length;
            most = Math.max(most, held);
            return p.log.some((line) => /lost the duty lease/.test(line)) && held === 1;
          }, { everyMs: 10 });
          assert.equal(most, 1, "never two holders");
          await pg.kill();
          await pollUntil(
            "nobody holds it while PostgreSQL is down",
            () => !p.a.holding() && !p.b.holding(),
          );
          await pg.restart();
          const holder = await oneHolder(p, "exactly one lease held after recovery");
          assert.equal((await holder.holder())?.server, holder.server);
        } finally {
          await p.close();
        }
      },
    );

    await t.step("servers of another database do not compete", async () => {
      const one = new PgDutyLease({ url: await pg.createDatabase(), server: "one:1" });
      const two = new PgDutyLease({ url: await pg.createDatabase(), server: "two:1" });
      try {
        await pollUntil("both hold their own", () => one.holding() && two.holding());
        assert.equal((await one.holder())?.server, "one:1");
        assert.equal((await two.holder())?.server, "two:1");
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });
  } finally {
    await pg.stop();
  }
});
