/**
 * The manifest fields for server-side placement and rolling updates (issue 9): placed specs with
 * `replicas` and `placement`, the manifest's `update` and `reschedule_after`, instance names and
 * instance specs. The server's behaviour with them is tested where it is built.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import { normalizedHash, specHash } from "../../src/manifest/hash.ts";
import { parseManifest } from "../../src/manifest/parse.ts";
import {
  instanceName,
  InstanceNameSchema,
  instanceSpec,
  type ManifestContainer,
} from "../../src/manifest/schema.ts";
import { parseSpec, parseStoredSpec, SpecError } from "../../src/manifest/spec.ts";
import { manifestProblems } from "./fixtures.ts";

/** Issue 9's manifest, as the issue writes it. */
const SHOP = `name: shop
update:
  parallel: 1
  order: stop-first
  min_healthy: 10s
  deadline: 5m
  on_failure: rollback
reschedule_after: 5m
containers:
  - name: web
    image: nginx:1.27
    replicas: 3
    placement:
      labels: { zone: eu-1 }
      hosts: [a, b, c, d]
      strategy: spread
    resources: { cpus: 0.5, memory: 256m }
    ports: ["8080:80"]
  - name: db
    host: c
    image: postgres:16
`;

/** A manifest `shop` whose top level has `top` lines and whose one container has `lines`. */
function manifest(top: string[], ...lines: string[]): string {
  return ["name: shop", ...top, "containers:", "  - name: web", "    image: i"]
    .concat(lines.map((line) => `    ${line}`)).join("\n") + "\n";
}

/** A manifest of one placed container `web` (no host) with more lines. */
function placed(...lines: string[]): string {
  return manifest([], ...lines);
}

/** The one container of a manifest that must parse. */
function only(text: string): ManifestContainer {
  const { containers } = parseManifest(text, "yaml");
  assert.equal(containers.length, 1);
  return containers[0];
}

/** Asserts that a manifest is refused with exactly one detail. */
function refusedWith(text: string, path: string, message: string, line: number, column: number) {
  assert.deepEqual(manifestProblems(text), [{ path, message, line, column }]);
}

Deno.test("issue 9's manifest parses: placed web with its placement, pinned db as before", () => {
  const shop = parseManifest(SHOP, "yaml");
  assert.deepEqual(shop.update, {
    parallel: 1,
    order: "stop-first",
    minHealthyMs: 10_000,
    deadlineMs: 300_000,
    onFailure: "rollback",
  });
  assert.equal(shop.rescheduleAfterMs, 300_000);
  const [web, db] = shop.containers;
  // The agent-facing spec: as written, without what only the server reads.
  assert.deepEqual(web.spec, {
    name: "web",
    image: "nginx:1.27",
    resources: { cpus: 0.5, memory: "256m" },
    ports: ["8080:80"],
  });
  assert.equal(web.normalized.host, "");
  assert.equal(web.hash, normalizedHash(web.normalized));
  assert.equal(web.replicas, 3);
  assert.deepEqual(web.placement, {
    labels: { zone: "eu-1" },
    hosts: ["a", "b", "c", "d"],
    strategy: "spread",
  });
  // A pinned spec comes out exactly as before: no keys of placement at all.
  assert.deepEqual(Object.keys(db), ["spec", "normalized", "hash"]);
  assert.deepEqual(db.spec, { name: "db", host: "c", image: "postgres:16" });
  assert.equal(db.hash, specHash({ name: "db", host: "c", image: "postgres:16" }));
});

Deno.test("a spec without host is placed: one replica, anywhere, spread", () => {
  const web = only(placed());
  assert.deepEqual(web.spec, { name: "web", image: "i" });
  assert.equal(web.replicas, 1);
  assert.deepEqual(web.placement, { labels: {}, hosts: [], strategy: "spread" });
  assert.equal(only(placed("replicas: 0")).replicas, 0);
  assert.equal(only(placed("replicas: 100000")).replicas, 100_000);
  const labelled = only(placed("placement: {labels: {zone: 1, ssd: true}, strategy: binpack}"));
  assert.deepEqual(labelled.placement, {
    labels: { zone: "1", ssd: "true" },
    hosts: [],
    strategy: "binpack",
  });
  // Neither update nor reschedule_after: the manifest has neither key.
  assert.deepEqual(Object.keys(parseManifest(placed(), "yaml")), ["name", "containers"]);
});

