/**
 * Hashes of varied specs, computed with the hash of the release before the spec was parsed once
 * at the door: stored containers must keep their hashes on upgrade, or every agent would
 * recreate them.
 */
import assert from "node:assert/strict";
import { specHash } from "../../src/manifest/hash.ts";
import type { Spec } from "../../src/manifest/schema.ts";

const PINNED: [Spec, string][] = [
  [
    { name: "bare", host: "h", image: "busybox" },
    "a97e9ae93da0251a92f6c9785759822fbc9fb004996814cd2563897a2a82f582",
  ],
  [
    {
      name: "web",
      host: "host-a.example.com",
      image: "registry.example.com:5000/team/web:1.2.3",
      entrypoint: "",
      cmd: `sh -c 'echo "hi there"' \\$HOME`,
      ports: [
        "9000",
        "[::1]::80",
        "127.0.0.1:5353:53/udp",
        "8080:80",
        "8080:80/tcp",
        "7000:7000/sctp",
      ],
      environment: { B: true, A: 1.5, C: "x=y", D: "" },
      options: [
        "--network=backend",
        "--restart",
        "on-failure:3",
        "-v /srv:/data:ro,Z",
        "--privileged=false",
        "-m",
        "1.5g",
        "--cpus=.5",
        "--add-host=db:[::1]",
        "--device=/dev/sda:/dev/xvda:r",
        "--tmpfs=/run:size=64m",
        "--hostname=web-1",
        "--cap-add=NET_ADMIN",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        "--ipc=private",
        "--shm-size=64mb",
        "--ulimit=nofile=1024:2048",
        "--ulimit=core=-1",
        "--dns=1.1.1.1",
        "--dns-search=.",
        "-l",
        "team=shop",
        "--label=flag",
      ],
    },
    "9d5656b2acc8412128e648023353f75314d9b9d1904d70ac55dc41e6fa09a31d",
  ],
  [
    {
      name: "db",
      host: "host-b",
      image: `postgres:17@sha256:${"a".repeat(64)}`,
      healthcheck: {
        test: ["pg_isready", "-U", "postgres"],
        interval: "1m30s250ms",
        timeout: "1.5ms",
        retries: 0,
        start_period: "1500ms0.5s",
      },
      restart: "on-failure",
      volumes: ["pg:/var/lib/postgresql/data", "/etc/x:/etc/x:ro"],
      labels: { tier: "data", n: 3, on: false },
      resources: { memory: 1073741824, cpus: "2" },
      pull: "never",
      stop_timeout: "1m30s",
    },
    "f01feb32758db29074bbd37043840708913a3f3339a0fffb9f5bab79bab71c39",
  ],
  [
    {
      name: "job",
      host: "h",
      image: "localhost/x",
      entrypoint: ["/bin/sh", "-c"],
      cmd: [],
      healthcheck: { test: ["NONE"] },
      restart: "no",
      resources: { cpus: 0.25 },
      pull: "always",
      stop_timeout: 0,
    },
    "e46585d17c447f6393d8be764c7f6d4b61beaf387da4106f9115adf6a48f54ec",
  ],
  [
    {
      name: "shell",
      host: "h",
      image: "busybox:1",
      healthcheck: {
        test: "wget -q -O- localhost || exit 1",
        interval: "2h",
        start_period: "0.5s",
      },
      resources: { memory: "512k" },
      stop_timeout: "45",
    },
    "b44fb4765569c619126db1f30d4d895bcc84381b436d5b6701567ac13a342140",
  ],
];

Deno.test("specHash keeps the pinned hashes of varied specs", () => {
  for (const [spec, hash] of PINNED) assert.equal(specHash(spec), hash, spec.name);
});
