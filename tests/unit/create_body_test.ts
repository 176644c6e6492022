import assert from "node:assert/strict";
import { createBody, UnresolvedSecretError } from "../../src/agent/create_body.ts";
import type { CreateContainerBody } from "../../src/docker/wire.ts";
import type { Spec } from "../../src/manifest/schema.ts";
import { parseSpec } from "../../src/manifest/spec.ts";

const ours = { "launcher.manifest": "shop", "launcher.container": "web" };

/** The create body of a spec as written, through its normalized form as the agent gets it. */
function bodyOf(spec: Spec, labels: Record<string, string>): CreateContainerBody {
  // Through JSON, as the normalized form travels from the server to the agent.
  return createBody(JSON.parse(JSON.stringify(parseSpec(spec).normalized)), labels);
}

Deno.test("createBody sets only the image and labels for a bare spec", () => {
  const spec: Spec = { name: "web", host: "host-a", image: "nginx:1.27" };
  const expected: CreateContainerBody = { Image: "nginx:1.27", Labels: ours, HostConfig: {} };
  assert.deepEqual(bodyOf(spec, ours), expected);
});

Deno.test("createBody maps commands, environment and ports", () => {
  const spec: Spec = {
    name: "web",
    host: "host-a",
    image: "nginx:1.27",
    entrypoint: "/docker-entrypoint.sh --quiet",
    cmd: ["nginx", "-g", "daemon off;"],
    environment: { MODE: "prod", WORKERS: 4, DEBUG: false },
    ports: ["8080:80", "8443:443/tcp", "127.0.0.1:5353:53/udp", "[::1]::80", "9000", "8081:80"],
  };
  const expected: CreateContainerBody = {
    Image: "nginx:1.27",
    Entrypoint: ["/docker-entrypoint.sh", "--quiet"],
    Cmd: ["nginx", "-g", "daemon off;"],
    Env: ["MODE=prod", "WORKERS=4", "DEBUG=false"],
    ExposedPorts: { "80/tcp": {}, "443/tcp": {}, "53/udp": {}, "9000/tcp": {} },
    Labels: ours,
    HostConfig: {
      PortBindings: {
        // In the canonical order of the ports, as the hash has them.
        "80/tcp": [{ HostPort: "8080" }, { HostPort: "8081" }, { HostIp: "::1", HostPort: "" }],
        "443/tcp": [{ HostPort: "8443" }],
        "53/udp": [{ HostIp: "127.0.0.1", HostPort: "5353" }],
        "9000/tcp": [{ HostPort: "" }],
      },
    },
  };
  assert.deepEqual(bodyOf(spec, ours), expected);
});

Deno.test("createBody takes a secret's value as the server put it in, and refuses a reference", () => {
  const spec: Spec = {
    name: "web",
    host: "host-a",
    image: "nginx:1.27",
    environment: { MODE: "prod", DB_PASSWORD: { secret: "db-password" } },
  };
  const normalized = JSON.parse(JSON.stringify(parseSpec(spec).normalized));
  assert.throws(() => createBody(normalized, ours), (error: Error) => {
    assert.ok(error instanceof UnresolvedSecretError);
    assert.equal(
      error.message,
      "variable DB_PASSWORD refers to secret db-password, but the server sent no value for it",
    );
    return true;
  });
  normalized.environment.DB_PASSWORD = "hunter2";
  assert.deepEqual(createBody(normalized, ours).Env, ["MODE=prod", "DB_PASSWORD=hunter2"]);
});

Deno.test("createBody turns an empty entrypoint into the engine's reset", () => {
  const spec: Spec = { name: "web", host: "h", image: "busybox", entrypoint: "", cmd: "sh -c 'x'" };
  const body = bodyOf(spec, ours);
  assert.deepEqual(body.Entrypoint, [""]);
  assert.deepEqual(body.Cmd, ["sh", "-c", "x"]);
  assert.deepEqual(bodyOf({ ...spec, entrypoint: [] }, ours).Entrypoint, [""]);
});

