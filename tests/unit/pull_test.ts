import assert from "node:assert/strict";
import { ensureImage, ImageAbsentError, type ImageEngine } from "../../src/agent/pull.ts";
import type { PullPolicy } from "../../src/manifest/schema.ts";

/** An engine that holds `images` and records what it was asked. */
function fakeEngine(images: string[]): ImageEngine & { calls: string[] } {
  const held = new Set(images);
  const calls: string[] = [];
  return {
    calls,
    imageExists: (ref: string) => {
      calls.push(`exists ${ref}`);
      return Promise.resolve(held.has(ref));
    },
    pullImage: (ref: string) => {
      calls.push(`pull ${ref}`);
      held.add(ref);
      return Promise.resolve();
    },
  };
}

async function run(policy: PullPolicy | undefined, images: string[]) {
  const engine = fakeEngine(images);
  let announced = 0;
  await ensureImage(engine, "app:1", policy, "host-a", () => announced++);
  return { calls: engine.calls, announced };
}

Deno.test("ensureImage pulls only a missing image by default and with pull: missing", async () => {
  for (const policy of [undefined, "missing"] as const) {
    assert.deepEqual(await run(policy, ["app:1"]), { calls: ["exists app:1"], announced: 0 });
    assert.deepEqual(await run(policy, []), {
      calls: ["exists app:1", "pull app:1"],
      announced: 1,
    });
  }
});

Deno.test("ensureImage pulls every time with pull: always", async () => {
  assert.deepEqual(await run("always", ["app:1"]), { calls: ["pull app:1"], announced: 1 });
  assert.deepEqual(await run("always", []), { calls: ["pull app:1"], announced: 1 });
});

Deno.test("ensureImage never pulls with pull: never, and says so when the image is absent", async () => {
  assert.deepEqual(await run("never", ["app:1"]), { calls: ["exists app:1"], announced: 0 });
  const engine = fakeEngine([]);
  await assert.rejects(
    ensureImage(engine, "app:1", "never", "host-a", () => assert.fail("announced a pull")),
    (error) => {
      assert.ok(error instanceof ImageAbsentError);
      assert.equal(error.code, "image_absent");
      assert.equal(
        error.message,
        "image app:1 is not on host host-a and the spec says pull: never; load it on the host " +
          "or change the pull policy",
      );
      return true;
    },
  );
  assert.deepEqual(engine.calls, ["exists app:1"]);
});
