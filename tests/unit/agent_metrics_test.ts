/** The figures an agent sends with its reports: failed engine calls and its last reconcile time. */
import assert from "node:assert/strict";
import { DockerError } from "../../src/docker/errors.ts";
import { want, withAgent } from "./fakes/agent_bed.ts";

Deno.test("failed engine calls are counted and ride along with the report they caused", async () => {
  await withAgent(async ({ engine, api, until }) => {
    engine.hook = (op) => {
      if (op === "start") throw new DockerError("engine_error", "no such device");
    };
    // The engine lacks the image: create answers not_found, which the agent acts on (it pulls),
    // and which is no failure of the engine.
    const config = { name: "web", host: "host-a", image: "launcher-test:2" };
    api.set([want("web", { config })]);
    await until("failed", () => api.last("web")?.state === "failed");
    assert.equal(engine.count("create"), 2, "created after the pull");
    assert.equal(api.metrics.at(-1)?.engineErrors, 1, "the failed start, sent with its failure");
  });
});

Deno.test("changed figures go out on their own at most every 30 s, the first time at once", async () => {
  await withAgent(async ({ api, clock, until }) => {
    api.set([want("web")]);
    await until("running", () => api.last("web")?.state === "running");
    await until("a reconcile time", () => (api.metrics.at(-1)?.reconcileSeconds ?? 0) > 0);
    const alone = () => api.metrics.length - api.batches.length;
    const before = alone();
    // The first full check's new time goes out at once, alone: no report is due.
    await clock.pass(5000);
    await until("figures alone", () => alone() === before + 1);
    // 11 more full checks in 55 s, each a new time: one more send alone, 30 s after the first.
    for (let i = 0; i < 11; i++) await clock.pass(5000);
    await until("the next figures alone", () => alone() === before + 2);
    assert.equal(alone(), before + 2);
  });
});

Deno.test("a server older than the figures gets plain lists of reports, said once", async () => {
  await withAgent(async ({ api, logs, until }) => {
    api.older = true;
    api.set([want("web"), want("db")]);
    await until(
      "both running",
      () => api.last("web")?.state === "running" && api.last("db")?.state === "running",
    );
    assert.deepEqual(api.metrics, []);
    assert.equal(logs.filter((l) => l.includes("does not take this agent's figures")).length, 1);
  });
});
