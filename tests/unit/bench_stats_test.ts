import assert from "node:assert/strict";
import { median, percentile } from "../../bench/stats.ts";

Deno.test("the median of an even count is the mean of the two middle values", () => {
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("percentiles interpolate linearly between the closest ranks", () => {
  assert.equal(percentile([10, 20], 25), 12.5);
  assert.equal(percentile([1, 2, 3, 4, 5], 99), 4.96);
  assert.equal(percentile([1, 2, 3, 4, 5], 0), 1);
  assert.equal(percentile([1, 2, 3, 4, 5], 100), 5);
});

Deno.test("a run that never finished keeps a percentile it weighs in at Infinity", () => {
  assert.equal(percentile([1, Infinity], 50), Infinity);
  assert.equal(percentile([1, Infinity, Infinity], 90), Infinity);
  assert.equal(percentile([1, 2, Infinity], 0), 1);
});
