/**
 * The agent over an in-memory engine and server: convergence, reports, failures, adoption,
 * orphans, bounds and deadlines, with time moved by hand.
 */
import assert from "node:assert/strict";
import { DockerError } from "../../src/docker/errors.ts";
import { UnreachableError } from "../../src/client/errors.ts";
import { ownLabels, want, withAgent } from "./fakes/agent_bed.ts";
import type { Call } from "./fakes/fake_engine.ts";

const USEFUL = new Set(["create", "start", "stop", "kill", "restart", "remove"]);

Deno.test("a list of 50 converges with at most 1.3 engine calls per useful one", async () => {
  await withAgent(async ({ engine, api, until }) => {
    await until("the agent to start", () => engine.count("events") === 1);
    const before = engine.calls.length;
    api.set(Array.from({ length: 50 }, (_, i) => want(`c${i}`)));
    await until(
      "50 running and reported",
      () =>
        [...engine.containers.values()].filter((c) => c.state === "running").length === 50 &&
        Array.from({ length: 50 }, (_, i) => api.last(`c${i}`)?.state).every((s) =>
          s === "running"
        ),
    );
    const calls = engine.calls.slice(before);
    const useful = calls.filter((c) => USEFUL.has(c.op)).length;
    assert.equal(useful, 100);
    assert.ok(calls.length <= 1.3 * useful, `${calls.length} calls for ${useful} useful`);
    assert.equal(engine.count("inspect"), 0);
  });
});

Deno.test("a restarted agent adopts what runs: same ids, no engine changes", async () => {
  const ids: string[] = [];
  await withAgent(async ({ engine, api, until }) => {
    api.set([
      want("web", { generation: 4, restartGeneration: 4 }),
      want("db", { desired: "stopped", generation: 2 }),
    ]);
    await until("both reported", () => api.last("web") !== undefined && !!api.last("db"));
    assert.deepEqual(engine.calls.filter((c) => USEFUL.has(c.op)), []);
    assert.equal(api.last("web")?.state, "running");
    assert.equal(api.last("web")?.containerId, ids[0]);
    assert.equal(api.last("db")?.state, "exited");
    assert.equal(api.last("db")?.exitCode, 143);
  }, {
    prepare: (engine) => {
      ids.push(engine.put({ name: "shop_web", labels: ownLabels("web"), state: "running" }));
      ids.push(
        engine.put({ name: "shop_db", labels: ownLabels("db"), state: "exited", exitCode: 143 }),
      );
    },
  });
});

Deno.test("an older state never lands after a newer one, however slow a report is", async () => {
  await withAgent(async ({ engine, api, until }) => {
    let releaseStart!: () => void;
    const startHeld = new Promise<void>((resolve) => releaseStart = resolve);
    let releaseReport!: () => void;
    const reportHeld = new Promise<void>((resolve) => releaseReport = resolve);
    let inFlight = false;
    engine.hook = (op) => op === "start" ? startHeld : undefined;
    api.reportHook = (reports) => {
      if (!reports.some((r) => r.state === "created")) return;
      inFlight = true;
      return reportHeld;
    };
    api.set([want("web")]);
    await until("the created report in flight", () => inFlight);
    releaseStart();
    await until("the container running", () => engine.byName("shop_web")?.state === "running");
    releaseReport();
    await until("the running report", () => api.last("web")?.state === "running");
    const states = api.reports.filter((r) => r.name === "web").map((r) => r.state);
    assert.deepEqual(states, ["created", "running"]);
  });
});

Deno.test("a die event is reported with its exit code and no inspect", async () => {
  await withAgent(async ({ engine, api, until }) => {
    api.set([want("web")]);
    await until("running", () => api.last("web")?.state === "running");
    engine.crash(engine.byName("shop_web")!.id, 3);
    // No restart policy (Docker's no): the exit is final.
    await until("failed", () => api.last("web")?.state === "failed");
    assert.equal(api.last("web")?.exitCode, 3);
    assert.equal(api.last("web")?.error, "exited with code 3");
    assert.equal(engine.count("inspect"), 0);
    // A crash is left visible: nobody asked for a start.
    assert.equal(engine.count("start"), 1);
  });
});

