import assert from "node:assert/strict";
import type { ErrorDetail } from "../../src/api/schemas.ts";
import { specHash } from "../../src/manifest/hash.ts";
import { ManifestError, parseManifest } from "../../src/manifest/parse.ts";

/** Asserts that parsing fails with exactly this message and these details. */
function rejects(
  text: string,
  format: "yaml" | "json",
  message: string,
  details: ErrorDetail[],
): void {
  assert.throws(() => parseManifest(text, format), (error) => {
    assert.ok(error instanceof ManifestError);
    assert.equal(error.code, "invalid_manifest");
    assert.equal(error.message, message);
    assert.deepEqual(error.details, details);
    return true;
  });
}

/** A valid manifest with one container whose body is `lines` (indented under `- `). */
function oneContainer(...lines: string[]): string {
  return ["name: shop", "containers:", ...lines.map((line, i) => (i ? "    " : "  - ") + line)]
    .join("\n") + "\n";
}

Deno.test("parseManifest reads the full format", () => {
  const text = `# the shop
name: shop
containers:
  - name: web
    host: host-a
    image: nginx:1.27
    entrypoint: /docker-entrypoint.sh
    cmd: ["nginx", "-g", "daemon off;"]
    ports: ["8080:80", "127.0.0.1:5353:53/udp"]
    environment: { MODE: prod, WORKERS: 4, DEBUG: false }
    options: ["--restart=always", "--memory=256m"]
  - name: db
    host: host-b.example.com
    image: postgres:17
    entrypoint: [docker-entrypoint.sh]
    cmd: postgres -c 'max_connections=200'
`;
  const manifest = parseManifest(text, "yaml");
  assert.equal(manifest.name, "shop");
  assert.deepEqual(manifest.containers.map((c) => c.spec), [
    {
      name: "web",
      host: "host-a",
      image: "nginx:1.27",
      entrypoint: "/docker-entrypoint.sh",
      cmd: ["nginx", "-g", "daemon off;"],
      ports: ["8080:80", "127.0.0.1:5353:53/udp"],
      environment: { MODE: "prod", WORKERS: 4, DEBUG: false },
      options: ["--restart=always", "--memory=256m"],
    },
    {
      name: "db",
      host: "host-b.example.com",
      image: "postgres:17",
      entrypoint: ["docker-entrypoint.sh"],
      cmd: "postgres -c 'max_connections=200'",
    },
  ]);
  assert.deepEqual(manifest.containers[0].normalized, {
    name: "web",
    host: "host-a",
    image: "nginx:1.27",
    entrypoint: ["/docker-entrypoint.sh"],
    cmd: ["nginx", "-g", "daemon off;"],
    ports: [
      { hostIp: "127.0.0.1", hostPort: 5353, containerPort: 53, protocol: "udp" },
      { hostPort: 8080, containerPort: 80, protocol: "tcp" },
    ],
    environment: { MODE: "prod", WORKERS: "4", DEBUG: "false" },
    options: ["--restart=always", "--memory=256m"],
    runOptions: { restart: { name: "always" }, memory: 256 * 1024 ** 2 },
    volumes: [],
    labels: {},
    resources: {},
  });
  assert.deepEqual(manifest.containers[1].normalized.cmd, [
    "postgres",
    "-c",
    "max_connections=200",
  ]);
  assert.equal(manifest.containers[0].hash, specHash(manifest.containers[0].spec));
});

Deno.test("parseManifest reads the same manifest sent as JSON", () => {
  const manifest = {
    name: "shop",
    containers: [{ name: "web", host: "host-a", image: "nginx", cmd: "nginx -g 'daemon off;'" }],
  };
  const specs = (text: string) => parseManifest(text, "json").containers.map((c) => c.spec);
  assert.deepEqual(specs(JSON.stringify(manifest, null, 2)), manifest.containers);
  assert.deepEqual(specs(`\uFEFF${JSON.stringify(manifest)}`), manifest.containers);
});

