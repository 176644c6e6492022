/** The Docker adapter against real engines started by the harness. */
import assert from "node:assert/strict";
import { type ContainerEvent, DockerEngine } from "../../src/docker/engine.ts";
import { DockerError } from "../../src/docker/errors.ts";
import { execInHost, startEngines, TEST_IMAGE } from "./engines.ts";

const LABEL = "launcher.test";
const SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];

Deno.test("DockerEngine drives real engines", async (t) => {
  const startedAt = performance.now();
  const engines = await startEngines(["a", "b"]);
  console.log(`two engines started in ${Math.round(performance.now() - startedAt)} ms`);
  try {
    const [a, b] = engines.hosts;
    const engine = new DockerEngine(a.dockerHost);

    await t.step("ping, version and info", async () => {
      await engine.ping();
      const version = await engine.version();
      assert.match(version.apiVersion, /^1\.\d+$/);
      assert.equal(version.os, "linux");
      const info = await engine.info();
      assert.ok(info.ncpu > 0);
      assert.ok(info.memTotal > 0);
      assert.equal(typeof info.operatingSystem, "string");
    });

    await t.step("each host is an engine of its own", async () => {
      const ids = await Promise.all(
        engines.hosts.map((h) => engines.docker(h, "info", "--format", "{{.ID}}")),
      );
      assert.notEqual(ids[0].trim(), ids[1].trim());
      const id = await engine.createContainer("only-on-a", {
        Image: TEST_IMAGE,
        Labels: { [LABEL]: "isolation" },
      });
      try {
        assert.equal((await engine.listContainers([`${LABEL}=isolation`])).length, 1);
        const onB = new DockerEngine(b.dockerHost);
        assert.deepEqual(await onB.listContainers([`${LABEL}=isolation`]), []);
        assert.equal(await onB.inspectContainer(id), null);
      } finally {
        await engine.removeContainer(id, { force: true });
      }
    });

    await t.step("imageExists", async () => {
      assert.equal(await engine.imageExists(TEST_IMAGE), true);
      assert.equal(await engine.imageExists("launcher-test:nope"), false);
    });

    await t.step("a container's life, with its events", async () => {
      const events: ContainerEvent[] = [];
      const stopEvents = new AbortController();
      // `since` replays what happened before the stream connected, so no event is lost.
      const following = (async () => {
        const stream = engine.events([`${LABEL}=life`], stopEvents.signal, {
          since: Date.now() - 1000,
        });
        for await (const event of stream) events.push(event);
      })();
      const id = await engine.createContainer("life", {
        Image: TEST_IMAGE,
        Cmd: SLEEPER,
        Labels: { [LABEL]: "life" },
      });
      try {
        let details = await engine.inspectContainer(id);
        assert.ok(details);
        assert.equal(details.id, id);
        assert.equal(details.name, "life");
        assert.equal(details.image, TEST_IMAGE);
        assert.deepEqual(details.labels, { [LABEL]: "life" });
        assert.equal(details.state.status, "created");
        assert.equal(details.state.running, false);
        assert.equal(details.state.health, undefined);
        assert.deepEqual(await engine.inspectContainer("life"), details);

        await engine.startContainer(id);
        await engine.startContainer(id);
        details = await engine.inspectContainer(id);
        assert.equal(details?.state.status, "running");
        assert.equal(details?.state.running, true);

        const listed = await engine.listContainers([`${LABEL}=life`]);
        assert.equal(listed.length, 1);
        assert.equal(listed[0].id, id);
        assert.deepEqual(listed[0].names, ["life"]);
        assert.equal(listed[0].image, TEST_IMAGE);
        assert.equal(listed[0].state, "running");
        assert.deepEqual(listed[0].labels, { [LABEL]: "life" });
        assert.deepEqual(await engine.listContainers([`${LABEL}=other`]), []);

        await engine.stopContainer(id, 5);
        await engine.stopContainer(id, 5);
        details = await engine.inspectContainer(id);
        assert.equal(details?.state.status, "exited");
        assert.equal(details?.state.exitCode, 0);

        await engine.startContainer(id);
        await engine.killContainer(id);
        await engine.killContainer(id);
        details = await engine.inspectContainer(id);
        assert.equal(details?.state.exitCode, 137);

        await engine.restartContainer(id, 1);
        assert.equal((await engine.inspectContainer(id))?.state.running, true);
        await engine.killContainer(id, "SIGTERM");
        await waitFor(async () => (await engine.inspectContainer(id))?.state.running === false);

        await engine.removeContainer(id, { force: true });
        await engine.removeContainer(id, { force: true });
        assert.equal(await engine.inspectContainer(id), null);

        await waitFor(() => events.some((e) => e.action === "destroy"));
      } finally {
        await engine.removeContainer(id, { force: true });
        stopEvents.abort();
        await following;
      }
      const actions = events.map((e) => e.action);
      assert.equal(actions[0], "create");
      assert.equal(actions.at(-1), "destroy");
      for (const action of ["start", "kill", "die", "stop", "restart"]) {
        assert.ok(actions.includes(action), `no ${action} event in ${actions.join(", ")}`);
      }
      const exitCodes = events.filter((e) => e.action === "die").map((e) => e.exitCode);
      assert.deepEqual(exitCodes.slice(0, 2), [0, 137]);
      for (const event of events) {
        assert.equal(event.id, id);
        assert.equal(event.name, "life");
        assert.deepEqual(event.labels, { [LABEL]: "life" });
        assert.ok(Math.abs(event.time - Date.now()) < 60_000);
      }
    });

    await t.step("errors carry the engine's own message", async () => {
      assert.equal(await engine.inspectContainer("nope"), null);
      await assert.rejects(engine.startContainer("nope"), dockerError("not_found", 404, /nope/));
      await assert.rejects(
        engine.createContainer("no-image", { Image: "launcher-test:nope" }),
        dockerError("not_found", 404, /No such image: launcher-test:nope/),
      );
      const id = await engine.createContainer("dup", { Image: TEST_IMAGE });
      try {
        await assert.rejects(
          engine.createContainer("dup", { Image: TEST_IMAGE }),
          dockerError("conflict", 409, /"\/dup" is already in use/),
        );
      } finally {
        await engine.removeContainer(id, { force: true });
      }
    });

    await t.step("a failing pull throws the engine's message, fast", async () => {
      const refs = [
        "nope",
        "127.0.0.1:5999/nope:1",
        `nope@sha256:${"0".repeat(64)}`,
      ];
      for (const ref of refs) {
        const cli = await engines.docker(a, "pull", ref).then(
          () => assert.fail(`docker pull ${ref} succeeded`),
          (error: Error) => error.message,
        );
        const began = performance.now();
        const error = await engine.pullImage(ref).then(
          () => assert.fail(`pullImage(${ref}) succeeded`),
          (error: unknown) => error,
        );
        assert.ok(performance.now() - began < 10_000, `pull of ${ref} took too long`);
        assert.ok(error instanceof DockerError);
        assert.equal(error.code, "engine_error");
        assert.ok(
          cli.includes(`Error response from daemon: ${error.message}`),
          `adapter said "${error.message}", the CLI said "${cli}"`,
        );
      }
      const aborted = new AbortController();
      aborted.abort();
      await assert.rejects(engine.pullImage("nope", aborted.signal), { name: "AbortError" });
    });

    await t.step("pulls from a registry; errors inside the progress stream throw", async () => {
      const registry = await startFakeRegistry(a.netns, 5000);
      try {
        await engine.pullImage("127.0.0.1:5000/img:ok");
        assert.equal(await engine.imageExists("127.0.0.1:5000/img:ok"), true);
        const byDigest = `127.0.0.1:5000/img@${registry.okDigest}`;
        await engine.pullImage(byDigest);
        assert.equal(await engine.imageExists(byDigest), true);

        const ref = "127.0.0.1:5000/img:broken";
        const cli = await engines.docker(a, "pull", ref).then(
          () => assert.fail(`docker pull ${ref} succeeded`),
          (error: Error) => error.message,
        );
        const error = await engine.pullImage(ref).then(
          () => assert.fail(`pullImage(${ref}) succeeded`),
          (error: unknown) => error,
        );
        assert.ok(error instanceof DockerError);
        assert.equal(error.code, "engine_error");
        // The engine had already answered 200: the error came inside the stream.
        assert.equal(error.engineStatus, undefined);
        assert.ok(cli.includes(error.message), `adapter: "${error.message}", CLI: "${cli}"`);
        assert.equal(await engine.imageExists(ref), false);
      } finally {
        await registry.stop();
      }
    });

    await t.step("a published port taken twice fails with the engine's message", async () => {
      const published = {
        Image: TEST_IMAGE,
        Cmd: [
          "sh",
          "-c",
          "while true; do printf 'HTTP/1.0 200 OK\\r\\n\\r\\nhello' | nc -l -p 80; done",
        ],
        Labels: { [LABEL]: "ports" },
        ExposedPorts: { "80/tcp": {} },
        HostConfig: { PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "18080" }] } },
      };
      const first = await engine.createContainer("port-1", published);
      const second = await engine.createContainer("port-2", published);
      try {
        await engine.startContainer(first);
        await assert.rejects(
          engine.startContainer(second),
          dockerError("engine_error", 500, /port is already allocated/),
        );
        const answer = await retry(() =>
          execInHost(a.netns, ["wget", "-qO-", "http://127.0.0.1:18080/"])
        );
        assert.equal(answer, "hello");
      } finally {
        await Promise.all([first, second].map((id) => engine.removeContainer(id, { force: true })));
      }
    });

    await t.step("an absent engine is engine_unreachable", async () => {
      await assert.rejects(
        new DockerEngine("unix:///nonexistent/docker.sock").ping(),
        dockerError("engine_unreachable"),
      );
      await assert.rejects(
        new DockerEngine("/nonexistent/docker.sock").listContainers([]),
        dockerError("engine_unreachable"),
      );
      await assert.rejects(
        new DockerEngine("tcp://127.0.0.1:1").ping(),
        dockerError("engine_unreachable"),
      );
      assert.throws(() => new DockerEngine("ftp://example"), dockerError("engine_unreachable"));
    });

    await t.step("the event stream throws engine_unreachable when its engine stops", async () => {
      const onB = new DockerEngine(b.dockerHost);
      const seen: ContainerEvent[] = [];
      const following = (async () => {
        for await (const event of onB.events([`${LABEL}=b`], new AbortController().signal)) {
          seen.push(event);
        }
      })();
      // A container's create event shows the stream is live before the engine goes away.
      await retry(async () => {
        await onB.createContainer(`live-${seen.length}`, {
          Image: TEST_IMAGE,
          Labels: { [LABEL]: "b" },
        });
        await waitFor(() => seen.length > 0, 500);
      });
      const ended = assert.rejects(following, dockerError("engine_unreachable"));
      await engines.stop();
      await ended;
    });
  } finally {
    await engines.stop();
  }
});

