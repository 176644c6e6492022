/**
 * A PostgreSQL store that cannot be reached: requests answer 503 `store_unavailable` and change
 * nothing, held long-polls stay held (they wait without the store), and once the database is back
 * the same request works, on the pool's new connections.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import { HostDesiredSchema } from "../../src/api/schemas.ts";
import { pollUntil } from "../poll_until.ts";
import { startPostgres } from "../pg_cluster.ts";
import { assertError, openHarness, SHOP_YAML } from "./harness.ts";

const UNREACHABLE = /^the store is unreachable: .+; try again$/;

Deno.test("postgres: an unreachable store answers 503, keeps held polls, and works again once back", async () => {
  const cluster = await startPostgres();
  try {
    const h = await openHarness({ location: await cluster.createDatabase() });
    try {
      await h.up(SHOP_YAML);
      const index = await h.planner.hostIndex("host-a");
      const held = h.call("GET", `/container?host=host-a&index=${index}&wait=5m`);
      await pollUntil("the agent's poll to be held", () => h.planner.heldWaiters === 1);
      const before = await h.ps();

      await cluster.kill();
      const changed = SHOP_YAML.replace("nginx:1.27", "nginx:1.28");
      const refused = await h.call("POST", "/manifest/up", changed, {
        "content-type": "application/x-yaml",
      });
      const body = await assertError(refused, 503, "store_unavailable", UNREACHABLE);
      assert.ok(!body.error.message.includes(cluster.password), body.error.message);
      await assertError(await h.call("POST", "/manifest/ps", {}), 503, "store_unavailable");
      assert.equal(h.planner.heldWaiters, 1, "the held poll is still held");

      await cluster.restart();
      assert.deepEqual(await h.ps(), before, "nothing of the refused up was kept");
      assert.equal(await h.planner.hostIndex("host-a"), index);
      assert.deepEqual((await h.up(changed)).updated, ["web"], "the same up works now");
      const answer = await held;
      assert.equal(answer.status, 200);
      const desired = v.parse(HostDesiredSchema, await answer.json());
      assert.ok(desired.index > index, "the held poll is answered with the change");
      assert.equal(desired.containers[0].config.image, "nginx:1.28");
    } finally {
      await h.close();
    }
  } finally {
    await cluster.stop();
  }
});
