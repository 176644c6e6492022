/** When a container that should run is done for good: the rule and the reports it gives. */
import assert from "node:assert/strict";
import { completion, observedReport } from "../../src/agent/observe.ts";
import type { Seen } from "../../src/agent/engine_view.ts";
import type { ContainerStatus } from "../../src/api/schemas.ts";
import type { RestartPolicy } from "../../src/manifest/normalized.ts";
import { status } from "./fixtures.ts";

/** A desired container with a restart policy set by the `restart` field or the option. */
function withPolicy(
  policy: RestartPolicy | undefined,
  via: "field" | "option" = "field",
  overrides: Partial<ContainerStatus> = {},
): ContainerStatus {
  const d = status(overrides);
  if (policy === undefined) return d;
  if (via === "field") return { ...d, normalized: { ...d.normalized, restart: policy } };
  return { ...d, normalized: { ...d.normalized, runOptions: { restart: policy } } };
}

const exited = (exitCode: number, mayRestart?: true) => ({
  state: "exited",
  exitCode,
  ...(mayRestart ? { mayRestart } : {}),
});

Deno.test("without a restart policy (Docker's no) every exit is final: 0 completed, else failed", () => {
  assert.equal(completion(withPolicy(undefined), exited(0, true)), "completed");
  assert.equal(completion(withPolicy(undefined), exited(3, true)), "failed");
  assert.equal(completion(withPolicy({ name: "no" }), exited(0)), "completed");
  assert.equal(completion(withPolicy({ name: "no" }, "option"), exited(137, true)), "failed");
});

Deno.test("on-failure: exit 0 is final at once, another code once the engine lists it exited", () => {
  const onFailure = withPolicy({ name: "on-failure", maxRetries: 3 }, "option");
  assert.equal(completion(onFailure, exited(0, true)), "completed");
  // A die event alone: the engine may be restarting it.
  assert.equal(completion(onFailure, exited(3, true)), undefined);
  // The engine listed it exited: it gave up.
  assert.equal(completion(onFailure, exited(3)), "failed");
  assert.equal(completion(withPolicy({ name: "on-failure" }), exited(1)), "failed");
});

Deno.test("always and unless-stopped are never final: the engine starts them again", () => {
  for (const name of ["always", "unless-stopped"] as const) {
    for (const via of ["field", "option"] as const) {
      assert.equal(completion(withPolicy({ name }, via), exited(0)), undefined);
      assert.equal(completion(withPolicy({ name }, via), exited(2)), undefined);
    }
  }
});

Deno.test("a container desired stopped or killed stays exited; other states are not exits", () => {
  assert.equal(completion(status({ desired: "stopped" }), exited(0)), undefined);
  assert.equal(completion(status({ desired: "killed" }), exited(137)), undefined);
  assert.equal(completion(status(), { state: "running" }), undefined);
  assert.equal(completion(status(), { state: "dead", exitCode: 1 }), undefined);
  // An exit whose code is unknown is not judged.
  assert.equal(completion(status(), { state: "exited" }), undefined);
});

Deno.test("the report of a final exit: completed with 0, failed with the code and an error", () => {
  const seen = (exitCode: number): Seen => ({
    id: "c1",
    names: ["shop_web"],
    labels: {},
    state: "exited",
    exitCode,
    changed: 1,
    at: 0,
  });
  const base = { host: "host-a", name: "web", manifest: "shop", specHash: "h1", containerId: "c1" };
  assert.deepEqual(observedReport("host-a", status(), seen(0), {}), {
    ...base,
    state: "completed",
    exitCode: 0,
  });
  assert.deepEqual(observedReport("host-a", status(), seen(4), {}), {
    ...base,
    state: "failed",
    exitCode: 4,
    error: "exited with code 4",
  });
  assert.deepEqual(observedReport("host-a", status({ desired: "stopped" }), seen(143), {}), {
    ...base,
    state: "exited",
    exitCode: 143,
  });
});