/** The registry script: serves a JSON table of routes, run inside a host's namespace. */
const REGISTRY = `
const routes = JSON.parse(await Deno.readTextFile(Deno.args[0]));
Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.args[1]),
  onListen: () => console.log("listening"),
}, (request) => {
  const route = routes[new URL(request.url).pathname];
  if (!route) {
    return Response.json({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown to registry" }] }, { status: 404 });
  }
  const body = Uint8Array.from(atob(route.data), (c) => c.charCodeAt(0));
  return new Response(request.method === "HEAD" ? null : body, {
    headers: { "content-type": route.type, "docker-content-digest": route.digest, "content-length": String(body.length) },
  });
});
`;

/**
 * A registry v2 on 127.0.0.1:PORT inside a host's namespace (dockerd pulls from its own
 * namespace; 127.0.0.0/8 registries need no TLS), holding `img:ok` (one layer) and
 * `img:broken` (whose layer is missing, so the pull fails inside the progress stream).
 * busybox httpd cannot serve manifests by digest with their media type, hence a Deno script.
 */
async function startFakeRegistry(netns: string, port: number) {
  const dir = await Deno.makeTempDir({ prefix: "lt-registry-" });
  await Deno.mkdir(`${dir}/layer`);
  await Deno.writeTextFile(`${dir}/layer/hello.txt`, "hello\n");
  const tar = await new Deno.Command("tar", {
    args: ["-C", `${dir}/layer`, "-cf", `${dir}/layer.tar`, "."],
  }).output();
  assert.ok(tar.success);
  const layer = await Deno.readFile(`${dir}/layer.tar`);
  const manifestType = "application/vnd.docker.distribution.manifest.v2+json";
  const routes: Record<string, { type: string; digest: string; data: string }> = {};
  const add = async (path: string, type: string, body: Uint8Array<ArrayBuffer>) => {
    const digest = await sha256(body);
    routes[path] = { type, digest, data: btoa(String.fromCharCode(...body)) };
    return digest;
  };
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  /** Publishes `img:TAG` with one layer (which the registry may not hold); returns its digest. */
  const publish = async (tag: string, layerDigest: string) => {
    // Each image gets its own config, and so its own id: an image id the engine already
    // holds would end the pull before any layer is fetched.
    const config = json({
      architecture: Deno.build.arch === "aarch64" ? "arm64" : "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: [layerDigest] },
    });
    const configDigest = await add(
      `/v2/img/blobs/${await sha256(config)}`,
      "application/octet-stream",
      config,
    );
    const manifest = json({
      schemaVersion: 2,
      mediaType: manifestType,
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        size: config.length,
        digest: configDigest,
      },
      layers: [{
        mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
        size: layer.length,
        digest: layerDigest,
      }],
    });
    const digest = await add(`/v2/img/manifests/${tag}`, manifestType, manifest);
    await add(`/v2/img/manifests/${digest}`, manifestType, manifest);
    return digest;
  };
  await add("/v2/", "application/json", json({}));
  const layerDigest = await add(
    `/v2/img/blobs/${await sha256(layer)}`,
    "application/octet-stream",
    layer,
  );
  const okDigest = await publish("ok", layerDigest);
  await publish("broken", `sha256:${"1".repeat(64)}`);
  await Deno.writeTextFile(`${dir}/routes.json`, JSON.stringify(routes));

  const server = new Deno.Command("nsenter", {
    args: [
      `--net=/var/run/netns/${netns}`,
      "--",
      Deno.execPath(),
      "eval",
      REGISTRY,
      `${dir}/routes.json`,
      String(port),
    ],
    stdin: "null",
    stdout: "piped",
  }).spawn();
  const reader = server.stdout.getReader();
  let output = "";
  while (!output.includes("listening")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Fake registry did not start: ${output}`);
    output += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return {
    okDigest,
    async stop() {
      server.kill();
      await Promise.all([server.status, server.stdout.cancel()]);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function dockerError(code: string, status?: number, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof DockerError, `not a DockerError: ${error}`);
    assert.equal(error.code, code, error.message);
    if (status !== undefined) assert.equal(error.engineStatus, status);
    if (message) assert.match(error.message, message);
    return true;
  };
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await delay(20);
  }
}

async function retry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0;; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= 50) throw error;
      await delay(50);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
