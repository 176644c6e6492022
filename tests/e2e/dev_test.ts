/** `launcher dev`: one process with a server and an agent, ready for `manifest up`. */
import assert from "node:assert/strict";
import { LauncherClient } from "../../src/client/client.ts";
import { pollUntil } from "../poll_until.ts";
import { startEngines, TEST_IMAGE } from "./engines.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

Deno.test("launcher dev prints a token and runs a manifest on the local engine", async () => {
  const engines = await startEngines(["local"]);
  const dir = await Deno.makeTempDir({ prefix: "launcher-dev-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "dev",
      "--port",
      String(port),
      "--data-dir",
      `${dir}/data`,
      "--docker-host",
      engines.hosts[0].dockerHost,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const drained = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (output += chunk) }),
  );
  const stdout = child.stdout.cancel();
  try {
    const token = await pollUntil(
      "dev to print its token",
      () => /LAUNCHER_TOKEN=(\S+)/.exec(output)?.[1],
    );
    assert.match(output, new RegExp(`LAUNCHER_URL=http://127\\.0\\.0\\.1:${port}`));
    const client = new LauncherClient(`http://127.0.0.1:${port}`, token);
    await client.up(
      `name: hello\ncontainers:\n  - name: app\n    host: local\n    image: ${TEST_IMAGE}\n    cmd: ["sleep", "300"]\n`,
    );
    await pollUntil("app running", async () => (await client.ps("hello"))[0]?.state === "running");
    const names = await engines.docker("local", "ps", "--format", "{{.Names}}");
    assert.equal(names.trim(), "hello_app");
  } catch (error) {
    console.error(output);
    throw error;
  } finally {
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await drained;
    await stdout;
    await engines.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