Deno.test("parseManifest accepts an empty container list and YAML anchors", () => {
  assert.deepEqual(parseManifest("name: shop\ncontainers: []\n", "yaml"), {
    name: "shop",
    containers: [],
  });
  const text = `name: shop
containers:
  - name: a
    host: h
    image: i
    options: &opts ["--restart=always"]
  - name: b
    host: h
    image: i
    options: *opts
`;
  assert.deepEqual(parseManifest(text, "yaml").containers[1].spec.options, ["--restart=always"]);
});

Deno.test("parseManifest rejects an empty body", () => {
  const empty = [{ message: "manifest is empty" }];
  rejects("", "yaml", "manifest is empty", empty);
  rejects("  \n\t\n", "yaml", "manifest is empty", empty);
  rejects("# nothing here\n", "yaml", "manifest is empty", empty);
  rejects("---\n", "yaml", "manifest is empty", empty);
  rejects("~\n", "yaml", "manifest is empty", empty);
  rejects("", "json", "manifest is empty", empty);
  rejects(" \n", "json", "manifest is empty", empty);
});

Deno.test("parseManifest rejects malformed YAML with its line and column", () => {
  rejects(
    "name: shop\ncontainers:\n  - name: [web\n",
    "yaml",
    "line 4, column 1: flow sequence in block collection must be sufficiently indented and end with a ]",
    [{
      message: "flow sequence in block collection must be sufficiently indented and end with a ]",
      line: 4,
      column: 1,
    }],
  );
  rejects(
    "name: shop\ncontainers:\n  - name: web\n    host: a\n  image: i\n",
    "yaml",
    "line 5, column 1: all mapping items must start at the same column",
    [{ message: "all mapping items must start at the same column", line: 5, column: 1 }],
  );
  rejects(
    "name: shop\n\tcontainers: []\n",
    "yaml",
    "line 2, column 1: tabs are not allowed as indentation",
    [{ message: "tabs are not allowed as indentation", line: 2, column: 1 }],
  );
  rejects(
    "name: 'shop\ncontainers: []\n",
    "yaml",
    "line 3, column 1: missing closing 'quote",
    [{ message: "missing closing 'quote", line: 3, column: 1 }],
  );
  rejects(
    "name: shop\nname: shop\ncontainers: []\n",
    "yaml",
    "name (line 2, column 1): map keys must be unique",
    [{ path: "name", message: "map keys must be unique", line: 2, column: 1 }],
  );
  rejects(
    "name: a\ncontainers: []\n---\nname: b\n",
    "yaml",
    "line 3, column 1: manifest must be one YAML document, found 2",
    [{ message: "manifest must be one YAML document, found 2", line: 3, column: 1 }],
  );
  rejects(
    "name: a\ncontainers: []\n---\nname: b\n---\n---\n",
    "yaml",
    "line 3, column 1: manifest must be one YAML document, found 4",
    [{ message: "manifest must be one YAML document, found 4", line: 3, column: 1 }],
  );
  rejects(
    "name: shop\ncontainers:\n  - *web\n",
    "yaml",
    "containers[0] (line 3, column 5): alias *web has no anchor &web before it",
    [{
      path: "containers[0]",
      message: "alias *web has no anchor &web before it",
      line: 3,
      column: 5,
    }],
  );
  const tag = "tag !custom is not supported: write plain strings, numbers, booleans, lists " +
    "and mappings";
  rejects(
    "name: shop\ncontainers: !custom []\n",
    "yaml",
    `containers (line 2, column 13): ${tag}`,
    [{ path: "containers", message: tag, line: 2, column: 13 }],
  );
});

Deno.test("parseManifest rejects a top level that is not a mapping", () => {
  rejects(
    "- name: web\n",
    "yaml",
    "line 1, column 1: manifest must be a mapping with name and containers, not a list",
    [{
      message: "manifest must be a mapping with name and containers, not a list",
      line: 1,
      column: 1,
    }],
  );
  rejects(
    "\n  shop\n",
    "yaml",
    'line 2, column 3: manifest must be a mapping with name and containers, not the string "shop"',
    [{
      message: 'manifest must be a mapping with name and containers, not the string "shop"',
      line: 2,
      column: 3,
    }],
  );
  rejects(
    "42",
    "json",
    "manifest must be a mapping with name and containers, not the number 42",
    [{ message: "manifest must be a mapping with name and containers, not the number 42" }],
  );
  rejects(
    "[]",
    "json",
    "manifest must be a mapping with name and containers, not a list",
    [{ message: "manifest must be a mapping with name and containers, not a list" }],
  );
});

