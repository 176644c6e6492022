/**
 * Private registries: the agent pulls with the credentials of the host's Docker config, from a
 * real registry with htpasswd auth that the test runs next to host-a's engine.
 */
import assert from "node:assert/strict";
import { pollUntil } from "../poll_until.ts";
import { Cluster, SLEEPER } from "./cluster.ts";
import { TEST_IMAGE } from "./engines.ts";
import { startRegistry, type TestRegistry } from "./registry.ts";

const USER = "shop";
const PASSWORD = "Regi$try-pa55word";
const WRONG_PASSWORD = "not-the-Pa55word";

Deno.test("private registry: pulls with the host's Docker config, fails without it", async (t) => {
  const cluster = await Cluster.start(["host-a"], { idle: ["host-a"] });
  let registry: TestRegistry | undefined;
  try {
    const host = cluster.engines.hosts[0];
    registry = await startRegistry(host.netns, USER, PASSWORD);
    const image = `${registry.address}/test/busybox:1`;
    const loginDir = `${cluster.workDir}/login`;
    const agentDir = `${cluster.workDir}/agent-docker`;
    await Deno.mkdir(agentDir);
    const docker = (...args: string[]) =>
      cluster.engines.docker(host, "--config", loginDir, ...args);
    const manifest = cluster.writeManifest(
      "private",
      `name: private
containers:
  - name: app
    host: host-a
    image: ${image}
    cmd: ${JSON.stringify(SLEEPER)}
`,
    );
    /** The image is not on the engine, so that the next `up` really pulls it. */
    const removeImage = async () => {
      await docker("image", "rm", image);
      await assert.rejects(docker("image", "inspect", image));
    };
    /** The password in any form must appear nowhere a user or an operator looks. */
    const assertNoSecrets = async () => {
      const seen = [
        cluster.agentOutput("host-a"),
        ...(await cluster.ps("private")).map((c) => c.error ?? ""),
      ].join("\n");
      for (const secret of [PASSWORD, WRONG_PASSWORD]) {
        for (const form of [secret, btoa(`${USER}:${secret}`)]) {
          assert.ok(!seen.includes(form), `the agent's output or ps shows a credential: ${seen}`);
        }
      }
    };

    await cluster.step(t, "docker login and push put the test image in the registry", async () => {
      await docker("login", "-u", USER, "-p", PASSWORD, registry!.address);
      const written = JSON.parse(await Deno.readTextFile(`${loginDir}/config.json`));
      assert.ok(written.auths?.[registry!.address]?.auth, JSON.stringify(Object.keys(written)));
      await docker("tag", TEST_IMAGE, image);
      await docker("push", image);
      await removeImage();
    });

    await cluster.step(t, "an agent with the login's config pulls and runs the image", async () => {
      cluster.startAgent("host-a", ["--docker-config", loginDir]);
      const up = await cluster.cli(["manifest", "up", "-f", manifest]);
      assert.equal(up.code, 0, up.stderr);
      await cluster.waitForStates("private", { app: "running" });
      await docker("image", "inspect", image);
      assert.match(
        cluster.agentOutput("host-a"),
        new RegExp(`registry credentials: ${loginDir}/config\\.json \\(${registry!.address}\\)`),
      );
      await assertNoSecrets();
    });

    await cluster.step(
      t,
      "without credentials the container fails with the registry's message",
      async () => {
        const down = await cluster.cli(["manifest", "down", "-f", manifest, "--wait"]);
        assert.equal(down.code, 0, down.stderr);
        await removeImage();
        await cluster.stopAgent("host-a");
        cluster.startAgent("host-a", ["--docker-config", agentDir]);
        const up = await cluster.cli(["manifest", "up", "-f", manifest]);
        assert.equal(up.code, 0, up.stderr);
        const [app] = await cluster.waitForStates("private", { app: "failed" });
        assert.match(app.error ?? "", /no basic auth credentials/);
        assert.match(cluster.agentOutput("host-a"), /no basic auth credentials/);
        const ps = await cluster.cli(["manifest", "ps", "-f", manifest]);
        assert.match(ps.stdout, /failed/);
      },
    );

    await cluster.step(
      t,
      "a wrong password fails with the registry's answer, never shown",
      async () => {
        await Deno.writeTextFile(
          `${agentDir}/config.json`,
          JSON.stringify({
            auths: { [registry!.address]: { auth: btoa(`${USER}:${WRONG_PASSWORD}`) } },
          }),
        );
        // Read at the next try, without a restart of the agent.
        const app = await pollUntil("the registry's refusal of the wrong password", async () => {
          const [app] = await cluster.ps("private");
          return app.state === "failed" && !/no basic auth/.test(app.error ?? "") ? app : undefined;
        }, { timeoutMs: 30_000 });
        assert.match(app.error ?? "", /unauthorized|authentication required/);
        await assertNoSecrets();
      },
    );

    await cluster.step(
      t,
      "the right config in place, the container runs without a restart",
      async () => {
        await Deno.copyFile(`${loginDir}/config.json`, `${agentDir}/config.json`);
        await cluster.waitForStates("private", { app: "running" }, 60_000);
        await docker("image", "inspect", image);
        await assertNoSecrets();
      },
    );
  } finally {
    await registry?.stop();
    await cluster.stop();
  }
});
