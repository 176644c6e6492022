/**
 * The store contract on PostgreSQL, the cases of two servers on one database included: one
 * throwaway cluster for the file, a fresh database for each case.
 */
import { openStore, type Store } from "../../src/server/store/store.ts";
import { startPostgres } from "../pg_cluster.ts";
import { storeContractSteps } from "./contract.ts";

Deno.test("postgres: the store contract", async (t) => {
  const cluster = await startPostgres();
  try {
    await storeContractSteps(t, async (options) => {
      const url = await cluster.createDatabase();
      const stores: Store[] = [await openStore(url, options)];
      return {
        store: stores[0],
        openAnother: async () => {
          stores.push(await openStore(url));
          return stores[stores.length - 1];
        },
        cleanup: async () => {
          for (const store of stores) await store.close();
        },
      };
    });
  } finally {
    await cluster.stop();
  }
});