Deno.test("a container that ran to completion is completed and never started again", async () => {
  await withAgent(async ({ engine, api, clock, until }) => {
    const job = { name: "job", host: "host-a", image: "launcher-test:1", restart: "no" };
    api.set([want("job", { config: job }), want("bad", { config: { ...job, name: "bad" } })]);
    await until(
      "both running",
      () => api.last("job")?.state === "running" && api.last("bad")?.state === "running",
    );
    engine.crash(engine.byName("shop_job")!.id, 0);
    engine.crash(engine.byName("shop_bad")!.id, 4);
    await until(
      "completed and failed",
      () => api.last("job")?.state === "completed" && api.last("bad")?.state === "failed",
    );
    assert.equal(api.last("job")?.exitCode, 0);
    assert.equal(api.last("job")?.error, undefined);
    assert.equal(api.last("bad")?.exitCode, 4);
    // Periodic checks (one list each) and a new desired list of the same intents start nothing.
    const lists = engine.count("list");
    await clock.pass(5000);
    await until("a periodic check", () => engine.count("list") === lists + 1);
    await clock.pass(5000);
    await until("another periodic check", () => engine.count("list") === lists + 2);
    api.set([want("job", { config: job }), want("bad", { config: { ...job, name: "bad" } })]);
    await clock.pass(5000);
    await until("a third periodic check", () => engine.count("list") === lists + 3);
    assert.equal(engine.count("start"), 2);
    assert.equal(engine.byName("shop_job")?.state, "exited");
    assert.equal(api.last("job")?.state, "completed");
    assert.equal(api.last("bad")?.state, "failed");
    // A new intent (`container restart` bumps the generation) runs it again.
    api.set([want("job", { config: job, generation: 2, restartGeneration: 2 })]);
    await until("running again", () => api.last("job")?.state === "running");
  });
});

Deno.test("an on-failure container is failed only once the engine's list shows it gave up", async () => {
  await withAgent(async ({ engine, api, clock, until }) => {
    const config = {
      name: "web",
      host: "host-a",
      image: "launcher-test:1",
      options: ["--restart=on-failure:2"],
    };
    api.set([want("web", { config })]);
    await until("running", () => api.last("web")?.state === "running");
    const id = engine.byName("shop_web")!.id;
    // A die event does not say whether the engine restarts it: exited, as the engine's word.
    engine.crash(id, 3);
    await until("exited", () => api.last("web")?.state === "exited");
    // The engine's list says it is restarting.
    engine.containers.get(id)!.state = "restarting";
    await clock.pass(5000);
    await until("restarting", () => api.last("web")?.state === "restarting");
    // The engine's list says it gave up.
    engine.containers.get(id)!.state = "exited";
    await clock.pass(5000);
    await until("failed", () => api.last("web")?.state === "failed");
    assert.equal(api.last("web")?.exitCode, 3);
    assert.equal(engine.count("start"), 1);
  });
});

Deno.test("a failed step is retried after its backoff, at once on a new intent, logged once", async () => {
  await withAgent(async ({ engine, api, clock, logs, until }) => {
    let failing = true;
    engine.hook = (op) => {
      if (op === "start" && failing) throw new DockerError("engine_error", "no such device");
    };
    api.set([want("web")]);
    await until("failed", () => api.last("web")?.state === "failed");
    assert.equal(api.last("web")?.error, "no such device");
    assert.equal(engine.count("start"), 1);
    await clock.pass(100);
    assert.equal(engine.count("start"), 1, "no retry before the backoff");
    // The first backoff is 0.5 s to 1 s (jittered), the second at least 1 s.
    await clock.pass(1000);
    await until("a retry", () => engine.count("start") === 2);
    api.set([want("web", { generation: 2 })]);
    await until("a retry on the new intent", () => engine.count("start") === 3);
    failing = false;
    await clock.pass(120_000);
    await until("running", () => api.last("web")?.state === "running");
    assert.equal(api.last("web")?.error, undefined);
    assert.equal(logs.filter((l) => l.includes("start failed: no such device")).length, 1);
    assert.equal(logs.filter((l) => l.includes("shop/web: recovered")).length, 1);
  });
});