Deno.test("parseManifest rejects JSON sent as YAML and YAML sent as JSON", () => {
  const message = "body is JSON but was sent as YAML; send it as application/json";
  rejects('{"name": "shop", "containers": []}', "yaml", message, [{ message }]);
  rejects('\n  [{"name": "shop"}]', "yaml", message, [{ message }]);
  const notJson = "body is not JSON; send YAML as application/x-yaml";
  rejects("name: shop\ncontainers: []\n", "json", notJson, [{ message: notJson }]);
});

Deno.test("parseManifest rejects malformed JSON with its line and column", () => {
  rejects(
    '{"name": "shop",\n "containers": [],}',
    "json",
    "line 2, column 19: expected double-quoted property name in JSON",
    [{ message: "expected double-quoted property name in JSON", line: 2, column: 19 }],
  );
  rejects(
    '{"name": "shop",\n "containers": [',
    "json",
    "line 2, column 17: unexpected end of JSON input",
    [{ message: "unexpected end of JSON input", line: 2, column: 17 }],
  );
  rejects(
    '{"name": "shop", "containers": [}',
    "json",
    "unexpected token '}' in JSON",
    [{ message: "unexpected token '}' in JSON" }],
  );
});

Deno.test("parseManifest rejects unknown keys with their name and line", () => {
  rejects(
    "name: shop\nversion: 2\ncontainers: []\n",
    "yaml",
    'version (line 2, column 1): unknown key "version" ' +
      "(expected name, containers, update, reschedule_after)",
    [{
      path: "version",
      message: 'unknown key "version" (expected name, containers, update, reschedule_after)',
      line: 2,
      column: 1,
    }],
  );
  const allowed = "name, host, image, entrypoint, cmd, ports, environment, options, " +
    "healthcheck, restart, volumes, labels, resources, pull, stop_timeout, replicas, placement";
  rejects(
    oneContainer("name: web", "host: a", "image: i", "enviroment: {}", "deploy: 2"),
    "yaml",
    'containers[0].enviroment (line 6, column 5): unknown key "enviroment" (did you mean "environment"?) (and 1 more problem)',
    [
      {
        path: "containers[0].enviroment",
        message: 'unknown key "enviroment" (did you mean "environment"?)',
        line: 6,
        column: 5,
      },
      {
        path: "containers[0].deploy",
        message: `unknown key "deploy" (expected ${allowed})`,
        line: 7,
        column: 5,
      },
    ],
  );
});

Deno.test("parseManifest rejects missing name and image", () => {
  rejects(
    "containers: []\n",
    "yaml",
    'name (line 1, column 1): missing required key "name"',
    [{ path: "name", message: 'missing required key "name"', line: 1, column: 1 }],
  );
  // Without host the spec is placed, not wrong (placement_fields_test.ts).
  rejects(
    oneContainer("name: web"),
    "yaml",
    'containers[0].image (line 3, column 5): missing required key "image"',
    [{ path: "containers[0].image", message: 'missing required key "image"', line: 3, column: 5 }],
  );
  rejects(
    oneContainer("host: a", "image: i"),
    "yaml",
    'containers[0].name (line 3, column 5): missing required key "name"',
    [{ path: "containers[0].name", message: 'missing required key "name"', line: 3, column: 5 }],
  );
  rejects(
    oneContainer("name: web", "host: a", "image:"),
    "yaml",
    "containers[0].image (line 5, column 11): must be a string, not empty",
    [{ path: "containers[0].image", message: "must be a string, not empty", line: 5, column: 11 }],
  );
});

