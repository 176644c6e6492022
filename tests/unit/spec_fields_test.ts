import assert from "node:assert/strict";
import { parseManifest } from "../../src/manifest/parse.ts";
import { manifestProblems } from "./fixtures.ts";

/** A manifest with one container `web` whose further lines are `lines`. */
function web(...lines: string[]): string {
  return [
    "name: shop",
    "containers:",
    "  - name: web",
    "    host: a",
    "    image: i",
    ...lines.map((line) => `    ${line}`),
  ].join("\n") + "\n";
}

Deno.test("parseManifest reads every first-class field as written", () => {
  const text = web(
    "healthcheck:",
    "  test: wget -q -O- localhost",
    "  interval: 10s",
    "  timeout: 500ms",
    "  retries: 3",
    "  start_period: 1m30s",
    'restart: "on-failure:5"',
    'volumes: ["/srv/data:/data:ro", "cache:/cache"]',
    "labels: {tier: front, replicas: 2, public: true}",
    "resources: {memory: 256m, cpus: 0.5}",
    "pull: always",
    "stop_timeout: 30s",
  );
  const [container] = parseManifest(text, "yaml").containers;
  assert.deepEqual(container.spec, {
    name: "web",
    host: "a",
    image: "i",
    healthcheck: {
      test: "wget -q -O- localhost",
      interval: "10s",
      timeout: "500ms",
      retries: 3,
      start_period: "1m30s",
    },
    restart: "on-failure:5",
    volumes: ["/srv/data:/data:ro", "cache:/cache"],
    labels: { tier: "front", replicas: 2, public: true },
    resources: { memory: "256m", cpus: 0.5 },
    pull: "always",
    stop_timeout: "30s",
  });
  assert.deepEqual(container.normalized, {
    name: "web",
    host: "a",
    image: "i",
    ports: [],
    environment: {},
    options: [],
    runOptions: {},
    healthcheck: {
      test: ["CMD-SHELL", "wget -q -O- localhost"],
      interval: 10e9,
      timeout: 500e6,
      retries: 3,
      startPeriod: 90e9,
    },
    restart: { name: "on-failure", maxRetries: 5 },
    volumes: ["/srv/data:/data:ro", "cache:/cache"],
    labels: { tier: "front", replicas: "2", public: "true" },
    resources: { memory: 256 * 1024 ** 2, nanoCpus: 500_000_000 },
    pull: "always",
    stopTimeout: 30,
  });
});

Deno.test("parseManifest reads health check durations in the one duration grammar", () => {
  const check = (interval: string) =>
    parseManifest(web(`healthcheck: {test: x, interval: ${interval}}`), "yaml").containers[0]
      .normalized.healthcheck?.interval;
  // Once refused here while --events-retention took them: one grammar for every duration.
  assert.equal(check("7d"), 7 * 86_400e9);
  assert.equal(check("2h45m"), 9900e9);
  assert.equal(check("1.5h"), 5400e9);
  // A plain number is seconds, as everywhere else.
  assert.equal(check("10"), 10e9);
  assert.equal(check("'10'"), 10e9);
  assert.equal(check("0.5"), 500e6);
  assert.equal(
    manifestProblems(web("healthcheck: {test: x, interval: 1x}"))[0].message,
    'interval "1x" is not a duration such as 500ms, 30s, 1m30s, 2h or 7d',
  );
  assert.equal(
    manifestProblems(web("healthcheck: {test: x, timeout: 0}"))[0].message,
    `timeout has value "0" below the engine's minimum of 1ms`,
  );
  // Sums stay exact: a stop timeout of 1500ms0.5s is two whole seconds.
  const stop = (value: string) =>
    parseManifest(web(`stop_timeout: ${value}`), "yaml").containers[0].normalized.stopTimeout;
  assert.equal(stop("1500ms0.5s"), 2);
  assert.equal(stop("1d"), 86_400);
  assert.equal(stop("'2m'"), 120);
});

Deno.test("parseManifest takes the other spellings of the first-class fields", () => {
  const { spec } = parseManifest(
    web(
      "healthcheck: {test: [CMD, wget, -q, localhost]}",
      "restart: no",
      "resources: {memory: 268435456, cpus: '2'}",
      "pull: never",
      "stop_timeout: 10",
    ),
    "yaml",
  ).containers[0];
  assert.deepEqual(spec.healthcheck, { test: ["CMD", "wget", "-q", "localhost"] });
  // YAML 1.2: `no` is a string, not false.
  assert.equal(spec.restart, "no");
  assert.deepEqual(spec.resources, { memory: 268435456, cpus: "2" });
  assert.equal(spec.stop_timeout, 10);
  for (const test of ["[NONE]", "[CMD-SHELL, 'exit 0']", "[curl, -f, localhost]"]) {
    parseManifest(web(`healthcheck: {test: ${test}}`), "yaml");
  }
  for (const restart of ["always", "unless-stopped", "on-failure", "on-failure:0"]) {
    parseManifest(web(`restart: ${restart}`), "yaml");
  }
  for (const timeout of ["0", "'45'", "2m", "1m30s", "1500ms0.5s"]) {
    parseManifest(web(`stop_timeout: ${timeout}`), "yaml");
  }
});