Deno.test("orphans are stopped and removed; other hosts' and installations' are left alone", async () => {
  await withAgent(async ({ engine, api, logs, until }) => {
    api.set([]);
    await until(
      "the orphans gone",
      () => engine.byName("shop_gone") === undefined && engine.byName("shop_legacy") === undefined,
    );
    assert.ok(engine.byName("shop_other-host"));
    assert.ok(engine.byName("shop_other-cluster"));
    const ops = engine.calls.filter((c) => USEFUL.has(c.op)).map((c) => c.op);
    assert.deepEqual(ops.sort(), ["remove", "remove", "stop", "stop"]);
    assert.ok(logs.some((l) => /shop_other-host .* alone: it belongs to host host-b/.test(l)));
    assert.ok(logs.some((l) => /shop_other-cluster .* another installation/.test(l)));
    assert.equal(logs.filter((l) => l.includes("shop_other-host")).length, 1);
  }, {
    prepare: (engine) => {
      engine.put({ name: "shop_gone", labels: ownLabels("gone"), state: "running" });
      const legacy = ownLabels("legacy");
      delete legacy["launcher.cluster"];
      engine.put({ name: "shop_legacy", labels: legacy, state: "running" });
      engine.put({
        name: "shop_other-host",
        labels: { ...ownLabels("other-host"), "launcher.host": "host-b" },
        state: "running",
      });
      engine.put({
        name: "shop_other-cluster",
        labels: { ...ownLabels("other-cluster"), "launcher.cluster": "cluster-2" },
        state: "running",
      });
    },
  });
});

Deno.test("down stops before it removes; container rm removes at once", async () => {
  await withAgent(async ({ engine, api, until }) => {
    api.set([want("web"), want("db")]);
    await until("running", () => api.last("web")?.state === "running" && !!api.last("db"));
    const web = engine.byName("shop_web")!.id;
    const db = engine.byName("shop_db")!.id;
    const before = engine.calls.length;
    api.set([
      want("web", { desired: "removed", generation: 2 }),
      want("db", { desired: "removed", generation: 2, force: true }),
    ]);
    await until("both removed", () => engine.containers.size === 0);
    const ops = (id: string) =>
      engine.calls.slice(before).filter((c) => c.target === id).map((c) => c.op);
    assert.deepEqual(ops(web), ["stop", "remove"]);
    assert.deepEqual(ops(db), ["remove"]);
    await until("reported", () => api.last("web")?.state === "removed");
  });
});

Deno.test("at most --parallel containers are worked on at once", async () => {
  await withAgent(async ({ engine, api, until }) => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    engine.hook = (op) => op === "create" ? held : undefined;
    api.set(Array.from({ length: 10 }, (_, i) => want(`c${i}`)));
    await until("three creates held", () => engine.count("create") === 3);
    assert.equal(engine.count("create"), 3);
    release();
    await until("all running", () =>
      engine.containers.size === 10 &&
      [...engine.containers.values()].every((c) => c.state === "running"));
    assert.equal(engine.maxInFlight, 3);
  }, { parallel: 3 });
});

Deno.test("one container's operations never interleave, even when its spec changes", async () => {
  await withAgent(async ({ engine, api, until }) => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    engine.hook = (op, target) => op === "start" && target !== "" ? held : undefined;
    api.set([want("web")]);
    await until("the start held", () => engine.count("start") === 1);
    api.set([want("web", { specHash: "h-web-2", generation: 2 })]);
    await until("the new list taken", () => engine.calls.length > 0);
    release();
    await until("the new spec running", () => {
      const c = engine.byName("shop_web");
      return c?.state === "running" && c.labels["launcher.spec-hash"] === "h-web-2";
    });
    const mine = engine.calls.filter((c) => USEFUL.has(c.op)).sort((a, b) => a.start - b.start);
    for (let i = 1; i < mine.length; i++) {
      assert.ok((mine[i - 1] as Required<Call>).end < mine[i].start, "calls overlap");
    }
    assert.deepEqual(mine.map((c) => c.op), [
      "create",
      "start",
      "stop",
      "remove",
      "create",
      "start",
    ]);
  });
});