Deno.test("the template hash is the spec's with host empty, whatever replicas and placement", () => {
  const hash = only(placed()).hash;
  assert.equal(hash, specHash({ name: "web", image: "i" }));
  assert.equal(only(placed("replicas: 5")).hash, hash);
  assert.equal(only(placed("placement: {hosts: [a, b], strategy: binpack}")).hash, hash);
  assert.equal(only(placed("replicas: 2", "placement: {labels: {zone: eu-1}}")).hash, hash);
  // A pinned spec of the same fields is another spec: the host is part of it.
  assert.notEqual(specHash({ name: "web", host: "a", image: "i" }), hash);
});

Deno.test("update takes its defaults key by key, and durations in the one grammar", () => {
  const update = (line: string) => parseManifest(manifest([line]), "yaml").update;
  assert.deepEqual(update("update: {}"), {
    parallel: 1,
    order: "stop-first",
    minHealthyMs: 10_000,
    deadlineMs: 300_000,
    onFailure: "pause",
  });
  assert.deepEqual(update("update: {parallel: 4, order: start-first, on_failure: rollback}"), {
    parallel: 4,
    order: "start-first",
    minHealthyMs: 10_000,
    deadlineMs: 300_000,
    onFailure: "rollback",
  });
  const minHealthy = (value: string) => update(`update: {min_healthy: ${value}}`)?.minHealthyMs;
  assert.equal(minHealthy("0"), 0);
  assert.equal(minHealthy("90"), 90_000);
  assert.equal(minHealthy("1m30s"), 90_000);
  assert.equal(minHealthy("'2.5'"), 2_500);
  assert.equal(update("update: {deadline: 7d}")?.deadlineMs, 7 * 86_400_000);
  assert.equal(update("update: {deadline: 1ms}")?.deadlineMs, 1);
  const reschedule = (value: string) =>
    parseManifest(manifest([`reschedule_after: ${value}`]), "yaml").rescheduleAfterMs;
  assert.equal(reschedule("30"), 30_000);
  assert.equal(reschedule("1h"), 3_600_000);
});

Deno.test("replicas and placement on a spec that names its host are refused at the field", () => {
  const pinned = (...lines: string[]) => placed("host: a", ...lines);
  refusedWith(
    pinned("replicas: 2"),
    "containers[0].replicas",
    "replicas needs the server to place the container: remove host, or remove replicas",
    6,
    15,
  );
  refusedWith(
    pinned("placement: {strategy: binpack}"),
    "containers[0].placement",
    "placement needs the server to place the container: remove host, or remove placement",
    6,
    16,
  );
  // Both, and with other problems of the spec: every problem at once.
  assert.deepEqual(
    manifestProblems(pinned("replicas: 1", "placement:", "  hosts: [a]", "ports: [x]")).map((d) => [
      d.path,
      d.line,
      d.column,
    ]),
    [
      ["containers[0].replicas", 6, 15],
      ["containers[0].placement", 8, 7],
      ["containers[0].ports[0]", 9, 13],
    ],
  );
  // JSON bodies are placed too.
  const json = JSON.stringify({
    name: "shop",
    containers: [{ name: "web", host: "a", image: "i", replicas: 2 }],
  });
  assert.deepEqual(manifestProblems(json, "json"), [{
    path: "containers[0].replicas",
    message: "replicas needs the server to place the container: remove host, or remove replicas",
    line: 1,
    column: 78,
  }]);
});

Deno.test("bad replicas and placement are refused with their line and column", () => {
  for (const replicas of ["-1", "1.5", "100001", "'3'", "null", "[2]"]) {
    const [detail] = manifestProblems(placed(`replicas: ${replicas}`));
    assert.equal(detail.path, "containers[0].replicas");
    assert.match(detail.message, /^must be a whole number from 0 to 100000, not /);
    assert.deepEqual([detail.line, detail.column], [5, 15]);
  }
  refusedWith(
    placed("placement: [a]"),
    "containers[0].placement",
    "must be a mapping, not a list",
    5,
    16,
  );
  refusedWith(
    placed("placement: {host: [a]}"),
    "containers[0].placement.host",
    'unknown key "host" (did you mean "hosts"?)',
    5,
    17,
  );
  refusedWith(
    placed("placement: {hosts: []}"),
    "containers[0].placement.hosts",
    "must list at least one host: leave hosts out to allow every host",
    5,
    24,
  );
  refusedWith(
    placed("placement: {hosts: a}"),
    "containers[0].placement.hosts",
    'must be a list of host names, not the string "a"',
    5,
    24,
  );
  refusedWith(
    placed("placement:", "  hosts:", "    - a", "    - b", "    - a"),
    "containers[0].placement.hosts[2]",
    'host "a" is already listed as hosts[0]',
    9,
    11,
  );
  refusedWith(
    placed("placement: {hosts: [a, 'b c']}"),
    "containers[0].placement.hosts[1]",
    "must be a host name ([A-Za-z0-9._-], up to 253)",
    5,
    28,
  );
  refusedWith(
    placed("placement: {strategy: pack}"),
    "containers[0].placement.strategy",
    'must be spread or binpack, not the string "pack"',
    5,
    27,
  );
  refusedWith(
    placed("placement: {labels: {'a b': 1}}"),
    'containers[0].placement.labels["a b"]',
    `key "a b" must be a label key without '=' or spaces`,
    5,
    26,
  );
  refusedWith(
    placed("placement: {labels: {zone: [eu]}}"),
    "containers[0].placement.labels.zone",
    "must be a string, number or boolean",
    5,
    32,
  );
  // The schema's record would drop it, and with it the constraint: a hard error instead.
  refusedWith(
    placed("placement: {labels: {__proto__: x}}"),
    "containers[0].placement.labels.__proto__",
    'label name "__proto__" is not supported',
    5,
    26,
  );
});