Deno.test("parseManifest rejects a bad health check at the key at fault", () => {
  assert.deepEqual(
    manifestProblems(web(
      "healthcheck:",
      "  test: [CMD]",
      "  interval: [10]",
      "  timeout: 0s",
      "  retries: -1",
      "  start_period: 5x",
      "  start_interval: 1s",
    )),
    [
      {
        path: "containers[0].healthcheck.test",
        message: "test starts with CMD but names no program after it",
        line: 7,
        column: 13,
      },
      {
        path: "containers[0].healthcheck.interval",
        message: "must be a duration such as 500ms, 30s, 1m30s, 2h or 7d, not a list",
        line: 8,
        column: 17,
      },
      {
        path: "containers[0].healthcheck.timeout",
        message: `timeout has value "0s" below the engine's minimum of 1ms`,
        line: 9,
        column: 16,
      },
      {
        path: "containers[0].healthcheck.retries",
        message: "must be a whole number of 0 or more, not the number -1",
        line: 10,
        column: 16,
      },
      {
        path: "containers[0].healthcheck.start_period",
        message: 'start_period "5x" is not a duration such as 500ms, 30s, 1m30s, 2h or 7d',
        line: 11,
        column: 21,
      },
      {
        path: "containers[0].healthcheck.start_interval",
        message:
          'unknown key "start_interval" (expected test, interval, timeout, retries, start_period)',
        line: 12,
        column: 7,
      },
    ],
  );
  assert.deepEqual(manifestProblems(web("healthcheck: {interval: 1s}")), [{
    path: "containers[0].healthcheck.test",
    message: 'missing required key "test"',
    line: 6,
    column: 18,
  }]);
  const test = (value: string) => manifestProblems(web(`healthcheck: {test: ${value}}`))[0].message;
  assert.equal(test("''"), "test is empty: expected a shell command");
  assert.equal(test("[]"), "test is an empty list: expected a command");
  assert.equal(test("[NONE, x]"), "test starts with NONE, which takes nothing after it");
  assert.equal(
    test("[CMD-SHELL, a, b]"),
    "test starts with CMD-SHELL, which takes exactly one shell command after it",
  );
  assert.equal(test("[1, 2]"), "must be a string or a list of strings");
  assert.equal(test("{a: 1}"), "must be a string or a list of strings");
  assert.equal(
    manifestProblems(web("healthcheck: {test: x, retries: 1.5}"))[0].message,
    "must be a whole number of 0 or more, not the number 1.5",
  );
  assert.equal(
    manifestProblems(web("healthcheck: wget localhost"))[0].message,
    'must be a mapping, not the string "wget localhost"',
  );
});

Deno.test("parseManifest rejects bad restart, volumes, labels, resources, pull, stop_timeout", () => {
  assert.deepEqual(
    manifestProblems(web(
      "restart: sometimes",
      "volumes: [data, 3]",
      "labels: {launcher.manifest: x, 'a b': 1, ok: [1]}",
      "resources: {memory: lots, cpus: 0, disk: 1}",
      "pull: maybe",
      "stop_timeout: 1500ms",
    )),
    [
      {
        path: "containers[0].restart",
        message:
          'restart has malformed value "sometimes": expected no, always, unless-stopped or on-failure[:N]',
        line: 6,
        column: 14,
      },
      {
        path: "containers[0].volumes[0]",
        message:
          'volume has malformed value "data": expected SOURCE:/PATH[:MODES], such as /srv/data:/data:ro',
        line: 7,
        column: 15,
      },
      {
        path: "containers[0].volumes[1]",
        message: 'must be a string such as "/srv/data:/data:ro", not the number 3',
        line: 7,
        column: 21,
      },
      {
        path: 'containers[0].labels["launcher.manifest"]',
        message:
          `key "launcher.manifest" is reserved: keys starting with "launcher." are launcher's`,
        line: 8,
        column: 14,
      },
      {
        path: 'containers[0].labels["a b"]',
        message: "key \"a b\" must be a label key without '=' or spaces",
        line: 8,
        column: 36,
      },
      {
        path: "containers[0].labels.ok",
        message: "must be a string, number or boolean",
        line: 8,
        column: 50,
      },
      {
        path: "containers[0].resources.memory",
        message:
          'memory has malformed value "lots": expected a size such as 256m, 1g or a number of bytes',
        line: 9,
        column: 25,
      },
      {
        path: "containers[0].resources.cpus",
        message:
          'cpus has malformed value "0": expected a number of CPUs greater than 0, such as 0.5 or 2',
        line: 9,
        column: 37,
      },
      {
        path: "containers[0].resources.disk",
        message: 'unknown key "disk" (expected memory, cpus)',
        line: 9,
        column: 40,
      },
      {
        path: "containers[0].pull",
        message: 'must be missing, always or never, not the string "maybe"',
        line: 10,
        column: 11,
      },
      {
        path: "containers[0].stop_timeout",
        message:
          'stop_timeout has malformed value "1500ms": the engine takes whole seconds, such as 30s or 2m',
        line: 11,
        column: 19,
      },
    ],
  );
  const first = (...lines: string[]) => manifestProblems(web(...lines))[0].message;
  assert.equal(
    first("restart: always:3"),
    'restart has malformed value "always:3": expected no, always, unless-stopped or on-failure[:N]',
  );
  assert.equal(
    first("restart: false"),
    "must be no, always, unless-stopped or on-failure[:N], not false",
  );
  assert.equal(
    first("volumes: ['/a:/a:fast']"),
    'volume has malformed value "/a:/a:fast": unknown mode "fast" (expected ro, rw, z, Z, ...)',
  );
  assert.equal(first("volumes: /a:/a"), 'must be a list, not the string "/a:/a"');
  assert.equal(first("labels: [a=b]"), "must be a mapping, not a list");
  assert.equal(first("environment: [A=1]"), "must be a mapping, not a list");
  assert.equal(first("labels: {__proto__: x}"), 'label name "__proto__" is not supported');
  assert.equal(first("resources: {memory: [1]}"), "must be a size such as 256m or 1g, not a list");
  assert.equal(
    first("stop_timeout: -1"),
    "stop_timeout has value -1: expected a whole number of seconds, 0 or more",
  );
  assert.equal(
    first("stop_timeout: 2.5"),
    "stop_timeout has value 2.5: expected a whole number of seconds, 0 or more",
  );
  assert.equal(
    first("stop_timeout: soon"),
    'stop_timeout "soon" is not a duration such as 500ms, 30s, 1m30s, 2h or 7d',
  );
  assert.equal(first("pull: true"), "must be missing, always or never, not true");
});