Deno.test("a hung engine call fails its container at the deadline and holds nobody else", async () => {
  await withAgent(async ({ engine, api, clock, until }) => {
    engine.hook = (op, target) =>
      op === "start" && engine.containers.get(target)?.name === "shop_stuck"
        ? new Promise<void>(() => {})
        : undefined;
    api.set([want("stuck"), want("fine")]);
    await until("fine running", () => api.last("fine")?.state === "running");
    assert.equal(api.last("stuck")?.state, "created");
    await clock.pass(1000);
    await until("stuck failed", () => api.last("stuck")?.state === "failed");
    assert.match(api.last("stuck")!.error!, /did not answer start within 1s/);
  }, { engineTimeoutMs: 1000 });
});

Deno.test("a failure that clears without any other change is reported", async () => {
  await withAgent(async ({ engine, api, clock, until }) => {
    engine.hook = (op) => {
      if (op === "start") throw new DockerError("engine_error", "no such device /dev/x");
    };
    api.set([want("web")]);
    await until("failed", () => api.last("web")?.state === "failed");
    // Someone starts it by hand while the agent waits out its backoff.
    engine.hook = () => {};
    await engine.startContainer(engine.byName("shop_web")!.id);
    await clock.pass(120_000);
    await until("running", () => api.last("web")?.state === "running");
    assert.equal(api.last("web")?.error, undefined);
  });
});

Deno.test("a container that never ran and cannot start for leftover state is made again", async () => {
  let old = "";
  await withAgent(async ({ engine, api, until }) => {
    engine.hook = (op, target) => {
      if (op === "start" && target === old) {
        throw new DockerError("engine_error", `container ${old}: id already in use`);
      }
    };
    api.set([want("web")]);
    await until("running", () => api.last("web")?.state === "running");
    const now = engine.byName("shop_web")!;
    assert.notEqual(now.id, old);
    assert.equal(engine.containers.has(old), false);
  }, {
    prepare: (engine) => {
      old = engine.put({ name: "shop_web", labels: ownLabels("web"), state: "created" });
    },
  });
});

Deno.test("reports name their spec; a failure of an old spec is not reported for a new one", async () => {
  await withAgent(async ({ engine, api, until }) => {
    engine.hook = (op) => {
      if (op === "start") throw new DockerError("engine_error", "bad old spec");
    };
    api.set([want("web", { specHash: "h1" })]);
    await until("failed", () => api.last("web")?.state === "failed");
    assert.equal(api.last("web")?.specHash, "h1");
    const before = api.reports.length;
    engine.hook = () => {};
    api.set([want("web", { specHash: "h2", generation: 2 })]);
    await until("running", () => api.last("web")?.state === "running");
    const after = api.reports.slice(before).filter((r) => r.name === "web");
    assert.ok(after.every((r) => r.specHash === "h2" && r.state !== "failed"));
  });
});

Deno.test("an absent image is pulled when the engine says so; pull: never fails at once", async () => {
  await withAgent(async ({ engine, api, until }) => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    engine.hook = (op) => op === "pull" ? held : undefined;
    const img = { name: "app", host: "host-a", image: "app:2" };
    api.set([
      want("app", { config: img }),
      want("strict", { config: { ...img, name: "strict", image: "app:3", pull: "never" } }),
    ]);
    await until("app pulling", () => api.last("app")?.state === "pulling");
    release();
    await until("app running", () => api.last("app")?.state === "running");
    await until("strict failed", () => api.last("strict")?.state === "failed");
    assert.equal(engine.count("pull"), 1);
    assert.match(api.last("strict")!.error!, /image app:3 is not on host host-a .*pull: never/);
  });
});

Deno.test("a report batch that reached no server is kept and sent once one answers", async () => {
  await withAgent(async ({ api, clock, logs, until }) => {
    let reachable = false;
    let refused = 0;
    api.reportHook = () => {
      if (reachable) return;
      refused++;
      throw new UnreachableError([
        { url: "http://a", reason: "connection refused" },
        { url: "http://b", reason: "connection refused" },
      ]);
    };
    api.set([want("web")]);
    await until("a batch refused", () => refused > 0);
    await clock.pass(20_000);
    assert.ok(refused > 1, "tried again with backoff");
    assert.equal(api.batches.length, 0);
    reachable = true;
    await clock.pass(5000);
    await until("the report heard", () => api.last("web")?.state === "running");
    assert.equal(logs.filter((l) => l.startsWith("cannot report states")).length, 1);
    assert.ok(logs.includes("reporting states again"));
  });
});