Deno.test("createBody maps every option to its HostConfig field", () => {
  const spec: Spec = {
    name: "web",
    host: "host-a",
    image: "nginx",
    options: [
      "--network=backend",
      "--restart=on-failure:3",
      "-v",
      "/srv:/data:ro",
      "--privileged",
      "--memory=256m",
      "--cpus=0.5",
      "--add-host=db:10.0.0.5",
      "--device=/dev/fuse",
      "--tmpfs=/run:size=64m",
      "--hostname=web-1",
      "--cap-add=NET_ADMIN",
      "--cap-drop=MKNOD",
      "--security-opt=no-new-privileges",
      "--ipc=private",
      "--shm-size=64m",
      "--ulimit=nofile=1024:2048",
      "--dns=1.1.1.1",
      "--dns-search=example.com",
      "--label=tier=web",
    ],
  };
  const expected: CreateContainerBody = {
    Image: "nginx",
    Labels: { tier: "web", ...ours },
    Hostname: "web-1",
    HostConfig: {
      NetworkMode: "backend",
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
      Binds: ["/srv:/data:ro"],
      Privileged: true,
      Memory: 256 * 1024 * 1024,
      NanoCpus: 500_000_000,
      ExtraHosts: ["db:10.0.0.5"],
      Devices: [{
        PathOnHost: "/dev/fuse",
        PathInContainer: "/dev/fuse",
        CgroupPermissions: "rwm",
      }],
      Tmpfs: { "/run": "size=64m" },
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["MKNOD"],
      SecurityOpt: ["no-new-privileges"],
      IpcMode: "private",
      ShmSize: 64 * 1024 * 1024,
      Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
      Dns: ["1.1.1.1"],
      DnsSearch: ["example.com"],
    },
  };
  assert.deepEqual(bodyOf(spec, ours), expected);
});

Deno.test("createBody lets launcher's labels win over the spec's", () => {
  const spec: Spec = { name: "web", host: "h", image: "i", options: ["--label=owner=team"] };
  const body = bodyOf(spec, { owner: "launcher", ...ours });
  assert.deepEqual(body.Labels, { owner: "launcher", ...ours });
});

Deno.test("createBody keeps an explicit --privileged=false", () => {
  const spec: Spec = { name: "web", host: "h", image: "i", options: ["--privileged=false"] };
  assert.deepEqual(bodyOf(spec, ours).HostConfig, { Privileged: false });
});

Deno.test("createBody maps every first-class field to the engine's", () => {
  const spec: Spec = {
    name: "web",
    host: "h",
    image: "i",
    healthcheck: {
      test: "exit 0",
      interval: "1s",
      timeout: "500ms",
      retries: 2,
      start_period: "2s",
    },
    restart: "unless-stopped",
    volumes: ["/srv:/data:ro", "cache:/cache"],
    labels: { tier: "front", replicas: 2, public: true },
    resources: { memory: "64m", cpus: "1.5" },
    pull: "never",
    stop_timeout: "1m",
  };
  const expected: CreateContainerBody = {
    Image: "i",
    Labels: { tier: "front", replicas: "2", public: "true", ...ours },
    Healthcheck: {
      Test: ["CMD-SHELL", "exit 0"],
      Interval: 1e9,
      Timeout: 500e6,
      Retries: 2,
      StartPeriod: 2e9,
    },
    StopTimeout: 60,
    HostConfig: {
      RestartPolicy: { Name: "unless-stopped" },
      Binds: ["/srv:/data:ro", "cache:/cache"],
      Memory: 64 * 1024 * 1024,
      NanoCpus: 1_500_000_000,
    },
  };
  assert.deepEqual(bodyOf(spec, ours), expected);
});

Deno.test("createBody merges fields with the options that set other things", () => {
  const spec: Spec = {
    name: "web",
    host: "h",
    image: "i",
    restart: "always",
    labels: { tier: "front" },
    resources: { memory: 67108864 },
    options: ["--label=team=shop", "--cpus=2", "-v", "/a:/a"],
  };
  const body = bodyOf(spec, ours);
  assert.deepEqual(body.Labels, { team: "shop", tier: "front", ...ours });
  assert.deepEqual(body.HostConfig, {
    RestartPolicy: { Name: "always" },
    Binds: ["/a:/a"],
    Memory: 67108864,
    NanoCpus: 2e9,
  });
  // Launcher's own labels win over the spec's labels too.
  // The door refuses such a label; a normalized form that carries one anyway still loses.
  const normalized = parseSpec(spec).normalized;
  const forged = createBody({ ...normalized, labels: { "launcher.manifest": "other" } }, ours);
  assert.equal(forged.Labels?.["launcher.manifest"], "shop");
});
