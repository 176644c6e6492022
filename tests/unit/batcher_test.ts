import assert from "node:assert/strict";
import { Batcher } from "../../src/server/batcher.ts";

Deno.test("batcher: calls made in one turn are read together, each answered its own", async () => {
  const batches: string[][] = [];
  const batcher = new Batcher<string, string>((keys) => {
    batches.push(keys);
    return Promise.resolve(new Map(keys.map((k) => [k, k.toUpperCase()])));
  });
  const answers = await Promise.all(["a", "b", "a", "c"].map((k) => batcher.get(k)));
  assert.deepEqual(answers, ["A", "B", "A", "C"]);
  assert.deepEqual(batches, [["a", "b", "c"]]);
});

Deno.test("batcher: calls made while batches are in flight wait for the next one", async () => {
  const batches: string[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const batcher = new Batcher<string, number>(async (keys) => {
    batches.push(keys);
    if (batches.length === 1) await gate;
    return new Map(keys.map((k) => [k, batches.length]));
  }, { maxInFlight: 1 });
  const first = batcher.get("a");
  await new Promise((resolve) => setTimeout(resolve, 5));
  const later = [batcher.get("a"), batcher.get("b")];
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(batches, [["a"]], "nothing more while the first is in flight");
  release();
  assert.equal(await first, 1);
  assert.deepEqual(await Promise.all(later), [2, 2], "the later calls read after the first batch");
  assert.deepEqual(batches, [["a"], ["a", "b"]]);
});

Deno.test("batcher: batches are at most maxBatch keys; a failed read fails its callers", async () => {
  const batches: string[][] = [];
  const batcher = new Batcher<string, string>((keys) => {
    batches.push(keys);
    if (keys.includes("bad")) return Promise.reject(new Error("boom"));
    return Promise.resolve(new Map(keys.map((k) => [k, k])));
  }, { maxBatch: 2 });
  const results = await Promise.allSettled(["a", "b", "bad", "c"].map((k) => batcher.get(k)));
  assert.deepEqual(batches, [["a", "b"], ["bad", "c"]]);
  assert.deepEqual(results.map((r) => r.status), [
    "fulfilled",
    "fulfilled",
    "rejected",
    "rejected",
  ]);
});
