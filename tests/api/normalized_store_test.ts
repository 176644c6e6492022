import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { openHarness, sqliteDataDir } from "./harness.ts";

const FIELDS_YAML = `name: shop
containers:
  - name: web
    host: host-a
    image: nginx:1.27
    cmd: nginx -g 'daemon off;'
    ports: ["8080:80", "127.0.0.1:5353:53/udp"]
    environment: { MODE: prod, WORKERS: 4 }
    options: ["--restart=always", "-m", "256m"]
    healthcheck: { test: exit 0, interval: 1m30s }
    stop_timeout: 30s
`;

Deno.test("ps carries the normalized spec beside the spec as written", async () => {
  const h = await openHarness();
  try {
    await h.up(FIELDS_YAML);
    const [web] = await h.ps();
    assert.equal(web.config.cmd, "nginx -g 'daemon off;'");
    assert.deepEqual(web.normalized.cmd, ["nginx", "-g", "daemon off;"]);
    assert.deepEqual(web.normalized.runOptions, {
      restart: { name: "always" },
      memory: 256 * 1024 ** 2,
    });
    assert.equal(web.normalized.healthcheck?.interval, 90e9);
    assert.equal(web.normalized.stopTimeout, 30);
  } finally {
    await h.close();
  }
});

Deno.test("a data dir from before gets the normalized column, filled from the stored specs", async () => {
  // A SQLite file of an older release, also when the other tests run on PostgreSQL.
  const first = await openHarness({ dataDir: await sqliteDataDir() });
  const dataDir = first.dataDir;
  let second: Awaited<ReturnType<typeof openHarness>> | undefined;
  try {
    await first.up(FIELDS_YAML);
    const before = await first.ps();
    await first.close(true);

    // As an older version left it: no column, no schema version, and a spec whose image the door
    // now refuses.
    const db = new DatabaseSync(join(dataDir, "launcher.db"));
    db.exec("ALTER TABLE containers DROP COLUMN normalized");
    db.exec("DROP TABLE schema_version");
    const old = { name: "old", host: "host-a", image: "Old Image", cmd: "sleep 60" };
    db.prepare(
      "INSERT INTO containers (manifest, name, host, spec, spec_hash, desired, state, " +
        "generation, restart_generation, created_at, updated_at) VALUES ('shop', 'old', " +
        "'host-a', $spec, 'h-old', 'running', 'running', 1, 0, 'then', 'then')",
    ).run({ spec: JSON.stringify(old) });
    db.close();

    second = await openHarness({ dataDir, token: first.token });
    const after = await second.ps();
    assert.deepEqual(after.find((c) => c.config.name === "web"), before[0]);
    const stored = after.find((c) => c.config.name === "old");
    assert.equal(stored?.normalized.image, "Old Image", "the engine judges it, as it did");
    assert.deepEqual(stored?.normalized.cmd, ["sleep", "60"]);
    assert.equal(stored?.specHash, "h-old");

    // Filled once: the same manifest again changes nothing.
    const again = await second.up(FIELDS_YAML);
    assert.deepEqual(again.unchanged, ["web"]);
  } finally {
    if (second) await second.close();
    else await first.close();
  }
});
