/**
 * What the PostgreSQL store does beyond the contract: its migrations and their versions, two
 * servers opening one new database at once, byte order whatever the database's collation, a
 * password kept out of every message, and a database that goes away and comes back.
 */
import assert from "node:assert/strict";
import { StoreUnavailableError } from "../../src/api/errors.ts";
import { MIGRATIONS } from "../../src/server/store/schema.ts";
import { PG_MIGRATIONS } from "../../src/server/store/postgres_schema.ts";
import {
  openStore,
  type Store,
  StoreOpenError,
  StoreTooNewError,
} from "../../src/server/store/store.ts";
import { freePort } from "../processes.ts";
import { type PgCluster, startPostgres } from "../pg_cluster.ts";
import { containerRow } from "./contract.ts";

const T0 = "2025-01-01T00:00:00.000Z";

/** The database a URL names. */
function databaseOf(url: string): string {
  return new URL(url).pathname.slice(1);
}

/** A store on a fresh database, closed after `fn`. */
async function withStore(cluster: PgCluster, fn: (store: Store, url: string) => Promise<void>) {
  const url = await cluster.createDatabase();
  const store = await openStore(url);
  try {
    await fn(store, url);
  } finally {
    await store.close();
  }
}

/** A manifest with one container row. */
async function addContainer(db: Store, manifest: string, name: string): Promise<void> {
  await db.upsertManifest(manifest, "{}", T0);
  await db.insertContainer(containerRow(manifest, name));
}

