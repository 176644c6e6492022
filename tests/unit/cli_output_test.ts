import assert from "node:assert/strict";
import { eventLine } from "../../src/cli/events.ts";
import {
  historyTable,
  manifestsTable,
  planText,
  rollbackText,
  rolloutLine,
  upText,
} from "../../src/cli/manifest_output.ts";
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

Deno.test("up names the revision it stored; a rollback names both revisions", () => {
  const result = {
    manifest: "shop",
    created: [],
    updated: ["web"],
    unchanged: ["db"],
    removed: [],
  };
  assert.equal(upText(result), "shop: updated web; unchanged db");
  assert.equal(
    upText({ ...result, revision: 4 }),
    "shop: updated web; unchanged db\nshop: stored as revision 4",
  );
  assert.equal(
    rollbackText({ ...result, revision: 4, to: 2 }),
    "shop: updated web; unchanged db\nshop: rolled back to revision 2 as revision 4",
  );
});

Deno.test("history lists revisions newest first and marks the current one", () => {
  const at = "2026-01-02T00:00:00.000Z";
  const text = historyTable({
    manifest: "shop",
    revisions: [
      { number: 2, actor: "token 3f2a1b9c04de (admin)", at, current: true },
      { number: 1, actor: "admin", at, current: false },
    ],
  });
  assert.equal(
    text,
    [
      "REVISION      WHEN                       WHO",
      `2 (current)   ${at}   token 3f2a1b9c04de (admin)`,
      `1             ${at}   admin`,
    ].join("\n"),
  );
});

Deno.test("a placed container waiting for a host shows no host, and its reason", () => {
  const waiting = status({
    config: { name: "web.4", image: "i" },
    host: "",
    error: "no host fits: 3 have port 8080/tcp taken",
  });
  assert.match(psTable([waiting]), /web\.4\s+-\s+i/);
  assert.match(psTable([waiting]), /no host fits: 3 have port 8080\/tcp taken/);
  const plan = planText({
    manifest: "shop",
    changed: true,
    containers: [
      { name: "web.1", host: "h1", action: "create", changes: [] },
      {
        name: "web.2",
        host: "",
        action: "create",
        changes: [],
        pending: "no host fits: 1 offline",
      },
    ],
  });
  assert.match(plan, /\+ create\s+web\.1 on h1/);
  assert.match(plan, /\+ create\s+web\.2 waiting for a host \(no host fits: 1 offline\)/);
});

Deno.test("ls and ps show a rollout in progress, and why one failed", () => {
  const rollout = {
    status: "running" as const,
    batch: 2,
    batches: 3,
    containers: 3,
    done: 1,
    startedAt: new Date().toISOString(),
  };
  const summary = {
    name: "shop",
    containers: 3,
    states: { running: 3 },
    rollout,
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };
  assert.match(manifestsTable([summary]), /ROLLOUT/);
  assert.match(manifestsTable([summary]), /batch 2\/3/);
  assert.match(manifestsTable([{ ...summary, rollout: undefined }]), /\s-\s+0s/);
  assert.equal(rolloutLine("shop", rollout), "shop: rollout batch 2/3, 1 of 3 replaced");
  const failed = { ...rollout, status: "rolled-back" as const, error: "web.2 is failed: x" };
  assert.equal(
    rolloutLine("shop", failed),
    "shop: rollout rolled-back, 1 of 3 replaced: web.2 is failed: x",
  );
  const up = upText({
    manifest: "shop",
    created: [],
    updated: ["web.1", "web.2"],
    unchanged: [],
    removed: [],
    revision: 2,
    rollout: true,
  });
  assert.match(up, /shop: rolling out web\.1, web\.2 in batches/);
});

Deno.test("events show where the scheduler moved a container and how far a rollout came", () => {
  const base = { id: 1, time: "2026-01-01T00:00:00.000Z", actor: "scheduler", manifest: "shop" };
  assert.equal(
    eventLine({ ...base, kind: "rollout", action: "batch", to: "batch 1 of 3: web.1" }),
    "2026-01-01T00:00:00.000Z  rollout  shop  batch: batch 1 of 3: web.1  by scheduler",
  );
  assert.match(
    eventLine({
      ...base,
      kind: "rollout",
      action: "failed",
      container: "web.1",
      error: "batch 1 of 3 missed its deadline of 10s: web.1 is failed: no such image",
    }),
    /shop\/web\.1 {2}failed: batch 1 of 3 missed its deadline of 10s: web\.1 is failed: no such image {2}by/,
  );
  assert.match(
    eventLine({
      ...base,
      kind: "action",
      action: "reschedule",
      container: "web.1",
      host: "host-d",
      from: "host-a",
      to: "host-d",
    }),
    /shop\/web\.1 on host-d {2}reschedule: host-a -> host-d {2}by scheduler$/,
  );
  assert.match(
    eventLine({ ...base, kind: "action", action: "stop", container: "web" }),
    /shop\/web {2}stop {2}by scheduler$/,
  );
});
