/**
 * Logs on real engines, through the agent's own channel: stdout and stderr reach the right
 * streams with --tail, --since and --timestamps; `-f` sees a new line within a second, stops
 * cleanly on Ctrl-C (the agent closes the engine's stream), and keeps following a container
 * across a restart; an offline host answers at once with a clear error.
 */
import assert from "node:assert/strict";
import type { LogChunk } from "../../src/docker/engine.ts";
import { DockerEngine } from "../../src/docker/docker_engine.ts";
import { Cluster } from "./cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { TEST_IMAGE } from "./engines.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/**
 * Prints three lines to each stream, in turn, then waits for SIGTERM. `$$` is the shell's `$`:
 * the CLI resolves `$NAME` in manifests.
 */
const PRINTER = [
  "sh",
  "-c",
  "for i in 1 2 3; do echo out-$$i; sleep 0.05; echo err-$$i >&2; sleep 0.05; done; " +
  "trap 'exit 0' TERM; sleep 3600 & wait",
];

const APP = `name: app
containers:
  - name: printer
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(PRINTER)}
  - name: quiet
    host: host-b
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(PRINTER)}
`;

const STDOUT = "out-1\nout-2\nout-3\n";
const STDERR = "err-1\nerr-2\nerr-3\n";

/** A long-running `launcher logs` with its stdout and stderr kept apart. */
class LogsProcess {
  stdout = "";
  stderr = "";
  private readonly child: Deno.ChildProcess;
  private readonly drained: Promise<void>;

  constructor(cluster: Cluster, args: string[]) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "logs", ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { LAUNCHER_URL: cluster.url, LAUNCHER_TOKEN: cluster.token, NO_COLOR: "1" },
    }).spawn();
    const keep = async (stream: ReadableStream<Uint8Array>, to: "stdout" | "stderr") => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) this[to] += chunk;
    };
    this.drained = Promise.all([
      keep(this.child.stdout, "stdout"),
      keep(this.child.stderr, "stderr"),
    ])
      .then(() => {});
  }

  /** Waits until stdout holds `text`; returns how long that took. */
  async sees(text: string, timeoutMs = 20_000): Promise<number> {
    const started = performance.now();
    await pollUntil(
      `logs to print ${JSON.stringify(text)}`,
      () => this.stdout.includes(text),
      { timeoutMs },
    );
    return performance.now() - started;
  }

  /** Sends a signal (Ctrl-C by default) and returns the exit code. */
  async stop(signal: Deno.Signal = "SIGINT"): Promise<number> {
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
    const status = await this.child.status;
    await this.drained;
    return status.code;
  }
}

/** Writes a line to a container's stdout from outside, as its main process would. */
async function echoInto(cluster: Cluster, host: string, name: string, text: string) {
  await cluster.engines.docker(host, "exec", name, "sh", "-c", `echo ${text} > /proc/1/fd/1`);
}