Deno.test("bad update and reschedule_after are refused with their line and column", () => {
  const at = (top: string, path: string, message: string, column: number) =>
    refusedWith(manifest([top]), path, message, 2, column);
  at("update: [parallel]", "update", "must be a mapping, not a list", 9);
  at(
    "update: {paralel: 2}",
    "update.paralel",
    'unknown key "paralel" (did you mean "parallel"?)',
    10,
  );
  at(
    "update: {parallel: 0}",
    "update.parallel",
    "must be a whole number of 1 or more, not the number 0",
    20,
  );
  at(
    "update: {parallel: 1.5}",
    "update.parallel",
    "must be a whole number of 1 or more, not the number 1.5",
    20,
  );
  at(
    "update: {order: rolling}",
    "update.order",
    'must be stop-first or start-first, not the string "rolling"',
    17,
  );
  at(
    "update: {on_failure: stop}",
    "update.on_failure",
    'must be rollback or pause, not the string "stop"',
    22,
  );
  at(
    "update: {min_healthy: 10x}",
    "update.min_healthy",
    'min_healthy "10x" is not a duration such as 500ms, 30s, 1m30s, 2h or 7d',
    23,
  );
  at(
    "update: {min_healthy: -1}",
    "update.min_healthy",
    'min_healthy "-1" is not a duration such as 500ms, 30s, 1m30s, 2h or 7d',
    23,
  );
  at(
    "update: {deadline: true}",
    "update.deadline",
    "must be a duration such as 500ms, 30s, 1m30s, 2h or 7d, not true",
    20,
  );
  at(
    "update: {deadline: 0s}",
    "update.deadline",
    'deadline has value "0s": expected at least 1ms',
    20,
  );
  at(
    "update: {deadline: 0.1ms}",
    "update.deadline",
    'deadline has value "0.1ms": expected at least 1ms',
    20,
  );
  at(
    "reschedule_after: 0",
    "reschedule_after",
    'reschedule_after has value "0": expected at least 1ms',
    19,
  );
  at(
    "reschedule_after: soon",
    "reschedule_after",
    'reschedule_after "soon" is not a duration such as 500ms, 30s, 1m30s, 2h or 7d',
    19,
  );
  at(
    "reschedule_after: {m: 5}",
    "reschedule_after",
    "must be a duration such as 500ms, 30s, 1m30s, 2h or 7d, not a mapping",
    19,
  );
});

/** The start-first refusal for a container, as the manifest says it. */
function startFirstRefusal(port: string, host: string, name = "web"): string {
  return `start-first needs the new copy to run beside the old one, but port ${port} on host ` +
    `${host} can be bound by only one: use stop-first, or let the server place ${name} on more ` +
    `than one host`;
}

Deno.test("start-first is refused where the new copy could only bind the old one's port", () => {
  const startFirst = (...lines: string[]) =>
    manifest(["update:", "  order: start-first"], ...lines);
  // Pinned with a fixed host port: the new copy has nowhere else to go.
  refusedWith(
    startFirst("host: c", 'ports: ["8080:80"]'),
    "update.order",
    startFirstRefusal("8080", "c"),
    3,
    10,
  );
  // Placed, but on one host only.
  refusedWith(
    startFirst("placement: {hosts: [a]}", 'ports: ["80", "127.0.0.1:5353:53/udp"]'),
    "update.order",
    startFirstRefusal("5353/udp", "a"),
    3,
    10,
  );
  // One detail per container at fault, each naming it; valid entries are judged even when
  // another entry has a problem of its own.
  const text = [
    "name: shop",
    "update: {order: start-first}",
    "containers:",
    "  - {name: web, host: a, image: i, ports: ['8080:80']}",
    "  - {name: api, host: b, image: i, ports: ['9000:9000']}",
    "  - {name: bad, host: b, image: i, ports: ['9000:9000'], extra: 1}",
  ].join("\n");
  assert.deepEqual(manifestProblems(text), [
    { path: "update.order", message: startFirstRefusal("8080", "a"), line: 2, column: 17 },
    {
      path: "update.order",
      message: startFirstRefusal("9000", "b", "api"),
      line: 2,
      column: 17,
    },
    {
      path: "containers[2].extra",
      message: `unknown key "extra" (expected name, host, image, entrypoint, cmd, ports, ` +
        `environment, options, healthcheck, restart, volumes, labels, resources, pull, ` +
        `stop_timeout, replicas, placement)`,
      line: 6,
      column: 58,
    },
  ]);
});

