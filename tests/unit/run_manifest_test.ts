/** `launcher run`: its arguments as a manifest, the server's objections, output lines, its end. */
import assert from "node:assert/strict";
import {
  OutputCursor,
  parseEnv,
  type RunArgs,
  runEnd,
  runManifest,
  runObjections,
} from "../../src/cli/run_manifest.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { status } from "./fixtures.ts";

const args = (overrides: Partial<RunArgs> = {}): RunArgs => ({
  name: "ok",
  image: "busybox:1.36",
  env: [],
  publish: [],
  cmd: [],
  ...overrides,
});

Deno.test("run makes a manifest of one container of its name, run once", () => {
  assert.deepEqual(runManifest(args({ host: "host-a" })), {
    name: "ok",
    containers: [{ name: "ok", image: "busybox:1.36", host: "host-a", restart: "no" }],
  });
  // No host: the server places it; nothing else given: the image's own command, no ports.
  assert.deepEqual(runManifest(args()), {
    name: "ok",
    containers: [{ name: "ok", image: "busybox:1.36", restart: "no" }],
  });
});

Deno.test("run passes -e, -p and the command after -- as they were given", () => {
  const manifest = runManifest(args({
    env: ["MODE=prod", "URL=postgres://db/x?a=b", "EMPTY="],
    publish: ["8080:80", "127.0.0.1:5353:53/udp"],
    cmd: ["sh", "-c", "echo hi; exit 3"],
  }));
  assert.deepEqual(manifest.containers[0], {
    name: "ok",
    image: "busybox:1.36",
    environment: { MODE: "prod", URL: "postgres://db/x?a=b", EMPTY: "" },
    ports: ["8080:80", "127.0.0.1:5353:53/udp"],
    cmd: ["sh", "-c", "echo hi; exit 3"],
    restart: "no",
  });
});

Deno.test("run refuses -e without = and a bad NAME, naming them", () => {
  assert.throws(() => parseEnv(["MODE"]), new UsageError("-e MODE: expected KEY=VALUE"));
  assert.throws(() => parseEnv(["=x"]), new UsageError("-e =x: expected KEY=VALUE"));
  assert.throws(
    () => runManifest(args({ name: "Bad!" })),
    new UsageError('NAME "Bad!" must match [a-z0-9][a-z0-9-]{0,62}'),
  );
});

Deno.test("the server's objections to a run are told in the words of its flags", () => {
  assert.equal(
    runObjections("containers[0].ports[0] (line 1, column 73): bad", [
      { path: "containers[0].ports[0]", message: 'port "99999:80" is out of range', line: 1 },
      { path: "containers[0].image", message: "must not be empty", line: 1, column: 49 },
      { path: "containers[0].host", message: 'missing required key "host"' },
      { path: "name", message: "must match x" },
      { path: "containers[0].name", message: "must match x" },
      { path: "containers[0].environment.A", message: "bad" },
      { path: "containers[0].cmd", message: "bad" },
      { path: "containers[0].other", message: "odd" },
    ]),
    [
      '-p: port "99999:80" is out of range',
      "--image: must not be empty",
      '--host: missing required key "host"',
      "NAME: must match x",
      "-e: bad",
      "the command after --: bad",
      "containers[0].other: odd",
    ].join("\n"),
  );
  assert.equal(runObjections("manifest too large"), "manifest too large");
});

Deno.test("a run ends with its container's exit code, or 1 with the error when it never ran", () => {
  assert.equal(runEnd(status({ state: "pending" })), undefined);
  assert.equal(runEnd(status({ state: "pulling" })), undefined);
  assert.equal(runEnd(status({ state: "running" })), undefined);
  assert.deepEqual(runEnd(status({ state: "completed", exitCode: 0 })), { code: 0 });
  assert.deepEqual(runEnd(status({ state: "failed", exitCode: 3, error: "x" })), { code: 3 });
  assert.deepEqual(runEnd(status({ state: "failed", error: "no such image" })), {
    code: 1,
    error: "web on host-a failed: no such image",
  });
  // Someone stopped it: its code, as docker run gives it.
  assert.deepEqual(runEnd(status({ desired: "stopped", state: "exited", exitCode: 143 })), {
    code: 143,
  });
  assert.deepEqual(runEnd(status({ state: "failed", exitCode: -1 })), { code: 1 });
  assert.deepEqual(runEnd(status({ desired: "removed", state: "running" })), {
    code: 1,
    error: "web was removed",
  });
});

Deno.test("output read twice is written once, lines of the same time included", () => {
  const cursor = new OutputCursor();
  const t = (ns: string) => `2026-01-01T00:00:00.${ns}Z`;
  // The follow: three lines, two of them at one time (parts of a long line share it).
  assert.equal(cursor.startRead(), undefined);
  assert.deepEqual(
    [t("100000000"), t("200000001"), t("200000001")].map((time) => cursor.admit(time)),
    [true, true, true],
  );
  // The read to the end starts at the last line's millisecond and meets them all again.
  assert.equal(cursor.startRead(), "2026-01-01T00:00:00.200Z");
  assert.deepEqual(
    [t("200000000"), t("200000001"), t("200000001"), t("200000001"), t("300000000")].map((
      time,
    ) => cursor.admit(time)),
    [false, false, false, true, true],
  );
  // A line without a time cannot be placed: it is written.
  assert.equal(cursor.admit(undefined), true);
});
