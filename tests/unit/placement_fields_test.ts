/**
 * The manifest fields for server-side placement (issue 9): placed specs with `replicas` and
 * `placement`, instance names and instance specs. The server's behaviour with them is tested where
 * it is built.
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
