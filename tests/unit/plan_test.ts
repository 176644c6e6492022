import assert from "node:assert/strict";
import { orphans, planContainer } from "../../src/agent/plan.ts";
import { status } from "./fixtures.ts";

const running = { id: "c1", state: "running", specHash: "h1" };
const exited = { id: "c1", state: "exited", specHash: "h1" };

Deno.test("a missing container is created and started", () => {
  assert.deepEqual(planContainer(status(), [], undefined), [{ op: "create", start: true }]);
});

Deno.test("a missing container desired stopped is created but not started", () => {
  assert.deepEqual(planContainer(status({ desired: "stopped" }), [], 1), [
    { op: "create", start: false },
  ]);
});

Deno.test("a running container with the same spec is left alone", () => {
  assert.deepEqual(planContainer(status(), [running], 1), []);
});

Deno.test("an agent restart adopts a running container without restarting it", () => {
  const d = status({ generation: 4, restartGeneration: 4 });
  assert.deepEqual(planContainer(d, [running], undefined), []);
});

Deno.test("a changed spec stops the old container gracefully, then recreates it", () => {
  assert.deepEqual(planContainer(status({ specHash: "h2" }), [running], 1), [
    { op: "stop", id: "c1" },
    { op: "remove", id: "c1" },
    { op: "create", start: true },
  ]);
  assert.deepEqual(planContainer(status({ specHash: "h2" }), [exited], 1), [
    { op: "remove", id: "c1" },
    { op: "create", start: true },
  ]);
});

Deno.test("desired stopped stops a running container, and only a running one", () => {
  const d = status({ desired: "stopped", generation: 2 });
  assert.deepEqual(planContainer(d, [running], 1), [{ op: "stop", id: "c1" }]);
  assert.deepEqual(planContainer(d, [exited], 2), []);
});

Deno.test("desired killed kills a running container", () => {
  const d = status({ desired: "killed", generation: 2 });
  assert.deepEqual(planContainer(d, [running], 1), [{ op: "kill", id: "c1" }]);
});

Deno.test("a restart request restarts once", () => {
  const d = status({ generation: 3, restartGeneration: 3 });
  assert.deepEqual(planContainer(d, [running], 2), [{ op: "restart", id: "c1" }]);
  assert.deepEqual(planContainer(d, [running], 3), []);
});

Deno.test("a container that exited by itself is not started again without a new intent", () => {
  assert.deepEqual(planContainer(status(), [exited], 1), []);
  assert.deepEqual(planContainer(status({ generation: 2 }), [exited], 1), [
    { op: "start", id: "c1" },
  ]);
});

Deno.test("a created container that never ran is started", () => {
  const created = { id: "c1", state: "created", specHash: "h1" };
  assert.deepEqual(planContainer(status(), [created], undefined), [{ op: "start", id: "c1" }]);
});

Deno.test("desired removed stops a running container before removing it, and any leftovers", () => {
  const d = status({ desired: "removed" });
  const old = { id: "c0", state: "exited", specHash: "h0" };
  assert.deepEqual(planContainer(d, [running, old], 1), [
    { op: "remove", id: "c0" },
    { op: "stop", id: "c1" },
    { op: "remove", id: "c1" },
  ]);
  assert.deepEqual(planContainer(d, [], 1), []);
});

Deno.test("container rm (force) removes a running container at once", () => {
  const d = status({ desired: "removed", force: true });
  assert.deepEqual(planContainer(d, [running], 1), [{ op: "remove", id: "c1" }]);
});

Deno.test("containers nothing desires are orphans, stopped gracefully and removed", () => {
  const observed = new Map([["shop/web", [running]], ["old/db", [exited]], ["old/api", [running]]]);
  assert.deepEqual(orphans(new Set(["shop/web"]), observed), [
    { key: "old/db", steps: [{ op: "remove", id: "c1" }] },
    { key: "old/api", steps: [{ op: "stop", id: "c1" }, { op: "remove", id: "c1" }] },
  ]);
});
