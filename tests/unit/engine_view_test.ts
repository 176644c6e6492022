import assert from "node:assert/strict";
import { EngineView, LIST_LAG_MS, parseStatus } from "../../src/agent/engine_view.ts";
import type { ContainerEvent, ContainerSummary } from "../../src/docker/engine.ts";

const labels = { "launcher.manifest": "shop", "launcher.container": "web" };

function listed(id: string, state: string, status = state): ContainerSummary {
  return { id, names: ["shop_web"], image: "i", state, status, labels, created: 0 };
}

function event(action: string, extra: Partial<ContainerEvent> = {}): ContainerEvent {
  return { action, id: "c1", name: "shop_web", labels, time: 0, ...extra };
}

Deno.test("a list that lags the engine's own events does not undo them", () => {
  let now = 1000;
  const view = new EngineView(() => now);
  view.created("c1", "shop_web", labels);
  view.apply(event("start"));
  // The engine lists a container as created a moment after saying it started.
  view.replace([listed("c1", "created", "Created")], view.version);
  assert.equal(view.get("c1")?.state, "running");
  // Past the lag, the list is what the engine holds: a die the agent never heard of shows.
  now += LIST_LAG_MS;
  view.replace([listed("c1", "exited", "Exited (3) 1 second ago")], view.version);
  assert.equal(view.get("c1")?.state, "exited");
  assert.equal(view.get("c1")?.exitCode, 3);
});

Deno.test("what changed while a list was under way is newer than the list", () => {
  let now = 1000;
  const view = new EngineView(() => now);
  view.apply(event("create"));
  now += LIST_LAG_MS;
  const since = view.version;
  view.apply(event("die", { exitCode: 137 }));
  view.replace([listed("c1", "running", "Up 2 seconds")], since);
  assert.equal(view.get("c1")?.state, "exited");
});

Deno.test("a removed container stays removed, whatever comes late", () => {
  let now = 1000;
  const view = new EngineView(() => now);
  view.apply(event("create"));
  view.removed("c1");
  assert.equal(view.apply(event("die", { exitCode: 137 })), undefined);
  view.replace([listed("c1", "exited")], 0);
  assert.equal(view.get("c1"), undefined);
  // One the engine no longer lists, and that nothing said anything of lately, is gone.
  view.apply(event("create", { id: "c2" }));
  now += LIST_LAG_MS;
  const gone = view.replace([], view.version);
  assert.deepEqual(gone.map((s) => s.id), ["c2"]);
});

Deno.test("the engine's words give exit codes and health without an inspect", () => {
  assert.deepEqual(parseStatus("Exited (137) 5 seconds ago"), { exitCode: 137 });
  assert.deepEqual(parseStatus("Up 2 minutes (healthy)"), { health: "healthy" });
  assert.deepEqual(parseStatus("Up 1 second (health: starting)"), { health: "starting" });
  assert.deepEqual(parseStatus("Created"), {});
});

Deno.test("a die event leaves open whether the engine restarts it; a list or a start settles it", () => {
  let now = 1000;
  const view = new EngineView(() => now);
  view.apply(event("create"));
  view.apply(event("start"));
  view.apply(event("die", { exitCode: 3 }));
  assert.equal(view.get("c1")?.mayRestart, true);
  // The engine restarts it under its policy: the start says so.
  view.apply(event("start"));
  assert.equal(view.get("c1")?.mayRestart, undefined);
  view.apply(event("die", { exitCode: 3 }));
  now += LIST_LAG_MS;
  // The engine gave up: its list says exited, and that is news.
  const changed = view.replace([listed("c1", "exited", "Exited (3) 2 seconds ago")], view.version);
  assert.deepEqual(changed.map((s) => s.id), ["c1"]);
  assert.equal(view.get("c1")?.mayRestart, undefined);
  assert.equal(view.get("c1")?.exitCode, 3);
});
