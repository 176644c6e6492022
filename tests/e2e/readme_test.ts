/**
 * The README's first manifest, run as written: `deno task dev`'s own command and the README's
 * shell block, in one network namespace with the engine, as on a developer's machine where the
 * server's port and the container's published port share one network.
 */
import assert from "node:assert/strict";
import { pollUntil } from "../poll_until.ts";
import { startEngines, TEST_IMAGE } from "./engines.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The shell block of a README section, by its heading. */
function shellBlock(readme: string, heading: string): string {
  const section = readme.slice(readme.indexOf(`## ${heading}`));
  const match = /```sh\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error(`no sh block under "## ${heading}"`);
  return match[1];
}

Deno.test("the README's first manifest works as written", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const block = shellBlock(readme, "A first manifest");
  const image = /image: (\S+)/.exec(block)?.[1];
  assert.ok(image, "the block names an image");
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  const devCommand = (tasks.dev as string).split(" ");
  assert.deepEqual(devCommand.slice(0, 3), ["deno", "run", "-A"]);

  const engines = await startEngines(["readme"]);
  const work = await Deno.makeTempDir({ prefix: "launcher-readme-" });
  let dev: Deno.ChildProcess | undefined;
  try {
    const [host] = engines.hosts;
    // The test engine has no registry: the README's image is the test image under its name.
    await engines.docker(host, "tag", TEST_IMAGE, image);
    const inNetns = ["nsenter", `--net=/var/run/netns/${host.netns}`, "--"];
    const env = { DOCKER_HOST: host.dockerHost, NO_COLOR: "1" };
    // `deno task dev` is `deno run -A main.ts dev`: the same, with main.ts found from here.
    const args = devCommand.map((word) => word === "main.ts" ? `${ROOT}main.ts` : word);
    dev = new Deno.Command(inNetns[0], {
      args: [...inNetns.slice(1), Deno.execPath(), ...args.slice(1)],
      cwd: work,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const printed: string[] = [];
    const decoder = new TextDecoderStream();
    void dev.stderr.pipeThrough(decoder).pipeTo(
      new WritableStream({ write: (chunk) => void printed.push(chunk) }),
    );
    void dev.stdout.cancel();
    const exportLine = await pollUntil(
      "launcher dev's export line",
      () => /export (LAUNCHER_URL=\S+) (LAUNCHER_TOKEN=\S+)/.exec(printed.join("")) ?? undefined,
    );
    const bin = `${work}/bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      `${bin}/launcher`,
      `#!/bin/sh\nexec ${Deno.execPath()} run -A ${ROOT}main.ts "$@"\n`,
      { mode: 0o755 },
    );
    const run = await new Deno.Command(inNetns[0], {
      args: [...inNetns.slice(1), "bash", "-euo", "pipefail", "-c", block],
      cwd: work,
      env: {
        ...env,
        PATH: `${bin}:${Deno.env.get("PATH")}`,
        LAUNCHER_URL: exportLine[1].split("=")[1],
        LAUNCHER_TOKEN: exportLine[2].split("=")[1],
      },
      stdin: "null",
    }).output();
    const stdout = new TextDecoder().decode(run.stdout);
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, `${stdout}\n${stderr}\n--- launcher dev\n${printed.join("")}`);
    assert.match(stdout, /hello: created web/);
    assert.match(stdout, /hello\s+web\s+local\s+busybox:1\.36\s+8081:80\s+running\s+running/);
    assert.match(stdout, /^hello$/m, "the container served its page");
    assert.match(stdout, /hello: removing/);
  } finally {
    if (dev) {
      dev.kill("SIGTERM");
      await dev.status;
    }
    await engines.stop();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
});
