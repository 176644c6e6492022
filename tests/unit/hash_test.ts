import assert from "node:assert/strict";
import { specHash } from "../../src/manifest/hash.ts";
import type { Spec } from "../../src/manifest/schema.ts";

const base: Spec = {
  name: "web",
  host: "host-a",
  image: "nginx:1.27",
  entrypoint: "/docker-entrypoint.sh",
  cmd: ["nginx", "-g", "daemon off;"],
  ports: ["8080:80", "127.0.0.1:5353:53/udp"],
  environment: { MODE: "prod", WORKERS: 4 },
  options: ["--restart=always", "--memory=256m", "-v", "/a:/a", "-v", "/b:/b"],
};

Deno.test("specHash is a sha256 hex digest, stable for a given spec", () => {
  const hash = specHash(base);
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.equal(specHash(structuredClone(base)), hash);
});

Deno.test("specHash gives specs that mean the same the same hash", () => {
  const same: Spec[] = [
    // Key order, in the spec and in the environment.
    {
      options: base.options,
      environment: { WORKERS: 4, MODE: "prod" },
      ports: base.ports,
      cmd: base.cmd,
      entrypoint: base.entrypoint,
      image: base.image,
      host: base.host,
      name: base.name,
    },
    // Commands as a string or as a list.
    { ...base, entrypoint: ["/docker-entrypoint.sh"], cmd: "nginx -g 'daemon off;'" },
    // Environment values stringified.
    { ...base, environment: { MODE: "prod", WORKERS: "4" } },
    // Ports in another order and spelling.
    { ...base, ports: ["127.0.0.1:5353:53/udp", "8080:80/tcp"] },
    // Options in another spelling, same order.
    {
      ...base,
      options: ["--restart always", "-m", "256m", "--volume=/a:/a", "--volume /b:/b"],
    },
  ];
  const hash = specHash(base);
  for (const spec of same) assert.equal(specHash(spec), hash, JSON.stringify(spec));
});

Deno.test("specHash treats empty lists and maps as absent", () => {
  const bare: Spec = { name: "web", host: "host-a", image: "nginx" };
  assert.equal(specHash({ ...bare, ports: [], environment: {}, options: [] }), specHash(bare));
});

Deno.test("specHash changes with any meaningful change", () => {
  const changed: Spec[] = [
    { ...base, name: "web2" },
    { ...base, host: "host-b" },
    { ...base, image: "nginx:1.28" },
    { ...base, entrypoint: undefined },
    { ...base, entrypoint: "" },
    { ...base, entrypoint: "/docker-entrypoint.sh --verbose" },
    { ...base, cmd: undefined },
    { ...base, cmd: ["nginx", "-g", "daemon off;", ""] },
    { ...base, cmd: "nginx -g daemon off;" },
    { ...base, ports: ["8080:80"] },
    { ...base, ports: ["8081:80", "127.0.0.1:5353:53/udp"] },
    { ...base, ports: ["8080:80", "127.0.0.1:5353:53/tcp"] },
    { ...base, ports: ["8080:80", "8080:80", "127.0.0.1:5353:53/udp"] },
    { ...base, environment: { MODE: "dev", WORKERS: 4 } },
    { ...base, environment: { MODE: "prod", WORKERS: 4, EXTRA: "" } },
    { ...base, environment: { MODE: "prod" } },
    { ...base, options: ["--restart=always", "--memory=256m"] },
    { ...base, options: ["--restart=always", "--memory=512m", "-v", "/a:/a", "-v", "/b:/b"] },
    // Volume order is kept: repeated flags are applied in the order written.
    { ...base, options: ["--restart=always", "--memory=256m", "-v", "/b:/b", "-v", "/a:/a"] },
  ];
  const hashes = new Set([specHash(base), ...changed.map(specHash)]);
  assert.equal(hashes.size, changed.length + 1);
});

