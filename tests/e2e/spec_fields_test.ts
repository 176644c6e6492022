/**
 * Health checks and the first-class spec fields on a real engine: health in `ps` and
 * `up --wait`, every field in `docker inspect`, the pull policies, and a field given twice
 * (as a field and as an option) rejected at the door.
 */
import assert from "node:assert/strict";
import { Cluster, type DockerInspect, SLEEPER } from "./cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { TEST_IMAGE } from "./engines.ts";

/** The parts of `docker inspect` that these fields land in, beyond what the fixture types. */
interface FieldsInspect extends DockerInspect {
  Config: DockerInspect["Config"] & {
    StopTimeout?: number;
    Healthcheck?: {
      Test: string[];
      Interval?: number;
      Timeout?: number;
      Retries?: number;
      StartPeriod?: number;
    };
  };
}

const sleeper = JSON.stringify(SLEEPER);

/** A manifest of one container on host-a with the given extra spec lines. */
function oneContainer(manifest: string, container: string, ...lines: string[]): string {
  return [
    `name: ${manifest}`,
    "containers:",
    `  - name: ${container}`,
    "    host: host-a",
    ...lines.map((line) => `    ${line}`),
  ].join("\n") + "\n";
}

Deno.test("health checks and first-class spec fields on a real engine", async (t) => {
  const cluster = await Cluster.start(["host-a"]);
  const hostDir = await Deno.makeTempDir({ prefix: "launcher-e2e-bind-" });
  try {
    await cluster.step(
      t,
      "a passing health check shows running (healthy) and up --wait exits 0",
      async () => {
        const file = cluster.writeManifest(
          "healthy",
          oneContainer(
            "healthy",
            "fine",
            `image: ${TEST_IMAGE}`,
            `cmd: ${sleeper}`,
            "healthcheck: {test: exit 0, interval: 500ms, timeout: 2s, retries: 2}",
          ),
        );
        const up = await cluster.cli(["manifest", "up", "-f", file, "--wait", "--timeout", "60s"]);
        assert.equal(up.code, 0, up.stderr);
        const [fine] = await cluster.ps("healthy");
        assert.equal(fine.state, "running");
        assert.equal(fine.health, "healthy");
        const ps = await cluster.cli(["manifest", "ps", "--name", "healthy"]);
        assert.equal(ps.code, 0, ps.stderr);
        assert.match(ps.stdout, /healthy\s+fine\s+host-a\s+.*running\s+running \(healthy\)/);
        const inspect = await cluster.inspect("host-a", "healthy_fine") as FieldsInspect;
        assert.deepEqual(inspect.Config.Healthcheck, {
          Test: ["CMD-SHELL", "exit 0"],
          Interval: 500_000_000,
          Timeout: 2_000_000_000,
          Retries: 2,
        });
      },
    );

    await cluster.step(
      t,
      "a failing health check makes up --wait exit 1 naming the unhealthy container",
      async () => {
        const file = cluster.writeManifest(
          "sick",
          oneContainer(
            "sick",
            "ailing",
            `image: ${TEST_IMAGE}`,
            `cmd: ${sleeper}`,
            "healthcheck: {test: exit 1, interval: 300ms, retries: 1}",
          ),
        );
        const up = await cluster.cli(["manifest", "up", "-f", file, "--wait", "--timeout", "60s"]);
        assert.equal(up.code, 1, up.stderr);
        assert.match(up.stderr, /ailing on host-a failed: unhealthy/);
        const ps = await cluster.cli(["manifest", "ps", "--name", "sick"]);
        assert.match(ps.stdout, /running \(unhealthy\)/);
      },
    );

    await cluster.step(
      t,
      "restart, volumes, labels, resources and stop_timeout land in docker inspect",
      async () => {
        const file = cluster.writeManifest(
          "fields",
          oneContainer(
            "fields",
            "full",
            `image: ${TEST_IMAGE}`,
            // busybox sleep as PID 1 ignores SIGTERM: only the stop timeout's SIGKILL ends it.
            'cmd: ["sleep", "3600"]',
            "restart: on-failure:2",
            `volumes: ["launcher-e2e-data:/data", "${hostDir}:/host:ro"]`,
            "labels: {tier: front, replicas: 2}",
            "resources: {memory: 64m, cpus: 0.5}",
            "stop_timeout: 1s",
          ),
        );
        const up = await cluster.cli(["manifest", "up", "-f", file, "--wait", "--timeout", "60s"]);
        assert.equal(up.code, 0, up.stderr);
        const inspect = await cluster.inspect("host-a", "fields_full") as FieldsInspect;
        assert.deepEqual(inspect.HostConfig.RestartPolicy, {
          Name: "on-failure",
          MaximumRetryCount: 2,
        });
        assert.deepEqual(inspect.HostConfig.Binds, [
          "launcher-e2e-data:/data",
          `${hostDir}:/host:ro`,
        ]);
        assert.equal(inspect.Config.Labels["tier"], "front");
        assert.equal(inspect.Config.Labels["replicas"], "2");
        assert.equal(inspect.Config.Labels["launcher.manifest"], "fields");
        assert.equal(inspect.HostConfig.Memory, 64 * 1024 * 1024);
        assert.equal(inspect.HostConfig.NanoCpus, 500_000_000);
        assert.equal(inspect.Config.StopTimeout, 1);
        // The bind mount is really there.
        await Deno.writeTextFile(`${hostDir}/hello`, "from the host");
        const read = await cluster.engines.docker(
          "host-a",
          "exec",
          "fields_full",
          "cat",
          "/host/hello",
        );
        assert.equal(read, "from the host");

        // Stopped with the spec's timeout: SIGKILL after 1s, not the engine's default 10s.
        const started = Date.now();
        const stop = await cluster.cli(["container", "stop", "-h", "host-a", "-c", "full"]);
        assert.equal(stop.code, 0, stop.stderr);
        const [stopped] = await cluster.waitForStates("fields", { full: "exited" }, 8_000);
        assert.equal(stopped.exitCode, 137);
        assert.ok(Date.now() - started < 8_000, `stop took ${Date.now() - started} ms`);
      },
    );

    await cluster.step(
      t,
      "pull: never with an absent image shows failed with a clear error",
      async () => {
        const file = cluster.writeManifest(
          "never",
          oneContainer("never", "offline", "image: launcher-absent:1", "pull: never"),
        );
        const up = await cluster.cli(["manifest", "up", "-f", file]);
        assert.equal(up.code, 0, up.stderr);
        const [offline] = await cluster.waitForStates("never", { offline: "failed" });
        assert.equal(
          offline.error,
          "image launcher-absent:1 is not on host host-a and the spec says pull: never; " +
            "load it on the host or change the pull policy",
        );
        const ps = await cluster.cli(["manifest", "ps", "--name", "never"]);
        assert.match(ps.stdout, /ERROR/);
        assert.match(ps.stdout, /failed\s+.*pull: never/);
        const wait = await cluster.cli([
          "manifest",
          "up",
          "-f",
          file,
          "--wait",
          "--timeout",
          "20s",
        ]);
        assert.equal(wait.code, 1);
        assert.match(wait.stderr, /offline on host-a failed: image launcher-absent:1 is not on/);
      },
    );

    await cluster.step(
      t,
      "pull: always pulls an image the engine already has, missing does not",
      async () => {
        // The engine holds this tag, but its registry does not exist: only a pull can fail.
        const image = "nonexistent.invalid/launcher-test:1";
        await cluster.engines.docker("host-a", "tag", TEST_IMAGE, image);
        const file = cluster.writeManifest(
          "pulls",
          [
            "name: pulls",
            "containers:",
            "  - name: cached",
            "    host: host-a",
            `    image: ${image}`,
            `    cmd: ${sleeper}`,
            "  - name: fresh",
            "    host: host-a",
            `    image: ${image}`,
            `    cmd: ${sleeper}`,
            "    pull: always",
          ].join("\n") + "\n",
        );
        const up = await cluster.cli(["manifest", "up", "-f", file]);
        assert.equal(up.code, 0, up.stderr);
        const list = await cluster.waitForStates("pulls", { cached: "running", fresh: "failed" });
        const fresh = list.find((c) => c.config.name === "fresh");
        assert.match(fresh?.error ?? "", /nonexistent\.invalid/);
      },
    );

    await cluster.step(
      t,
      "a setting given as a field and as an option is rejected with exit 2 and its lines",
      async () => {
        const file = cluster.writeManifest(
          "twice",
          oneContainer(
            "twice",
            "both",
            `image: ${TEST_IMAGE}`,
            "restart: always",
            'options: ["--privileged=false", "--restart=no"]',
          ),
        );
        const up = await cluster.cli(["manifest", "up", "-f", file]);
        assert.equal(up.code, 2, up.stderr);
        assert.equal(
          up.stderr.trim(),
          `error: ${file}:6:14: containers[0].restart: restart is also set by option ` +
            `"--restart=no" (containers[0].options[1], line 7): set it in one place`,
        );
        const ps = await cluster.cli(["manifest", "ps", "--name", "twice"]);
        assert.equal(ps.code, 1);
        // The server rejects it the same way when the CLI is bypassed.
        const res = await fetch(`${cluster.url}/api/v1/manifest/up`, {
          method: "POST",
          headers: { authorization: `Bearer ${cluster.token}`, "content-type": "text/yaml" },
          body: await Deno.readTextFile(file),
        });
        assert.equal(res.status, 400);
        const body = await res.json();
        assert.equal(body.error.code, "invalid_manifest");
        assert.deepEqual(body.error.details[0].line, 6);
        assert.match(body.error.details[0].message, /--restart=no.*line 7/);
      },
    );

    await cluster.step(t, "down removes every container of these manifests", async () => {
      for (const name of ["healthy", "sick", "fields", "never", "pulls"]) {
        const r = await cluster.cli(["manifest", "down", "--name", name, "--wait"]);
        assert.equal(r.code, 0, r.stderr);
      }
      await pollUntil("the engine empty", async () => {
        return (await cluster.engineNames("host-a")).length === 0;
      });
    });
  } finally {
    await cluster.stop();
    await Deno.remove(hostDir, { recursive: true }).catch(() => {});
  }
});
