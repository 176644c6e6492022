import assert from "node:assert/strict";
import { parseNanoseconds, parseStopTimeout } from "../../src/manifest/durations.ts";
import { engineHealthcheck, healthTest } from "../../src/manifest/healthcheck.ts";
import { ValueError } from "../../src/manifest/value_error.ts";

Deno.test("healthTest turns a string into CMD-SHELL and a list into CMD", () => {
  assert.deepEqual(healthTest("wget -q localhost || exit 1"), [
    "CMD-SHELL",
    "wget -q localhost || exit 1",
  ]);
  assert.deepEqual(healthTest(["wget", "-q", "localhost"]), ["CMD", "wget", "-q", "localhost"]);
  assert.deepEqual(healthTest(["CMD", "true"]), ["CMD", "true"]);
  assert.deepEqual(healthTest(["CMD-SHELL", "exit 0"]), ["CMD-SHELL", "exit 0"]);
  assert.deepEqual(healthTest(["NONE"]), ["NONE"]);
});

Deno.test("healthTest rejects tests the engine could not run", () => {
  const rejects = (test: string | string[], message: string) =>
    assert.throws(() => healthTest(test), (error) => {
      assert.ok(error instanceof ValueError);
      assert.equal(error.message, message);
      return true;
    });
  rejects(" ", "is empty: expected a shell command");
  rejects([], "is an empty list: expected a command");
  rejects([""], "names an empty program");
  rejects(["NONE", "x"], "starts with NONE, which takes nothing after it");
  rejects(["CMD"], "starts with CMD but names no program after it");
  rejects(["CMD", ""], "starts with CMD but names no program after it");
  rejects(["CMD-SHELL"], "starts with CMD-SHELL, which takes exactly one shell command after it");
  rejects(
    ["CMD-SHELL", "a", "b"],
    "starts with CMD-SHELL, which takes exactly one shell command after it",
  );
});

Deno.test("engineHealthcheck gives durations in nanoseconds and leaves unset ones out", () => {
  assert.deepEqual(
    engineHealthcheck({
      test: "exit 0",
      interval: "10s",
      timeout: "500ms",
      retries: 0,
      start_period: "1m30s",
    }),
    {
      Test: ["CMD-SHELL", "exit 0"],
      Interval: 10e9,
      Timeout: 500e6,
      Retries: 0,
      StartPeriod: 90e9,
    },
  );
  assert.deepEqual(engineHealthcheck({ test: ["true"] }), { Test: ["CMD", "true"] });
});

Deno.test("parseNanoseconds reads Go-style durations of at least 1ms", () => {
  assert.equal(parseNanoseconds("1ms"), 1e6);
  assert.equal(parseNanoseconds("1.5s"), 1.5e9);
  assert.equal(parseNanoseconds("2m"), 120e9);
  assert.equal(parseNanoseconds("1h30m"), 5400e9);
  assert.equal(parseNanoseconds("1m30s250ms"), 90.25e9);
  for (const text of ["", "10", "s", "1d", "1 s", "-1s", "1S", ".5s", "1.s"]) {
    assert.throws(() => parseNanoseconds(text), (error) => {
      assert.ok(error instanceof ValueError);
      assert.ok(error.message.startsWith(`has malformed value ${JSON.stringify(text)}`), text);
      return true;
    });
  }
  assert.throws(() => parseNanoseconds("0s"), /below the engine's minimum of 1ms/);
  assert.throws(() => parseNanoseconds("0.5ms"), /below the engine's minimum of 1ms/);
  assert.throws(() => parseNanoseconds("99999999h"), /the duration is too long/);
});

Deno.test("parseStopTimeout takes seconds or a duration of whole seconds", () => {
  assert.equal(parseStopTimeout(0), 0);
  assert.equal(parseStopTimeout(30), 30);
  assert.equal(parseStopTimeout("45"), 45);
  assert.equal(parseStopTimeout("30s"), 30);
  assert.equal(parseStopTimeout("2m"), 120);
  assert.equal(parseStopTimeout("1m30s"), 90);
  assert.equal(parseStopTimeout("1500ms500ms"), 2);
  assert.throws(() => parseStopTimeout(-1), /expected a whole number of seconds, 0 or more/);
  assert.throws(() => parseStopTimeout(1.5), /expected a whole number of seconds, 0 or more/);
  assert.throws(() => parseStopTimeout("1.1s"), /the engine takes whole seconds/);
  assert.throws(() => parseStopTimeout("500ms"), /the engine takes whole seconds/);
  assert.throws(() => parseStopTimeout("soon"), /expected a number of seconds or a duration/);
  assert.throws(() => parseStopTimeout(""), /expected a number of seconds or a duration/);
});