Deno.test("logs: streams, tail, timestamps, follow, restarts, offline hosts", async (t) => {
  const cluster = await Cluster.start(["host-a", "host-b"], { interval: "500ms" });
  try {
    await cluster.step(t, "logs prints stdout to stdout and stderr to stderr", async () => {
      const up = await cluster.cli([
        "manifest",
        "up",
        "-f",
        cluster.writeManifest("app", APP),
        "--wait",
      ]);
      assert.equal(up.code, 0, up.stderr);
      await pollUntil("both containers' output", async () => {
        const a = await cluster.cli(["logs", "app/printer"]);
        const b = await cluster.cli(["logs", "app/quiet"]);
        return a.stderr === STDERR && b.stderr === STDERR;
      });
      const all = await cluster.cli(["logs", "app/printer"]);
      assert.equal(all.code, 0, all.stderr);
      assert.equal(all.stdout, STDOUT);
      assert.equal(all.stderr, STDERR);

      const tail = await cluster.cli(["logs", "app/printer", "--tail", "3"]);
      assert.equal(tail.code, 0, tail.stderr);
      assert.equal(tail.stdout, "out-3\n");
      assert.equal(tail.stderr, "err-2\nerr-3\n");

      const stamped = await cluster.cli(["logs", "app/printer", "--timestamps", "--tail", "2"]);
      assert.equal(stamped.code, 0, stamped.stderr);
      assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out-3\n$/);
      assert.match(stamped.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z err-3\n$/);

      const recent = await cluster.cli(["logs", "app/printer", "--since", "10m"]);
      assert.equal(recent.stdout, STDOUT);
      const future = await cluster.cli(["logs", "app/printer", "--since", "2099-01-01T00:00:00Z"]);
      assert.equal(future.code, 0, future.stderr);
      assert.equal(future.stdout + future.stderr, "");

      const unknown = await cluster.cli(["logs", "app/nope"]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /^error: container nope not found in manifest app$/m);
      const usage = await cluster.cli(["logs", "app"]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /MANIFEST\/CONTAINER/);
    });

    await cluster.step(t, "logs -f sees a new line within a second and stops cleanly", async () => {
      const follow = new LogsProcess(cluster, ["app/printer", "-f"]);
      await follow.sees("out-3\n");
      await echoInto(cluster, "host-a", "app_printer", "fresh-1");
      const took = await follow.sees("fresh-1\n", 5000);
      assert.ok(took < 1000, `the new line came after ${Math.round(took)} ms`);
      await echoInto(cluster, "host-a", "app_printer", "fresh-2");
      await follow.sees("fresh-2\n", 5000);

      const before = cluster.logs().split("closed the log stream of app/printer").length;
      const left = performance.now();
      assert.equal(await follow.stop("SIGINT"), 0, follow.stderr);
      assert.equal(follow.stdout, `${STDOUT}fresh-1\nfresh-2\n`);
      assert.equal(follow.stderr, STDERR);
      // The agent says when it has closed the engine's stream, and how many are left open.
      await pollUntil("the agent to close the engine's log stream", () => {
        const logs = cluster.logs();
        return logs.split("closed the log stream of app/printer").length > before &&
          /closed the log stream of app\/printer \(the client left\); 0 open/.test(logs);
      }, { timeoutMs: 1000 });
      assert.ok(performance.now() - left < 2000);
    });

    await cluster.step(t, "a container restarted during -f keeps being followed", async () => {
      const follow = new LogsProcess(cluster, ["app/printer", "-f", "--tail", "0"]);
      await pollUntil("the follow to start", async () => {
        await echoInto(cluster, "host-a", "app_printer", "marker");
        return follow.stdout.includes("marker\n");
      });
      const restart = await cluster.cli(["container", "restart", "-h", "host-a", "-c", "printer"]);
      assert.equal(restart.code, 0, restart.stderr);
      await follow.sees("out-3\n");
      await pollUntil("the second run's stderr", () => follow.stderr.includes("err-3\n"));
      await echoInto(cluster, "host-a", "app_printer", "after-restart");
      await follow.sees("after-restart\n");
      assert.equal(await follow.stop("SIGINT"), 0);
      const markers = follow.stdout.split("marker\n").length - 1;
      assert.equal(follow.stdout, `${"marker\n".repeat(markers)}${STDOUT}after-restart\n`);
      assert.equal(follow.stderr, STDERR, "nothing repeated, nothing lost");
    });

    await cluster.step(t, "an offline host answers at once with a clear error", async () => {
      await cluster.stopAgent("host-b", "SIGKILL");
      const started = performance.now();
      const logs = cluster.client().logs({ manifest: "app", container: "quiet" });
      await assert.rejects(logs.next(), /host host-b|the agent of host host-b/);
      assert.ok(performance.now() - started < 500, "answered at once");
      await pollUntil("host-b offline", async () => {
        return (await cluster.client().hosts()).some((h) => h.name === "host-b" && !h.online);
      });
      const cli = await cluster.cli(["logs", "app/quiet"]);
      assert.equal(cli.code, 1);
      assert.match(cli.stderr, /^error: host host-b is offline \(last seen \d+s ago\)/);
      cluster.startAgent("host-b");
      await pollUntil("host-b's logs again", async () => {
        const back = await cluster.cli(["logs", "app/quiet"]);
        return back.code === 0 && back.stdout === STDOUT;
      });
    });

    await cluster.step(t, "the engine adapter reads TTY and multiplexed output", async () => {
      const host = cluster.engines.hosts.find((h) => h.name === "host-a")!;
      const engine = new DockerEngine(host.dockerHost);
      const id = (await cluster.engines.docker(
        host,
        "run",
        "-d",
        "-t",
        TEST_IMAGE,
        "sh",
        "-c",
        "echo tty-1; echo tty-2 >&2; sleep 3600",
      )).trim();
      const read = async (target: string, timestamps: boolean) => {
        const chunks: LogChunk[] = [];
        const signal = new AbortController().signal;
        for await (const c of engine.logs(target, { follow: false, timestamps }, signal)) {
          chunks.push(c);
        }
        return chunks;
      };
      try {
        await pollUntil(
          "the TTY container's output",
          async () => (await read(id, false)).length === 2,
        );
        const chunks = await read(id, true);
        assert.deepEqual(
          chunks.map((c) => [c.stream, new TextDecoder().decode(c.data)]),
          [["stdout", "tty-1\r\n"], ["stdout", "tty-2\r\n"]],
        );
        assert.ok(chunks.every((c) => c.time !== undefined));
        const printer = await read("app_printer", false);
        assert.deepEqual(
          printer.slice(0, 2).map((c) => [c.stream, new TextDecoder().decode(c.data)]),
          [["stdout", "out-1\n"], ["stderr", "err-1\n"]],
        );
      } finally {
        await cluster.engines.docker(host, "rm", "-f", id);
      }
    });

    await cluster.step(t, "everything is removed", async () => {
      const down = await cluster.cli(["manifest", "down", "--name", "app", "--wait"]);
      assert.equal(down.code, 0, down.stderr);
    });
  } finally {
    await cluster.stop();
  }
});