Deno.test("specHash cannot be fooled by values that look like JSON structure", () => {
  const a: Spec = { name: "web", host: "h", image: "i", environment: { A: '","B":"' } };
  const b: Spec = { name: "web", host: "h", image: "i", environment: { 'A","B': "" } };
  assert.notEqual(specHash(a), specHash(b));
});

Deno.test("specHash keeps the hashes of specs written before the first-class fields", () => {
  // Computed with the hash of the previous release: an upgrade must recreate nothing.
  assert.equal(specHash(base), "1ba3ff86e0c87a9534254ff4a75abfbc26ea772e4bcbecf0955a4b4817d6b158");
  assert.equal(
    specHash({ name: "web", host: "host-a", image: "nginx" }),
    "5de24f8404808cfdc135658ce1f9fa9a9ae6b26e8b901b7d6db31a2553e95498",
  );
});

const fields: Spec = {
  name: "web",
  host: "host-a",
  image: "nginx:1.27",
  healthcheck: { test: "curl -f localhost", interval: "10s", timeout: "1s", retries: 3 },
  restart: "on-failure:3",
  volumes: ["/srv:/data:ro", "cache:/cache"],
  labels: { tier: "front", replicas: 2 },
  resources: { memory: "256m", cpus: 0.5 },
  pull: "always",
  stop_timeout: "30s",
};

Deno.test("specHash normalizes the first-class fields", () => {
  const same: Spec[] = [
    {
      ...fields,
      healthcheck: {
        test: ["CMD-SHELL", "curl -f localhost"],
        interval: "10000ms",
        timeout: "1000ms",
        retries: 3,
      },
    },
    { ...fields, labels: { replicas: "2", tier: "front" } },
    { ...fields, resources: { memory: 268435456, cpus: "0.5" } },
    { ...fields, resources: { cpus: 0.5, memory: "256mb" } },
    { ...fields, stop_timeout: 30 },
    { ...fields, stop_timeout: "30" },
  ];
  const hash = specHash(fields);
  for (const spec of same) assert.equal(specHash(spec), hash, JSON.stringify(spec));
  const bare: Spec = { name: "web", host: "host-a", image: "nginx" };
  // The default pull policy and empty fields are the same as none.
  assert.equal(
    specHash({ ...bare, pull: "missing", volumes: [], labels: {}, resources: {} }),
    specHash(bare),
  );
  assert.deepEqual(
    specHash({ ...bare, healthcheck: { test: ["curl", "x"] } }),
    specHash({ ...bare, healthcheck: { test: ["CMD", "curl", "x"] } }),
  );
});

Deno.test("specHash changes with any change to a first-class field", () => {
  const changed: Spec[] = [
    { ...fields, healthcheck: { ...fields.healthcheck!, test: "curl -f localhost:81" } },
    { ...fields, healthcheck: { ...fields.healthcheck!, test: ["curl", "-f", "localhost"] } },
    { ...fields, healthcheck: { ...fields.healthcheck!, interval: "11s" } },
    { ...fields, healthcheck: { ...fields.healthcheck!, retries: 4 } },
    { ...fields, healthcheck: { ...fields.healthcheck!, start_period: "5s" } },
    { ...fields, healthcheck: undefined },
    { ...fields, restart: "on-failure:4" },
    { ...fields, restart: "always" },
    { ...fields, restart: undefined },
    { ...fields, volumes: ["cache:/cache", "/srv:/data:ro"] },
    { ...fields, volumes: ["/srv:/data", "cache:/cache"] },
    { ...fields, labels: { tier: "back", replicas: 2 } },
    { ...fields, labels: { tier: "front" } },
    { ...fields, resources: { memory: "512m", cpus: 0.5 } },
    { ...fields, resources: { memory: "256m", cpus: 1 } },
    { ...fields, resources: { memory: "256m" } },
    { ...fields, pull: "never" },
    { ...fields, pull: undefined },
    { ...fields, stop_timeout: 31 },
    { ...fields, stop_timeout: undefined },
  ];
  const hashes = new Set([specHash(fields), ...changed.map(specHash)]);
  assert.equal(hashes.size, changed.length + 1);
});
