import assert from "node:assert/strict";
import { age, psTable, stateText, table } from "../../src/cli/output.ts";
import { progressOf } from "../../src/cli/wait.ts";
import { parseDuration } from "../../src/duration.ts";
import { status } from "./fixtures.ts";

Deno.test("tables pad every column but the last", () => {
  assert.equal(table(["A", "BB"], [["xyz", "1"], ["w", "22"]]), "A     BB\nxyz   1\nw     22");
});

Deno.test("age uses the largest whole unit", () => {
  const now = Date.parse("2026-01-02T00:00:00Z");
  assert.equal(age("2026-01-01T23:59:30Z", now), "30s");
  assert.equal(age("2026-01-01T23:00:00Z", now), "1h");
  assert.equal(age("2025-12-30T00:00:00Z", now), "3d");
});

Deno.test("ps shows exit codes and health beside the state", () => {
  assert.equal(stateText(status({ state: "exited", exitCode: 137 })), "exited (137)");
  assert.equal(stateText(status({ state: "running", health: "healthy" })), "running (healthy)");
  assert.equal(stateText(status({ state: "completed", exitCode: 0 })), "completed");
  assert.equal(stateText(status({ state: "failed", exitCode: 4 })), "failed (exit 4)");
  assert.equal(stateText(status({ state: "failed", error: "no such image" })), "failed");
});

Deno.test("ps shows ports as the spec wrote them", () => {
  const config = { name: "web", host: "host-a", image: "i", ports: ["8080:80", "53/udp"] };
  assert.match(psTable([status({ config })]), /8080:80,53\/udp/);
  assert.match(psTable([status({ config: { ...config, ports: "80" } })]), /i\s+-\s+running/);
});

Deno.test("ps adds an error column only when a container has an error", () => {
  assert.ok(!psTable([status()]).includes("ERROR"));
  const failed = psTable([status({ state: "failed", error: "no such image" })]);
  assert.match(failed, /ERROR/);
  assert.match(failed, /no such image/);
});

Deno.test("--wait counts a container done only when it reached what is desired", () => {
  assert.equal(progressOf(status({ state: "pending" })), "pending");
  assert.equal(progressOf(status({ state: "running" })), "done");
  assert.equal(progressOf(status({ state: "running", health: "starting" })), "pending");
  assert.equal(progressOf(status({ state: "running", health: "unhealthy" })), "failed");
  assert.equal(progressOf(status({ state: "failed", error: "x" })), "failed");
  assert.equal(progressOf(status({ state: "completed", exitCode: 0 })), "done");
  assert.equal(progressOf(status({ state: "failed", exitCode: 4, error: "x" })), "failed");
  assert.equal(progressOf(status({ state: "exited", exitCode: 0 })), "pending");
  assert.equal(progressOf(status({ desired: "stopped", state: "exited" })), "done");
  assert.equal(progressOf(status({ desired: "removed", state: "running" })), "pending");
  assert.equal(progressOf(status({ desired: "removed", state: "failed", error: "x" })), "pending");
});

Deno.test("durations accept units and plain seconds", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("5"), 5000);
  assert.throws(() => parseDuration("soon"), /not a duration/);
});
