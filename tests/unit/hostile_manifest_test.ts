/**
 * Hostile manifests: every refusal is a ManifestError in launcher's words, with a path and (for
 * YAML) a line; no default message of the YAML or schema library reaches a user.
 */
import assert from "node:assert/strict";
import type { ErrorDetail } from "../../src/errors.ts";
import { ManifestError, parseManifest } from "../../src/manifest/parse.ts";

/** Words of library messages that must never reach a user. */
const LEAK = /Expected|Invalid|Received|YAML\.|parseAllDocuments|call stack|undefined|\[object/;

/** The details of a manifest that must be refused, each checked for leaks. */
function refused(text: string, format: "yaml" | "json" = "yaml"): ErrorDetail[] {
  let caught: unknown;
  try {
    parseManifest(text, format);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ManifestError, `refused with a ManifestError: ${text.slice(0, 200)}`);
  const details = caught.details ?? [];
  assert.ok(details.length > 0);
  for (const message of [caught.message, ...details.map((d) => d.message)]) {
    assert.doesNotMatch(message, LEAK, `${message}\n--- for ---\n${text.slice(0, 200)}`);
    assert.ok(message.length < 600, `a message of ${message.length} characters`);
  }
  return details;
}

/** Refused, and every detail has a path and, for YAML, a line and column. */
function refusedAt(text: string, format: "yaml" | "json" = "yaml"): ErrorDetail[] {
  const details = refused(text, format);
  for (const detail of details) {
    const shown = `${JSON.stringify(detail)} for ${text.slice(0, 200)}`;
    assert.ok(detail.path, `a path: ${shown}`);
    assert.ok(detail.path.length < 200, `a short path: ${shown}`);
    if (format === "yaml") assert.ok(detail.line && detail.column, `a position: ${shown}`);
  }
  return details;
}

/** A manifest of one container `web` with more lines. */
function web(...lines: string[]): string {
  return ["name: shop", "containers:", "  - name: web", "    host: a", "    image: i"]
    .concat(lines.map((line) => `    ${line}`)).join("\n") + "\n";
}

/** The same container as JSON, with `extra` merged into it. */
function webJson(extra: Record<string, unknown>): string {
  return JSON.stringify({
    name: "shop",
    containers: [{ name: "web", host: "a", image: "i", ...extra }],
  });
}

const FIELDS = [
  "name",
  "host",
  "image",
  "entrypoint",
  "cmd",
  "ports",
  "environment",
  "options",
  "healthcheck",
  "restart",
  "volumes",
  "labels",
  "resources",
  "pull",
  "stop_timeout",
];

const SCALARS = ["42", "-1", "1.5", "true", "false", "null", "~", "''", ".nan", ".inf"];

Deno.test("lists where mappings are required, empty ones too", () => {
  const cases: [string, string][] = [
    ["resources: [a]", "containers[0].resources"],
    ["resources: []", "containers[0].resources"],
    ["labels: [a=b]", "containers[0].labels"],
    ["labels: []", "containers[0].labels"],
    ["environment: []", "containers[0].environment"],
    ["environment: [A=1]", "containers[0].environment"],
    ["healthcheck: []", "containers[0].healthcheck"],
    ["healthcheck: [test, x]", "containers[0].healthcheck"],
  ];
  for (const [line, path] of cases) {
    const details = refusedAt(web(line));
    assert.deepEqual(details.map((d) => [d.path, d.message]), [[
      path,
      "must be a mapping, not a list",
    ]]);
    const [key, value] = line.split(": ");
    const json = refusedAt(
      webJson({ [key]: JSON.parse(value.replace(/([a-z=A-Z1]+)/g, '"$1"')) }),
      "json",
    );
    assert.deepEqual(json.map((d) => d.message), ["must be a mapping, not a list"]);
  }
  refusedAt("name: shop\ncontainers: [[]]\n");
  refusedAt("name: shop\ncontainers: [[name, web]]\n");
  refusedAt("name: shop\ncontainers: {web: {}}\n");
});

Deno.test("numbers, booleans and null in every field", () => {
  // The scalars some fields take: an empty command clears the image's, a number of seconds.
  const valid = new Set(["entrypoint ''", "cmd ''", "stop_timeout 42"]);
  for (const field of FIELDS) {
    for (const scalar of SCALARS) {
      if (valid.has(`${field} ${scalar}`)) continue;
      const lines = web().trimEnd().split("\n").filter((line) => !line.startsWith(`    ${field}:`));
      refusedAt(`${lines.join("\n")}\n    ${field}: ${scalar}\n`);
    }
  }
  const nested = [
    "healthcheck: {test: 1}",
    "healthcheck: {test: [1]}",
    "healthcheck: {test: null}",
    "healthcheck: {test: x, interval: true}",
    "healthcheck: {test: x, interval: null}",
    "healthcheck: {test: x, timeout: {}}",
    "healthcheck: {test: x, retries: '3'}",
    "healthcheck: {test: x, retries: null}",
    "healthcheck: {test: x, start_period: []}",
    "resources: {memory: true}",
    "resources: {memory: null}",
    "resources: {cpus: []}",
    "resources: {cpus: false}",
    "environment: {A: null}",
    "environment: {A: [1]}",
    "environment: {A: {b: 1}}",
    "labels: {a: null}",
    "labels: {a: {}}",
    "ports: [null]",
    "ports: [80]",
    "ports: [[80]]",
    "options: [1]",
    "options: [null]",
    "options: [true]",
    "volumes: [null]",
    "volumes: [{a: b}]",
    "cmd: [1]",
    "cmd: [null]",
    "entrypoint: [true]",
    "healthcheck: {test: [CMD, 1]}",
  ];
  for (const line of nested) refusedAt(web(line));
  for (const scalar of [42, true, null, 1.5]) {
    refused(JSON.stringify({ name: scalar, containers: [] }), "json");
    refused(JSON.stringify({ name: "shop", containers: scalar }), "json");
    refused(JSON.stringify({ name: "shop", containers: [scalar] }), "json");
    for (const field of FIELDS) {
      if (field === "stop_timeout" && scalar !== null && scalar !== 1.5) continue;
      refusedAt(webJson({ [field]: scalar }), "json");
    }
  }
  refusedAt("name: 42\ncontainers: []\n");
  refusedAt("name: shop\ncontainers: 42\n");
  refusedAt("name: shop\ncontainers: null\n");
  refusedAt("name: shop\ncontainers: [42]\n");
  refusedAt("name: shop\ncontainers: [null]\n");
});

Deno.test("wrong scalars, lists and mappings in the placement and update fields", () => {
  /** A manifest with `top` lines and one placed container `web` with `lines`. */
  const placed = (top: string[], lines: string[]) =>
    ["name: shop", ...top, "containers:", "  - name: web", "    image: i"]
      .concat(lines.map((line) => `    ${line}`)).join("\n") + "\n";
  // The scalars some of these fields take: a whole number of replicas, a number of seconds.
  const valid = new Set(["replicas 42", "reschedule_after 42", "reschedule_after 1.5"]);
  for (const field of ["replicas", "placement"]) {
    for (const value of [...SCALARS, "[]", "[a]", "{}"]) {
      if (valid.has(`${field} ${value}`) || (field === "placement" && value === "{}")) continue;
      refusedAt(placed([], [`${field}: ${value}`]));
    }
  }
  for (const value of [...SCALARS, "[]", "{}"]) {
    if (!valid.has(`reschedule_after ${value}`)) {
      refusedAt(placed([`reschedule_after: ${value}`], []));
    }
    if (value !== "{}") refusedAt(placed([`update: ${value}`], []));
    for (const key of ["parallel", "order", "min_healthy", "deadline", "on_failure"]) {
      const fine = (key === "parallel" && value === "42") ||
        ((key === "min_healthy" || key === "deadline") && /^(42|1\.5)$/.test(value));
      if (!fine) refusedAt(placed([`update: {${key}: ${value}}`], []));
    }
    for (const key of ["labels", "hosts", "strategy"]) {
      if (key === "labels" && value === "{}") continue;
      refusedAt(placed([], [`placement: {${key}: ${value}}`]));
    }
  }
  refusedAt(placed([], ["placement: {labels: {a: null}}"]));
  refusedAt(placed([], ["placement: {labels: {a: [b]}}"]));
  refusedAt(placed([], ["placement: {hosts: [null]}"]));
  refusedAt(placed([], ["placement: {hosts: [[a]]}"]));
  refusedAt(placed([], ["placement: {extra: 1}"]));
  refusedAt(placed(["update: {extra: 1}"], []));
  refusedAt(placed([], ["placement: {labels: {constructor: 1}}"]));
  refusedAt(placed([], ["placement: {__proto__: {hosts: [a]}}"]));
  refusedAt(
    '{"name":"shop","update":{"order":"start-first","__proto__":{"deadline":0}},' +
      '"containers":[{"name":"web","image":"i","replicas":-1,"placement":{"hosts":[]}}]}',
    "json",
  );
});

Deno.test("unknown keys at every level", () => {
  refusedAt("name: shop\ncontainers: []\nextra: 1\n");
  refusedAt(web("extra: 1"));
  refusedAt(web("healthcheck: {test: x, extra: 1}"));
  refusedAt(web("resources: {memory: 1g, extra: 1}"));
  refusedAt(web("Image: x", "'': 1", "'a b': 2", "__proto__: 3", "constructor: 4"));
  refusedAt(web("healthcheck: {test: x, __proto__: {a: 1}}"));
  refusedAt(web("environment: {__proto__: 1}"));
  refusedAt(web("labels: {constructor: 1}"));
  refusedAt(web("? [a, b]\n    : c"));
  refusedAt(web("? {a: b}\n    : c"));
  refusedAt(web("<<: {image: j}"));
  refusedAt(webJson({ extra: 1, healthcheck: { test: "x", extra: 2 } }), "json");
  refusedAt(
    '{"name":"shop","containers":[{"name":"web","host":"a","image":"i","__proto__":{"a":1}}]}',
    "json",
  );
  refusedAt('{"name":"shop","containers":[],"__proto__":{"a":1}}', "json");
});

Deno.test("anchors and aliases, in loops and in bombs", () => {
  refusedAt("name: shop\ncontainers: &a [*a]\n");
  refusedAt("name: shop\ncontainers:\n  - &s {name: web, host: a, image: i, cmd: *s}\n");
  refusedAt(
    "name: shop\ncontainers:\n  - &s {name: web, host: a, image: i, environment: {A: *s}}\n",
  );
  refusedAt("name: &n shop\ncontainers:\n  - {name: *n, host: *n, image: *n, labels: *n}\n");
  refusedAt("name: shop\ncontainers:\n  - *nothing\n");
  const bomb = ["name: shop", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 10; i++) {
    bomb.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
  }
  bomb.push("containers: []");
  refusedAt(bomb.join("\n") + "\n");
});

Deno.test("tags", () => {
  for (
    const tagged of [
      '!!js/function "function () { return 1 }"',
      "!!js/regexp /x/",
      "!!python/object/apply:os.system [id]",
      "!!binary aGVsbG8=",
      "!!set {a: null}",
      "!!omap [a: 1]",
      "!!timestamp 2001-12-14",
      "!custom x",
      "!<tag:example.com,2000:x> y",
      "!!map [a]",
      "!!seq {a: 1}",
      "!!int abc",
    ]
  ) {
    refusedAt(web(`image: ${tagged}`));
    refusedAt(`name: shop\ncontainers: ${tagged}\n`);
  }
});

Deno.test("a byte order mark, and a megabyte of text", () => {
  refusedAt(`\uFEFF${web("ports: [x]")}`);
  refusedAt(`\uFEFF${webJson({ ports: ["x"] })}`, "json");
  refusedAt(web(`image: "\uFEFFnginx"`));
  refusedAt(web(`ports: ["\uFEFF80"]`));
  const mebibyte = "a".repeat(1024 * 1024);
  refusedAt(web(`image: ${mebibyte}`));
  refusedAt(web(`${mebibyte}: 1`));
  refusedAt(web(`ports: ["${mebibyte}"]`));
  refusedAt(web(`options: ["--${mebibyte}"]`));
  refusedAt(web(`options: ["--memory=${mebibyte}"]`));
  refusedAt(web(`environment: {"${mebibyte}": 1, "A B": 2}`));
  refusedAt(web(`labels: {launcher.${mebibyte}: 1}`));
  refusedAt(web(`healthcheck: {test: x, interval: ${mebibyte}}`));
  refusedAt(web(`volumes: ["${mebibyte}"]`));
  refusedAt(webJson({ image: mebibyte }), "json");
  refusedAt(`# ${mebibyte}\n${web("ports: [x]")}`);
  const many = Array.from({ length: 20_000 }, (_, i) => `port${i}: 1`);
  assert.equal(refusedAt(web(...many)).length, 100, "the first hundred problems");
  const json = webJson(Object.fromEntries(many.map((line) => [line.split(":")[0], 1])));
  assert.equal(refusedAt(json, "json").length, 100);
});

Deno.test("several YAML documents name how many, at the second", () => {
  const details = refused("name: a\ncontainers: []\n---\nname: b\n---\nname: c\n");
  assert.deepEqual(details, [{
    message: "manifest must be one YAML document, found 3",
    line: 3,
    column: 1,
  }]);
});

Deno.test("deep nesting is refused before any parser recurses", () => {
  const depth = 20_000;
  const message = "manifest is nested too deeply: lists and mappings nest at most 64 levels";
  const cases: [string, "yaml" | "json"][] = [
    [`name: a\ncontainers: ${"[".repeat(depth)}${"]".repeat(depth)}\n`, "yaml"],
    [`name: a\ncontainers: ${"{a: ".repeat(depth)}1${"}".repeat(depth)}\n`, "yaml"],
    [`name: a\ncontainers:\n  ${"- ".repeat(depth)}x\n`, "yaml"],
    [
      `name: a\ncontainers:\n${
        Array.from({ length: 200 }, (_, i) => `${" ".repeat(i + 1)}a:`).join("\n")
      } 1\n`,
      "yaml",
    ],
    [`{"name":"a","containers":${"[".repeat(depth)}${"]".repeat(depth)}}`, "json"],
    [`{"name":"a","containers":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`, "json"],
    [webJson({ environment: JSON.parse(`${'{"a":'.repeat(100)}1${"}".repeat(100)}`) }), "json"],
  ];
  for (const [text, format] of cases) {
    const details = refused(text, format);
    assert.deepEqual(details.map((d) => d.message), [message]);
    assert.ok(details[0].path?.startsWith("containers"), details[0].path);
    if (format === "yaml") assert.ok(details[0].line);
  }
  // Nesting as deep as a manifest needs is fine.
  parseManifest(web("healthcheck: {test: [CMD, x]}"), "yaml");
});