Deno.test("parseManifest rejects a field and an option for the same setting, naming both", () => {
  assert.deepEqual(
    manifestProblems(web(
      "restart: always",
      "volumes: [/a:/a]",
      "labels: {tier: front, team: shop}",
      "resources: {memory: 256m, cpus: 1}",
      "options:",
      "  - --restart=no",
      "  - -v",
      "  - /b:/b",
      "  - --label=tier=back",
      "  - --label=other=x",
      "  - -m 1g",
      "  - --cpus=2",
    )),
    [
      {
        path: "containers[0].restart",
        message:
          'restart is also set by option "--restart=no" (containers[0].options[0], line 11): set it in one place',
        line: 6,
        column: 14,
      },
      {
        path: "containers[0].volumes",
        message:
          'volumes are also set by option "-v /b:/b" (containers[0].options[1], line 12): set them in one place',
        line: 7,
        column: 14,
      },
      {
        path: "containers[0].labels.tier",
        message:
          'label "tier" is also set by option "--label=tier=back" (containers[0].options[3], line 14): set it in one place',
        line: 8,
        column: 14,
      },
      {
        path: "containers[0].resources.memory",
        message:
          'resources.memory is also set by option "-m 1g" (containers[0].options[5], line 16): set it in one place',
        line: 9,
        column: 25,
      },
      {
        path: "containers[0].resources.cpus",
        message:
          'resources.cpus is also set by option "--cpus=2" (containers[0].options[6], line 17): set it in one place',
        line: 9,
        column: 37,
      },
    ],
  );
});

Deno.test("parseManifest lets fields and options that set different things live together", () => {
  const { spec } = parseManifest(
    web(
      "restart: always",
      "labels: {tier: front}",
      "resources: {memory: 256m}",
      'options: ["--label=team=shop", "--cpus=1", "--privileged"]',
    ),
    "yaml",
  ).containers[0];
  assert.deepEqual(spec.options, ["--label=team=shop", "--cpus=1", "--privileged"]);
});

Deno.test("parseManifest names the conflicting option's line in a JSON body too", () => {
  const text = `{
  "name": "shop",
  "containers": [{
    "name": "web", "host": "a", "image": "i",
    "restart": "always",
    "options": ["--privileged", "--restart", "no"]
  }]
}`;
  assert.deepEqual(manifestProblems(text, "json"), [{
    path: "containers[0].restart",
    message:
      'restart is also set by option "--restart no" (containers[0].options[1], line 6): set it in one place',
    line: 5,
    column: 16,
  }]);
});

Deno.test("parseManifest leaves conflicts to the options' own errors when they do not parse", () => {
  assert.deepEqual(manifestProblems(web("restart: always", 'options: ["--restart=sometimes"]')), [{
    path: "containers[0].options[0]",
    message:
      'option "--restart" has malformed value "sometimes": expected no, always, unless-stopped or on-failure[:N]',
    line: 7,
    column: 15,
  }]);
});
