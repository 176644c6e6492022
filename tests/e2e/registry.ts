/**
 * A real private registry for end-to-end tests: Debian's `docker-registry` (distribution 2.x)
 * with htpasswd auth, inside a test host's network namespace on 127.0.0.1, where its dockerd
 * reaches it over plain HTTP (the engine trusts 127.0.0.0/8 registries without TLS).
 */
import { pollUntil } from "../poll_until.ts";
import { run } from "../processes.ts";
import { execInHost } from "./engines.ts";

/** A running registry and how to stop it. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`: the registry part of its image references. */
  address: string;
  user: string;
  password: string;
  /** What it printed, for a failing test's message. */
  log(): Promise<string>;
  /** Stops the registry and removes its files; safe to call more than once. */
  stop(): Promise<void>;
}

/** Starts a registry in `netns` that lets only `user` with `password` in. */
export async function startRegistry(
  netns: string,
  user: string,
  password: string,
  port = 5000,
): Promise<TestRegistry> {
  const dir = await Deno.makeTempDir({ prefix: "lt-registry-" });
  const address = `127.0.0.1:${port}`;
  // bcrypt: the only hash distribution's htpasswd reader accepts.
  await Deno.writeTextFile(`${dir}/htpasswd`, await run("htpasswd", ["-Bbn", user, password]));
  await Deno.writeTextFile(
    `${dir}/config.yml`,
    JSON.stringify({
      version: 0.1,
      log: { level: "warn", accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: `${dir}/data` } },
      http: { addr: address, secret: crypto.randomUUID() },
      auth: { htpasswd: { realm: "launcher-test", path: `${dir}/htpasswd` } },
    }),
  );
  // The shell only sends the output to a file and execs, as nsenter does: the child's pid is the
  // registry's.
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'exec "$@" >"$0" 2>&1',
      `${dir}/registry.log`,
      "nsenter",
      `--net=/var/run/netns/${netns}`,
      "--",
      "docker-registry",
      "serve",
      `${dir}/config.yml`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let stopped = false;
  const registry: TestRegistry = {
    address,
    user,
    password,
    log: () => Deno.readTextFile(`${dir}/registry.log`).catch(() => ""),
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
  try {
    // Up when it asks for credentials: 401 on the API's base path.
    await pollUntil(
      "the registry to answer",
      async () =>
        (await execInHost(netns, [
          "curl",
          "-s",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          `http://${address}/v2/`,
        ])) === "401",
      { timeoutMs: 15_000 },
    );
  } catch (error) {
    const log = await registry.log();
    await registry.stop();
    throw new Error(`${error instanceof Error ? error.message : error}\n${log}`);
  }
  return registry;
}
