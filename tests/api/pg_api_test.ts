/**
 * API tests that reach the store, run again on PostgreSQL: every harness of these files opens a
 * fresh database of one throwaway cluster, which the last test removes.
 */
import assert from "node:assert/strict";
import { isPostgresUrl } from "../../src/server/store/store.ts";
import { openHarness, stopTestStore, useTestStore } from "./harness.ts";

useTestStore("postgres");

Deno.test("postgres: the harness opens its stores on PostgreSQL", async () => {
  const h = await openHarness();
  try {
    assert.ok(isPostgresUrl(h.location), h.location);
    assert.throws(() => h.dataDir, /PostgreSQL/);
  } finally {
    await h.close();
  }
});

await import("./persistence_test.ts");
await import("./manifest_test.ts");
await import("./placement_test.ts");
await import("./revisions_test.ts");
await import("./scoped_tokens_test.ts");
await import("./secrets_test.ts");
await import("./ui_sessions_test.ts");

Deno.test("postgres: the API tests' cluster is removed", () => stopTestStore());