Deno.test("start-first is allowed wherever the new copy can bind its ports", () => {
  const startFirst = (...lines: string[]) =>
    parseManifest(manifest(["update: {order: start-first}"], ...lines), "yaml").update?.order;
  // Placed without a fixed host port: the engine picks a free one.
  assert.equal(startFirst('ports: ["80"]'), "start-first");
  // Placed with a fixed host port, on any host, or on two or more.
  assert.equal(startFirst('ports: ["8080:80"]'), "start-first");
  assert.equal(startFirst('ports: ["8080:80"]', "placement: {hosts: [a, b]}"), "start-first");
  assert.equal(startFirst('ports: ["8080:80"]', "placement: {labels: {zone: x}}"), "start-first");
  // Pinned without a fixed host port.
  assert.equal(startFirst("host: a", 'ports: ["80"]'), "start-first");
  // stop-first never needs two copies at once.
  const stopFirst = manifest(["update: {order: stop-first}"], "host: a", 'ports: ["8080:80"]');
  assert.equal(parseManifest(stopFirst, "yaml").update?.order, "stop-first");
});

Deno.test("instanceSpec of a pinned spec under its own name and host is the spec itself", () => {
  const db = parseManifest(SHOP, "yaml").containers[1];
  const instance = instanceSpec(db, "db", "c");
  assert.deepEqual(instance, { spec: db.spec, normalized: db.normalized, hash: db.hash });
  // The text the server stores is the same too, key order included.
  assert.equal(JSON.stringify(instance.spec), JSON.stringify(db.spec));
  assert.equal(JSON.stringify(instance.normalized), JSON.stringify(db.normalized));
});

Deno.test("instanceSpec of a placed spec sets the instance's name and host, and hashes that", () => {
  const web = parseManifest(SHOP, "yaml").containers[0];
  const instance = instanceSpec(web, instanceName("web", 2), "b");
  assert.deepEqual(instance.spec, {
    name: "web.2",
    host: "b",
    image: "nginx:1.27",
    resources: { cpus: 0.5, memory: "256m" },
    ports: ["8080:80"],
  });
  assert.deepEqual(instance.normalized, { ...web.normalized, name: "web.2", host: "b" });
  assert.equal(instance.hash, normalizedHash(instance.normalized));
  assert.notEqual(instance.hash, web.hash);
  // The template is left as it was.
  assert.equal(web.normalized.host, "");
  assert.equal(web.spec.host, undefined);
  // The server stores it, and reads it back the same.
  assert.deepEqual(parseStoredSpec(instance.spec), instance);
});

Deno.test("instance names are container names with an optional .N, N from 1", () => {
  assert.equal(instanceName("web", 1), "web.1");
  for (const name of ["web", "web.1", "web.12", "a", "web.999999", "x-1.100000"]) {
    assert.ok(v.is(InstanceNameSchema, name), name);
  }
  for (
    const name of ["web.0", "web.01", "web.x", "web.1.2", "web.", ".1", "web.1234567", "Web.1"]
  ) {
    const result = v.safeParse(InstanceNameSchema, name);
    assert.ok(!result.success, name);
    assert.equal(
      result.issues[0].message,
      "must be a container name, [a-z0-9][a-z0-9-]{0,62}, optionally followed by .N (N from 1)",
    );
  }
});

Deno.test("stored specs may carry an instance name; manifests may not", () => {
  const stored = parseStoredSpec({ name: "web.1", host: "a", image: "i" });
  assert.equal(stored.normalized.name, "web.1");
  assert.throws(() => parseSpec({ name: "web.1", host: "a", image: "i" }), SpecError);
  assert.deepEqual(manifestProblems(placed().replace("name: web", "name: web.1")), [{
    path: "containers[0].name",
    message: "must match [a-z0-9][a-z0-9-]{0,62}",
    line: 3,
    column: 11,
  }]);
});
