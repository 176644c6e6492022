/**
 * The duty lease on a real PostgreSQL (tests/pg_cluster.ts): of two servers on one database
 * exactly one holds it and `holder()` names it on both; when the holder's connection is
 * terminated, or the holder closes, the other takes over within about two seconds (the time is
 * printed); after a restart or a crash of PostgreSQL exactly one holds it again; servers on
 * another database do not compete.
 */
import assert from "node:assert/strict";
import { openCluster } from "../../src/server/cluster.ts";
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

/** Runs `fn` with two leases on a fresh database, and closes both after. */
async function withPair(pg: PgCluster, fn: (p: Pair) => Promise<void>): Promise<void> {
  const p = pair(await pg.createDatabase(), ["ctl-1:8080", "ctl-2:8080"]);
  try {
    await fn(p);
  } finally {
    await p.close();
  }
}

/** The one lease of the pair that holds, once exactly one does. */
async function oneHolder(p: Pair, what = "exactly one lease held"): Promise<PgDutyLease> {
  return await pollUntil(what, () => {
    const holders = [p.a, p.b].filter((l) => l.holding());
    return holders.length === 1 ? holders[0] : undefined;
  });
}

/**
 * Ends the holder's lease with `end`, and waits (5 s at most) until the other one holds it: the
 * first holder, the other, and how long the other took, in ms.
 */
async function takeOver(p: Pair, end: (holder: PgDutyLease) => Promise<void>) {
  const first = await oneHolder(p);
  const other = first === p.a ? p.b : p.a;
  const start = performance.now();
  await end(first);
  await pollUntil("the other holds the lease", () => other.holding(), {
    timeoutMs: 5000,
    everyMs: 10,
  });
  return { first, other, ms: performance.now() - start };
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
    await t.step(
      "exactly one of two holds it, and holder() names it on both",
      () =>
        withPair(pg, async (p) => {
          const holder = await oneHolder(p);
          const named = await Promise.all([p.a.holder(), p.b.holder()]);
          assert.equal(named[0]?.server, holder.server);
          assert.deepEqual(named[1], named[0]);
          const age = Date.now() - Date.parse(named[0]!.since);
          assert.ok(age >= -1000 && age < 60_000, `since ${named[0]!.since}`);
        }),
    );

    await t.step(
      "the holder's session terminated: the other holds within about 2 s",
      () =>
        withPair(pg, async (p) => {
          let stopped = 0;
          const { first, other, ms } = await takeOver(p, async (holder) => {
            const start = performance.now();
            await terminateSession(pg, holder.server);
            await pollUntil("the holder knows it lost the lease", () => !holder.holding());
            stopped = performance.now() - start;
          });
          assert.equal(first.holding(), false);
          assert.equal((await other.holder())?.server, other.server);
          await pollUntil("the first one connected again", () => first.holder().then(() => true));
          assert.equal((await first.holder())?.server, other.server);
          const times = `old holder stopped after ${stopped.toFixed(0)} ms, ` +
            `new holder after ${ms.toFixed(0)} ms`;
          console.log(`lease after pg_terminate_backend: ${times}`);
          assert.ok(p.log.some((line) => /lost the duty lease/.test(line)), p.log.join("\n"));
        }),
    );

    await t.step(
      "the holder closes: the other holds within about 2 s",
      () =>
        withPair(pg, async (p) => {
          const { other, ms } = await takeOver(p, async (holder) => {
            await holder.close();
            assert.equal(holder.holding(), false, "given up at once");
          });
          console.log(`lease after the holder closed: new holder after ${ms.toFixed(0)} ms`);
          assert.equal((await other.holder())?.server, other.server);
        }),
    );

    await t.step(
      "after a restart and after a crash of PostgreSQL, exactly one holds it",
      () =>
        withPair(pg, async (p) => {
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
        }),
    );

    await t.step(
      "openCluster picks the PostgreSQL wake-ups and lease for a postgres URL",
      async () => {
        const cluster = await openCluster(await pg.createDatabase(), { server: "ctl-3:8080" });
        try {
          assert.equal(cluster.wakeups.kind, "postgres");
          assert.equal(cluster.lease.shared, true);
          await pollUntil(
            "listening and holding",
            () => cluster.wakeups.listening() && cluster.lease.holding(),
          );
          assert.equal((await cluster.lease.holder())?.server, "ctl-3:8080");
        } finally {
          await cluster.close();
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