Deno.test("parseManifest rejects bad names and wrong types", () => {
  rejects(
    "name: Shop\ncontainers: []\n",
    "yaml",
    "name (line 1, column 7): must match [a-z0-9][a-z0-9-]{0,62}",
    [{ path: "name", message: "must match [a-z0-9][a-z0-9-]{0,62}", line: 1, column: 7 }],
  );
  rejects(
    oneContainer("name: web_1", "host: 'bad host'", "image: ''"),
    "yaml",
    "containers[0].name (line 3, column 11): must match [a-z0-9][a-z0-9-]{0,62} (and 2 more problems)",
    [
      {
        path: "containers[0].name",
        message: "must match [a-z0-9][a-z0-9-]{0,62}",
        line: 3,
        column: 11,
      },
      {
        path: "containers[0].host",
        message: "must be a host name ([A-Za-z0-9._-], up to 253)",
        line: 4,
        column: 11,
      },
      { path: "containers[0].image", message: "must not be empty", line: 5, column: 12 },
    ],
  );
  rejects(
    "name: 12\ncontainers: {web: {}}\n",
    "yaml",
    "name (line 1, column 7): must be a string, not the number 12 (and 1 more problem)",
    [
      { path: "name", message: "must be a string, not the number 12", line: 1, column: 7 },
      { path: "containers", message: "must be a list, not a mapping", line: 2, column: 13 },
    ],
  );
  rejects(
    "name: shop\ncontainers:\n  - web\n  - [a, b]\n",
    "yaml",
    'containers[0] (line 3, column 5): must be a mapping, not the string "web" (and 1 more problem)',
    [
      {
        path: "containers[0]",
        message: 'must be a mapping, not the string "web"',
        line: 3,
        column: 5,
      },
      { path: "containers[1]", message: "must be a mapping, not a list", line: 4, column: 5 },
    ],
  );
  rejects(
    oneContainer("name: web", "host: a", "image: i", "environment:", "  'A B': 1", "  C: [x]"),
    "yaml",
    `containers[0].environment["A B"] (line 7, column 7): key "A B" must be a variable name without '=' or spaces (and 1 more problem)`,
    [
      {
        path: 'containers[0].environment["A B"]',
        message: `key "A B" must be a variable name without '=' or spaces`,
        line: 7,
        column: 7,
      },
      {
        path: "containers[0].environment.C",
        message: "must be a string, number, boolean or { secret: NAME }",
        line: 8,
        column: 10,
      },
    ],
  );
});

Deno.test("parseManifest rejects variable names that would vanish in a JS object", () => {
  rejects(
    oneContainer("name: web", "host: a", "image: i", "environment: {A: 1, constructor: 2}"),
    "yaml",
    'containers[0].environment.constructor (line 6, column 25): variable name "constructor" is not supported',
    [{
      path: "containers[0].environment.constructor",
      message: 'variable name "constructor" is not supported',
      line: 6,
      column: 25,
    }],
  );
});

Deno.test("parseManifest rejects duplicate container names, naming the first one's line", () => {
  const text = `name: shop
containers:
  - name: web
    host: a
    image: i
  - name: db
    host: a
    image: i
  - name: web
    host: b
    image: i
`;
  rejects(
    text,
    "yaml",
    'containers[2].name (line 9, column 11): container name "web" is already used on line 3',
    [{
      path: "containers[2].name",
      message: 'container name "web" is already used on line 3',
      line: 9,
      column: 11,
    }],
  );
});

Deno.test("parseManifest rejects bad ports at the port", () => {
  rejects(
    oneContainer(
      "name: web",
      "host: a",
      "image: i",
      "ports:",
      '  - "8080:80"',
      '  - "x"',
      "  - 80",
    ),
    "yaml",
    'containers[0].ports[1] (line 8, column 9): port "x" has container port "x" that is not a number (and 1 more problem)',
    [
      {
        path: "containers[0].ports[1]",
        message: 'port "x" has container port "x" that is not a number',
        line: 8,
        column: 9,
      },
      {
        path: "containers[0].ports[2]",
        message: 'must be a string such as "8080:80"',
        line: 9,
        column: 9,
      },
    ],
  );
  rejects(
    oneContainer("name: web", "host: a", "image: i", 'ports: ["99999:80"]'),
    "yaml",
    'containers[0].ports[0] (line 6, column 13): port "99999:80" has host port 99999 out of range 1-65535',
    [{
      path: "containers[0].ports[0]",
      message: 'port "99999:80" has host port 99999 out of range 1-65535',
      line: 6,
      column: 13,
    }],
  );
});

