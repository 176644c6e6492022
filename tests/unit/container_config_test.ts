import assert from "node:assert/strict";
import { containerConfig, type CreateContainerBody } from "../../src/agent/container_config.ts";
import type { Spec } from "../../src/manifest/schema.ts";

const ours = { "launcher.manifest": "shop", "launcher.container": "web" };

Deno.test("containerConfig sets only the image and labels for a bare spec", () => {
  const spec: Spec = { name: "web", host: "host-a", image: "nginx:1.27" };
  const expected: CreateContainerBody = { Image: "nginx:1.27", Labels: ours, HostConfig: {} };
  assert.deepEqual(containerConfig(spec, ours), expected);
});

Deno.test("containerConfig maps commands, environment and ports", () => {
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
        "80/tcp": [{ HostPort: "8080" }, { HostIp: "::1", HostPort: "" }, { HostPort: "8081" }],
        "443/tcp": [{ HostPort: "8443" }],
        "53/udp": [{ HostIp: "127.0.0.1", HostPort: "5353" }],
        "9000/tcp": [{ HostPort: "" }],
      },
    },
  };
  assert.deepEqual(containerConfig(spec, ours), expected);
});

Deno.test("containerConfig turns an empty entrypoint into the engine's reset", () => {
  const spec: Spec = { name: "web", host: "h", image: "busybox", entrypoint: "", cmd: "sh -c 'x'" };
  const body = containerConfig(spec, ours);
  assert.deepEqual(body.Entrypoint, [""]);
  assert.deepEqual(body.Cmd, ["sh", "-c", "x"]);
  assert.deepEqual(containerConfig({ ...spec, entrypoint: [] }, ours).Entrypoint, [""]);
});

Deno.test("containerConfig maps every option to its HostConfig field", () => {
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
  assert.deepEqual(containerConfig(spec, ours), expected);
});

Deno.test("containerConfig lets launcher's labels win over the spec's", () => {
  const spec: Spec = { name: "web", host: "h", image: "i", options: ["--label=owner=team"] };
  const body = containerConfig(spec, { owner: "launcher", ...ours });
  assert.deepEqual(body.Labels, { owner: "launcher", ...ours });
});

Deno.test("containerConfig keeps an explicit --privileged=false", () => {
  const spec: Spec = { name: "web", host: "h", image: "i", options: ["--privileged=false"] };
  assert.deepEqual(containerConfig(spec, ours).HostConfig, { Privileged: false });
});
