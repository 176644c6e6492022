import assert from "node:assert/strict";
import { run } from "../../src/cli/main.ts";
import { DurationError, durationNanoseconds, parseDuration } from "../../src/duration.ts";
import { parseManifest } from "../../src/manifest/parse.ts";

Deno.test("parseDuration reads Go-style compound durations and plain seconds", () => {
  // --interval took only one unit: 1m30s was refused while a health check took it.
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("2h45m"), 9_900_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("7d"), 7 * 86_400_000);
  assert.equal(parseDuration("1d12h"), 36 * 3_600_000);
  assert.equal(parseDuration("30"), 30_000);
  assert.equal(parseDuration("0.25"), 250);
  assert.equal(parseDuration(" 5s "), 5000);
  assert.equal(parseDuration("0"), 0);
  assert.equal(durationNanoseconds("1.5ms"), 1.5e6);
});

Deno.test("every duration error has one shape", () => {
  for (const text of ["1x", "", "s", "-1s", "1 s", "1S", ".5s", "1.s", "1m-30s", "soon", "1e3s"]) {
    assert.throws(() => parseDuration(text), (error) => {
      assert.ok(error instanceof DurationError, text);
      assert.equal(error.code, "invalid_duration");
      assert.equal(
        error.message,
        `${JSON.stringify(text)} is not a duration such as 500ms, 30s, 1m30s, 2h or 7d`,
      );
      return true;
    });
  }
});

Deno.test("a flag and a health check take the same durations, in both directions", () => {
  const interval = (value: string) =>
    parseManifest(
      `name: a\ncontainers:\n  - {name: w, host: h, image: i, healthcheck: {test: x, interval: ${value}}}\n`,
      "yaml",
    ).containers[0].normalized.healthcheck?.interval;
  // --events-retention took 7d while a health check refused it; --interval refused 1m30s.
  for (const value of ["7d", "1m30s", "2h45m", "30", "500ms"]) {
    assert.equal(interval(value), parseDuration(value) * 1e6, value);
  }
});

Deno.test("the CLI refuses a bad --interval as a usage error naming the grammar", async () => {
  const errors: string[] = [];
  const original = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    const code = await run(["agent", "--master", "http://127.0.0.1:9", "--interval", "1x"]);
    assert.equal(code, 2);
  } finally {
    console.error = original;
  }
  assert.deepEqual(errors, [
    'error: "1x" is not a duration such as 500ms, 30s, 1m30s, 2h or 7d',
  ]);
});