Deno.test("parseManifest rejects unknown and malformed options at the option", () => {
  rejects(
    oneContainer(
      "name: web",
      "host: a",
      "image: i",
      "options:",
      "  - --restart=always",
      "  - --pid=host",
    ),
    "yaml",
    'containers[0].options[1] (line 8, column 9): unknown option "--pid"',
    [{
      path: "containers[0].options[1]",
      message: 'unknown option "--pid"',
      line: 8,
      column: 9,
    }],
  );
  rejects(
    oneContainer("name: web", "host: a", "image: i", 'options: ["--memory", "lots"]'),
    "yaml",
    'containers[0].options[1] (line 6, column 27): option "--memory" has malformed value "lots": expected a size such as 256m, 1g or a number of bytes',
    [{
      path: "containers[0].options[1]",
      message:
        'option "--memory" has malformed value "lots": expected a size such as 256m, 1g or a number of bytes',
      line: 6,
      column: 27,
    }],
  );
  rejects(
    oneContainer("name: web", "host: a", "image: i", "options: [--restart]"),
    "yaml",
    'containers[0].options[0] (line 6, column 15): option "--restart" is missing its value',
    [{
      path: "containers[0].options[0]",
      message: 'option "--restart" is missing its value',
      line: 6,
      column: 15,
    }],
  );
  rejects(
    oneContainer("name: web", "host: a", "image: i", "options: --privileged"),
    "yaml",
    'containers[0].options (line 6, column 14): must be a list, not the string "--privileged"',
    [{
      path: "containers[0].options",
      message: 'must be a list, not the string "--privileged"',
      line: 6,
      column: 14,
    }],
  );
});

Deno.test("parseManifest takes entrypoint and cmd as a string or a list", () => {
  const manifest = parseManifest(
    oneContainer("name: web", "host: a", "image: i", "entrypoint: sh -c", "cmd: [echo, hi]"),
    "yaml",
  );
  assert.equal(manifest.containers[0].spec.entrypoint, "sh -c");
  assert.deepEqual(manifest.containers[0].spec.cmd, ["echo", "hi"]);
  assert.deepEqual(manifest.containers[0].normalized.entrypoint, ["sh", "-c"]);
  rejects(
    oneContainer("name: web", "host: a", "image: i", `cmd: "echo 'hi"`),
    "yaml",
    `containers[0].cmd (line 6, column 10): command "echo 'hi" has an unterminated single quote at character 6`,
    [{
      path: "containers[0].cmd",
      message: `command "echo 'hi" has an unterminated single quote at character 6`,
      line: 6,
      column: 10,
    }],
  );
  rejects(
    oneContainer("name: web", "host: a", "image: i", "entrypoint: [sh, 1]", "cmd: {a: 1}"),
    "yaml",
    "containers[0].entrypoint (line 6, column 17): must be a string or a list of strings (and 1 more problem)",
    [
      {
        path: "containers[0].entrypoint",
        message: "must be a string or a list of strings",
        line: 6,
        column: 17,
      },
      {
        path: "containers[0].cmd",
        message: "must be a string or a list of strings",
        line: 7,
        column: 10,
      },
    ],
  );
});

Deno.test("parseManifest gives line and column for problems in a JSON body too", () => {
  const text = `{
  "name": "shop",
  "containers": [
    {"name": "web", "host": "a", "image": "i", "ports": ["80:x"], "extra": 1}
  ]
}`;
  rejects(
    text,
    "json",
    'containers[0].ports[0] (line 4, column 58): port "80:x" has container port "x" that is not a number (and 1 more problem)',
    [
      {
        path: "containers[0].ports[0]",
        message: 'port "80:x" has container port "x" that is not a number',
        line: 4,
        column: 58,
      },
      {
        path: "containers[0].extra",
        message:
          `unknown key "extra" (expected name, host, image, entrypoint, cmd, ports, environment, ` +
          `options, healthcheck, restart, volumes, labels, resources, pull, stop_timeout, ` +
          `replicas, placement)`,
        line: 4,
        column: 67,
      },
    ],
  );
});
