import assert from "node:assert/strict";
import { healthNanoseconds, stopTimeoutSeconds } from "../../src/manifest/durations.ts";
import { healthTest } from "../../src/manifest/healthcheck.ts";
import { parseSpec } from "../../src/manifest/spec.ts";
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

Deno.test("a normalized health check has durations in nanoseconds and no unset ones", () => {
  const normalized = (healthcheck: unknown) =>
    parseSpec({ name: "web", host: "h", image: "i", healthcheck }).normalized.healthcheck;
  assert.deepEqual(
    normalized({
      test: "exit 0",
      interval: "10s",
      timeout: "500ms",
      retries: 0,
      start_period: "1m30s",
    }),
    {
      test: ["CMD-SHELL", "exit 0"],
      interval: 10e9,
      timeout: 500e6,
      retries: 0,
      startPeriod: 90e9,
    },
  );
  assert.deepEqual(normalized({ test: ["true"] }), { test: ["CMD", "true"] });
});

Deno.test("healthNanoseconds reads the one duration grammar, at least 1ms", () => {
  assert.equal(healthNanoseconds("1ms"), 1e6);
  assert.equal(healthNanoseconds("1.5s"), 1.5e9);
  assert.equal(healthNanoseconds("2m"), 120e9);
  assert.equal(healthNanoseconds("1h30m"), 5400e9);
  assert.equal(healthNanoseconds("1m30s250ms"), 90.25e9);
  assert.equal(healthNanoseconds("1.5ms"), 1.5e6);
  assert.equal(healthNanoseconds("1d"), 86_400e9);
  assert.equal(healthNanoseconds("10"), 10e9);
  assert.equal(healthNanoseconds(10), 10e9);
  for (const text of ["", "s", "1 s", "-1s", "1S", ".5s", "1.s", "1x", "1m-1s"]) {
    assert.throws(() => healthNanoseconds(text), (error) => {
      assert.ok(error instanceof ValueError);
      assert.equal(
        error.message,
        `${JSON.stringify(text)} is not a duration such as 500ms, 30s, 1m30s, 2h or 7d`,
      );
      return true;
    });
  }
  assert.throws(() => healthNanoseconds("0s"), /below the engine's minimum of 1ms/);
  assert.throws(() => healthNanoseconds("0.5ms"), /below the engine's minimum of 1ms/);
  assert.throws(() => healthNanoseconds(0), /below the engine's minimum of 1ms/);
  assert.throws(() => healthNanoseconds("99999999h"), /the duration is too long/);
});

Deno.test("stopTimeoutSeconds takes seconds or a duration of whole seconds", () => {
  assert.equal(stopTimeoutSeconds(0), 0);
  assert.equal(stopTimeoutSeconds(30), 30);
  assert.equal(stopTimeoutSeconds("45"), 45);
  assert.equal(stopTimeoutSeconds("30s"), 30);
  assert.equal(stopTimeoutSeconds("2m"), 120);
  assert.equal(stopTimeoutSeconds("1m30s"), 90);
  assert.equal(stopTimeoutSeconds("1500ms500ms"), 2);
  assert.equal(stopTimeoutSeconds("1d"), 86_400);
  assert.throws(() => stopTimeoutSeconds(-1), /expected a whole number of seconds, 0 or more/);
  assert.throws(() => stopTimeoutSeconds(1.5), /expected a whole number of seconds, 0 or more/);
  assert.throws(() => stopTimeoutSeconds("1.1s"), /the engine takes whole seconds/);
  assert.throws(() => stopTimeoutSeconds("1.5"), /the engine takes whole seconds/);
  assert.throws(() => stopTimeoutSeconds("500ms"), /the engine takes whole seconds/);
  assert.throws(() => stopTimeoutSeconds("soon"), /"soon" is not a duration such as/);
  assert.throws(() => stopTimeoutSeconds(""), /"" is not a duration such as/);
});
