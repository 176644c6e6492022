import assert from "node:assert/strict";
import {
  ContainerQuerySchema,
  EventsQuerySchema,
  HostNameBodySchema,
  HostRegistrationSchema,
  LogsQuerySchema,
  StateReportSchema,
  TokenRequestSchema,
} from "../../src/api/schemas.ts";
import { validateInput } from "../../src/api/validation.ts";

/** The one-line problem and the details of an input a schema refuses. */
function refused(schema: Parameters<typeof validateInput>[0], input: unknown) {
  const result = validateInput(schema, input);
  assert.ok(!result.success, "refused");
  return result;
}

const LIBRARY_WORDING = /Expected|Received|Invalid key|Invalid type|valibot|\[object/;

Deno.test("object schemas refuse lists, where valibot's own take them as objects", () => {
  assert.equal(refused(HostNameBodySchema, ["host-a"]).problem, "must be an object, not a list");
  const labels = refused(HostRegistrationSchema, {
    host: "host-a",
    engineVersion: "20.10",
    os: "linux",
    arch: "amd64",
    cpus: 1,
    memory: 1,
    agentVersion: "0.1.0",
    intervalMs: 1000,
    labels: ["a=b"],
  });
  assert.equal(labels.problem, "labels: must be an object, not a list");
});

Deno.test("messages name the field and say what is wrong, in our words", () => {
  const cases: [Parameters<typeof validateInput>[0], unknown, string][] = [
    [HostNameBodySchema, { host: "a", force: true }, 'unknown field "force" (expected host)'],
    [HostNameBodySchema, { host: 3 }, "host: must be a string, not the number 3"],
    [HostNameBodySchema, {}, 'missing required field "host"'],
    [HostNameBodySchema, null, "must be an object, not null"],
    [
      StateReportSchema,
      { host: "a", name: "b", state: "running", exitCode: 1.5 },
      "exitCode: must be a whole number, not the number 1.5",
    ],
    [
      StateReportSchema,
      { host: "a", name: "b", state: "sleeping" },
      'state: must be one of "pending", "pulling", "created", "running", "restarting", ' +
      '"paused", "exited", "completed", "dead", "removing", "removed", "failed", "unknown", ' +
      'not the string "sleeping"',
    ],
    // A password sent as the wrong type is not shown back.
    [TokenRequestSchema, { password: 12345 }, "password: must be a string"],
  ];
  for (const [schema, input, problem] of cases) {
    const result = refused(schema, input);
    assert.equal(result.problem, problem);
    for (const detail of result.details) assert.doesNotMatch(detail.message, LIBRARY_WORDING);
  }
});

Deno.test("details give the path of each problem, keys included", () => {
  const { details } = refused(HostNameBodySchema, { host: 3, extra: 1 });
  assert.deepEqual(details, [
    { path: "host", message: "must be a string, not the number 3" },
    { path: "extra", message: 'unknown field "extra" (expected host)' },
  ]);
});

Deno.test("query parameters are parsed in one place each, and refused by name", () => {
  const ok = validateInput(LogsQuerySchema, { manifest: "shop", container: "web", since: "10m" });
  assert.ok(ok.success);
  assert.deepEqual(ok.output, {
    manifest: "shop",
    container: "web",
    since: { agoMs: 600_000 },
    follow: false,
    timestamps: false,
  });
  const poll = validateInput(ContainerQuerySchema, { host: "host-a", index: "7", wait: "2m" });
  assert.ok(poll.success);
  assert.deepEqual(poll.output, { host: "host-a", index: 7, wait: 120_000 });
  const cases: [Parameters<typeof validateInput>[0], unknown, string][] = [
    [ContainerQuerySchema, { host: ["a", "b"] }, "host: must be given once, not 2 times"],
    [ContainerQuerySchema, {}, 'missing required query parameter "host"'],
    [
      ContainerQuerySchema,
      { host: "a", verbose: "1" },
      'unknown query parameter "verbose" (expected host, index, wait)',
    ],
    [EventsQuerySchema, { wait: "1s" }, "wait: needs after: pass the last event id seen (0: none)"],
    [
      LogsQuerySchema,
      { manifest: "shop", container: "web", follow: "maybe" },
      'follow: must be true or false, not the string "maybe"',
    ],
  ];
  for (const [schema, input, problem] of cases) {
    assert.equal(refused(schema, input).problem, problem);
  }
});
