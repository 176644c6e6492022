/**
 * Run to completion on a real engine: `launcher run --wait` prints the output and exits with the
 * container's code, as `docker run` does; a container with `restart: "no"` that exits is
 * `completed` or `failed (exit N)` and is never started again by its agent.
 */
import assert from "node:assert/strict";
import { Cluster, SLEEPER } from "./cluster.ts";
import { TEST_IMAGE } from "./engines.ts";
import { pollUntil } from "../poll_until.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A manifest of containers on host-a that each run `sh -c SCRIPT` once. */
function jobs(name: string, scripts: Record<string, string>): string {
  const containers = Object.entries(scripts).map(([container, script]) =>
    `  - name: ${container}\n    host: host-a\n    image: ${TEST_IMAGE}\n` +
    `    cmd: ${JSON.stringify(["sh", "-c", script])}\n    restart: "no"\n`
  );
  return `name: ${name}\ncontainers:\n${containers.join("")}`;
}

Deno.test("containers run to completion, and launcher run waits for them", async (t) => {
  const cluster = await Cluster.start(["host-a"]);
  const run = (name: string, ...rest: string[]) =>
    cluster.cli(["run", name, "--image", TEST_IMAGE, "--host", "host-a", ...rest]);
  const upWait = (file: string) =>
    cluster.cli(["manifest", "up", "-f", file, "--wait", "--timeout", "5s"]);
  try {
    await cluster.step(t, "run --wait prints the output and exits 0 once completed", async () => {
      const r = await run("ok", "-e", "WHO=hi", "--wait", "--", "sh", "-c", 'echo "$WHO"; exit 0');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hi\n");
      assert.match(r.stderr, /^ok: created ok$/m);
      const [ok] = await cluster.ps("ok");
      assert.equal(ok.state, "completed");
      assert.equal(ok.exitCode, 0);
      assert.deepEqual(ok.normalized.restart, { name: "no" });
    });

    await cluster.step(t, "run without --host is placed by the server as NAME.1", async () => {
      const r = await cluster.cli([
        "run",
        "placed",
        "--image",
        TEST_IMAGE,
        "--wait",
        "--",
        "sh",
        "-c",
        "echo placed; exit 0",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "placed\n");
      const [placed] = await cluster.ps("placed");
      assert.equal(placed.config.name, "placed.1");
      assert.equal(placed.host, "host-a");
      assert.equal(placed.state, "completed");
    });

    await cluster.step(t, "run --wait prints output while the container runs", async () => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MAIN,
          "run",
          "stream",
          "--image",
          TEST_IMAGE,
          "--host",
          "host-a",
          "--wait",
          "--",
          "sh",
          "-c",
          "echo started; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo finished",
        ],
        stdout: "piped",
        stderr: "piped",
        env: { LAUNCHER_URL: cluster.url, LAUNCHER_TOKEN: cluster.token },
      }).spawn();
      const stderr = new Response(child.stderr).text();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let stdout = "";
      while (!stdout.includes("started\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        stdout += value;
      }
      assert.equal(stdout, "started\n");
      // The first line came while the container still runs: it waits for this file. The agent's
      // report of the start may reach the server after the output does.
      await pollUntil("ps to show stream running", async () => {
        const [row] = await cluster.ps("stream");
        return row?.state === "running";
      });
      await cluster.engines.docker("host-a", "exec", "stream_stream", "touch", "/tmp/go");
      for (let r = await reader.read(); !r.done; r = await reader.read()) stdout += r.value;
      const status = await child.status;
      assert.equal(status.code, 0, await stderr);
      assert.equal(stdout, "started\nfinished\n");
    });

    await cluster.step(t, "run --wait exits with the container's code, stderr apart", async () => {
      const r = await run("three", "--wait", "--", "sh", "-c", "echo out; echo err >&2; exit 3");
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, "out\n");
      assert.match(r.stderr, /^err$/m);
      const ps = await cluster.cli(["manifest", "ps", "--name", "three"]);
      assert.match(
        ps.stdout,
        /three\s+three\s+host-a\s+.*running\s+failed \(exit 3\)\s+\S+\s+exited with code 3/,
      );
    });

    await cluster.step(t, "run without --wait applies and prints what up prints", async () => {
      const r = await run("later", "--", ...SLEEPER);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "later: created later\nlater: stored as revision 1\n");
      await cluster.waitForStates("later", { later: "running" });
    });

    await cluster.step(t, "run refuses a manifest name that is taken", async () => {
      const r = await run("ok", "--wait", "--", "true");
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: manifest ok exists already/);
    });

    await cluster.step(
      t,
      "run --wait exits 1 with the error when the container never ran",
      async () => {
        const r = await cluster.cli([
          "run",
          "bad",
          "--image",
          "nonexistent.invalid/nope:1",
          "--host",
          "host-a",
          "--wait",
        ]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^error: bad on host-a failed: .*nonexistent\.invalid/m);
        assert.equal(r.stdout, "");
      },
    );

    await cluster.step(t, "run refuses bad flags in their own words", async () => {
      const r = await run("ports", "-p", "99999:80", "--", "true");
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: -p: .*99999/m);
      assert.equal((await cluster.cli(["manifest", "ps", "--name", "ports"])).code, 1);
    });

    await cluster.step(
      t,
      "restart no: exit 0 is completed, exit 4 failed, and neither is started again",
      async () => {
        const file = cluster.writeManifest(
          "jobs",
          jobs("jobs", { done: "exit 0", four: "exit 4" }),
        );
        assert.equal((await cluster.cli(["manifest", "up", "-f", file])).code, 0);
        const list = await cluster.waitForStates("jobs", { done: "completed", four: "failed" });
        assert.equal(list.find((c) => c.config.name === "four")?.exitCode, 4);
        const ps = await cluster.cli(["manifest", "ps", "--name", "jobs"]);
        assert.match(ps.stdout, /jobs\s+done\s+host-a\s+.*running\s+completed/);
        assert.match(ps.stdout, /jobs\s+four\s+host-a\s+.*running\s+failed \(exit 4\)/);
        const before = await Promise.all(["jobs_done", "jobs_four"].map((n) => runs(n)));

        // The same manifest again changes nothing; then a new desired list for host-a makes its
        // agent plan every container once more, and its container running says it has.
        const again = await upWait(file);
        assert.match(again.stdout, /unchanged done, four/);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /^error: four on host-a failed: exited with code 4$/m);
        const next = cluster.writeManifest(
          "next",
          `name: next\ncontainers:\n  - name: app\n    host: host-a\n    image: ${TEST_IMAGE}\n` +
            `    cmd: ${JSON.stringify(SLEEPER)}\n`,
        );
        assert.equal((await cluster.cli(["manifest", "up", "-f", next, "--wait"])).code, 0);
        const after = await Promise.all(["jobs_done", "jobs_four"].map((n) => runs(n)));
        assert.deepEqual(after, before);
        assert.deepEqual(after.map((r) => r.status), ["exited", "exited"]);
        assert.deepEqual((await cluster.ps("jobs")).map((c) => c.state), ["completed", "failed"]);
      },
    );

    await cluster.step(t, "up --wait counts a completed container as done", async () => {
      const file = cluster.writeManifest("once", jobs("once", { once: "exit 0" }));
      assert.equal((await cluster.cli(["manifest", "up", "-f", file])).code, 0);
      await cluster.waitForStates("once", { once: "completed" });
      const up = await upWait(file);
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stderr, /✔ once \(host-a\): completed/);
    });
  } finally {
    await cluster.stop();
  }

  /** What says whether an engine container ran again: its start time, restarts and status. */
  async function runs(engineName: string) {
    const out = await cluster.engines.docker(
      "host-a",
      "inspect",
      "-f",
      "{{.State.StartedAt}} {{.RestartCount}} {{.State.Status}}",
      engineName,
    );
    const [startedAt, restarts, status] = out.trim().split(" ");
    return { startedAt, restarts, status };
  }
});