Deno.test("postgres: the store beside its contract", async (t) => {
  const cluster = await startPostgres();
  const step = async (name: string, fn: () => Promise<void>) => {
    if (!await t.step(name, fn)) throw new Error(`step failed: ${name}`);
  };
  try {
    await step("its migrations have SQLite's versions and names", () => {
      const named = (list: { version: number; name: string }[]) =>
        list.map(({ version, name }) => ({ version, name }));
      assert.deepEqual(named(PG_MIGRATIONS), named(MIGRATIONS));
      return Promise.resolve();
    });

    await step(
      "a new database is migrated once and recorded; reopening reads it only",
      async () => {
        const url = await cluster.createDatabase();
        const first = await openStore(url);
        const cluster1 = first.clusterId();
        await first.close();
        assert.deepEqual(first.migrated, { from: 0, to: MIGRATIONS.length, created: true });
        const again = await openStore(url);
        await again.close();
        assert.deepEqual(again.migrated, {
          from: MIGRATIONS.length,
          to: MIGRATIONS.length,
          created: false,
        });
        assert.equal(again.clusterId(), cluster1, "the installation's id is kept");
        assert.equal(
          await cluster.psql(
            "SELECT version || ' ' || name FROM schema_version ORDER BY version",
            databaseOf(url),
          ),
          MIGRATIONS.map(({ version, name }) => `${version} ${name}\n`).join(""),
        );
      },
    );

    await step("two servers opening one new database at once migrate it once", async () => {
      const url = await cluster.createDatabase();
      const stores = await Promise.all([openStore(url), openStore(url), openStore(url)]);
      await Promise.all(stores.map((store) => store.close()));
      assert.equal(stores.filter((store) => store.migrated.created).length, 1);
      assert.equal(new Set(stores.map((store) => store.clusterId())).size, 1);
    });

    await step(
      "a database of a newer launcher is refused, its URL shown without the password",
      async () => {
        const url = await cluster.createDatabase();
        await (await openStore(url)).close();
        await cluster.psql(
          "INSERT INTO schema_version VALUES (99, 'future', '2030-01-01T00:00:00.000Z')",
          databaseOf(url),
        );
        await assert.rejects(openStore(url), (error) => {
          assert.ok(error instanceof StoreTooNewError, String(error));
          assert.ok(!error.message.includes(cluster.password), error.message);
          assert.match(
            error.message,
            /^the store at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\//,
          );
          assert.ok(
            error.message.includes(
              `schema version 99; this launcher knows up to ${MIGRATIONS.length}`,
            ),
            error.message,
          );
          return true;
        });
      },
    );

    await step("the location and every open error leave the password out", async () => {
      await withStore(cluster, (store, url) => {
        assert.equal(store.location, url.replace(`:${cluster.password}@`, ":***@"));
        return Promise.resolve();
      });
      const wrong = cluster.url.replace(cluster.password, "not-the-password");
      await assert.rejects(openStore(wrong), (error) => {
        assert.ok(error instanceof StoreOpenError, String(error));
        assert.ok(!error.message.includes("not-the-password"), error.message);
        assert.match(error.message, /password authentication failed/);
        return true;
      });
      const nobody = `postgres://postgres:${cluster.password}@127.0.0.1:${freePort()}/launcher`;
      await assert.rejects(openStore(nobody), (error) => {
        assert.ok(error instanceof StoreOpenError, String(error));
        assert.ok(!error.message.includes(cluster.password), error.message);
        assert.match(error.message, /: the database is unreachable: .*ECONNREFUSED/);
        return true;
      });
    });

    await step("lists sort by byte whatever the database's collation", async () => {
      const name = `icu_${Date.now()}`;
      await cluster.psql(
        `CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C'`,
      );
      const store = await openStore(cluster.url.replace(/\/launcher$/, `/${name}`));
      try {
        const names = ["ab", "a.9", "B", "a-b", "a.10", "a"];
        await store.transaction(async (tx) => {
          for (const n of names) await addContainer(tx, "m", n);
        });
        assert.deepEqual((await store.allContainers()).map((c) => c.name), [...names].sort());
      } finally {
        await store.close();
      }
    });

    await step(
      "a database that is killed fails statements and transactions with 503, and none is half written",
      async () => {
        await withStore(cluster, async (store) => {
          await addContainer(store, "shop", "web");
          let wrote!: () => void;
          const written = new Promise<void>((resolve) => wrote = resolve);
          const cut = store.transaction(async (tx) => {
            await addContainer(tx, "shop", "db");
            await tx.bumpHostIndex("host-a");
            wrote();
            await new Promise((resolve) => setTimeout(resolve, 200));
            await tx.bumpHostIndex("host-b");
          });
          await written;
          await cluster.kill();
          await assert.rejects(cut, StoreUnavailableError);
          await assert.rejects(store.allContainers(), (error) => {
            assert.ok(error instanceof StoreUnavailableError, String(error));
            assert.equal(error.status, 503);
            assert.match(error.message, /^the store is unreachable: .+; try again$/);
            assert.ok(!error.message.includes(cluster.password));
            return true;
          });
          await assert.rejects(
            store.transaction((tx) => tx.bumpHostIndex("x")),
            StoreUnavailableError,
          );
          await assert.rejects(store.touchHostInfo("host-a", T0), StoreUnavailableError);
          await cluster.restart();
          assert.deepEqual(
            (await store.allContainers()).map((c) => c.name),
            ["web"],
            "nothing of it",
          );
          assert.equal(await store.hostIndex("host-a"), 0);
          assert.equal(await store.bumpHostIndex("host-a"), 1, "the pool works again by itself");
        });
      },
    );

    await step(
      "a restarted database ends the pool's idle connections; the next request works",
      async () => {
        await withStore(cluster, async (store) => {
          // Several connections in the pool, idle when the server restarts.
          await Promise.all(
            Array.from({ length: 4 }, () =>
              store.transaction(async (tx) => {
                await tx.hostIndex("host-a");
                await new Promise((resolve) => setTimeout(resolve, 20));
              })),
          );
          await cluster.restart();
          assert.equal(await store.bumpHostIndex("host-a"), 1);
          await store.transaction(async (tx) => assert.equal(await tx.hostIndex("host-a"), 1));
          assert.equal(await store.hostIndex("host-a"), 1);
        });
      },
    );
  } finally {
    await cluster.stop();
  }
});
