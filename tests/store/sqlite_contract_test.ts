/** The store contract on the embedded SQLite store, each test on a fresh data dir. */
import { openStore } from "../../src/server/store/store.ts";
import { storeContract } from "./contract.ts";

storeContract("sqlite", async (options) => {
  const dir = await Deno.makeTempDir({ prefix: "launcher-store-test-" });
  const store = await openStore(dir, options);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
