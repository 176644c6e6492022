/** Where `launcher serve` keeps its store: `--store`, `LAUNCHER_STORE` or `--data-dir`. */
import assert from "node:assert/strict";
import { storeLocation } from "../../src/cli/serve.ts";
import { UsageError } from "../../src/cli/errors.ts";

const URL = "postgres://launcher:secret@db.internal/launcher";
const sources = (store?: string, dataDir = "default") => (option: "store" | "dataDir") =>
  option === "store" ? store : dataDir;

Deno.test("the data dir without --store, and --store or LAUNCHER_STORE when given", () => {
  assert.equal(storeLocation({ dataDir: "./launcher-data" }, sources()), "./launcher-data");
  assert.equal(storeLocation({ dataDir: "./d", store: URL }, sources("cli")), URL);
  assert.equal(storeLocation({ dataDir: "./d", store: URL }, sources("env")), URL);
  assert.equal(storeLocation({ dataDir: "./d", store: "" }, sources("env")), "./d");
});

Deno.test("--data-dir on the command line wins over LAUNCHER_STORE; both flags are refused", () => {
  assert.equal(
    storeLocation({ dataDir: "/var/lib/l", store: URL }, sources("env", "cli")),
    "/var/lib/l",
  );
  assert.throws(
    () => storeLocation({ dataDir: "/var/lib/l", store: URL }, sources("cli", "cli")),
    (error) => error instanceof UsageError && /--store or --data-dir, not both/.test(error.message),
  );
});
