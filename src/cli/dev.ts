/** `launcher dev`: a server and an agent for the local engine in one process, ready to use. */
import { Command } from "@commander-js/extra-typings";
import { encodeBase64Url } from "../encoding.ts";
import { LauncherClient } from "../client/client.ts";
import { startAgent } from "../agent/start.ts";
import { defaultDockerConfigDir, defaultDockerHost } from "./agent.ts";
import { launchServer, portNumber } from "./serve.ts";
import { aborted, shutdownSignal } from "./signals.ts";

/** The `dev` command. */
export function devCommand(log: (line: string) => void): Command {
  return new Command("dev")
    .description("run a server and a local agent in one process (embedded store)")
    .option("--ip <ip>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on", "8080")
    .option("--data-dir <dir>", "where the store lives", "./launcher-data")
    .option("--host <name>", "host name of the local agent", "local")
    .option("--docker-host <url>", "Docker engine address", defaultDockerHost())
    .action(async (opts) => {
      const password = encodeBase64Url(crypto.getRandomValues(new Uint8Array(18)));
      const { signal, dispose } = shutdownSignal();
      const server = await launchServer({
        hostname: opts.ip,
        port: portNumber(opts.port),
        store: opts.dataDir,
        password,
        log,
      });
      const token = await new LauncherClient(server.url).createToken(password);
      log(
        [
          `launcher dev: server on ${server.url}, agent for host "${opts.host}" on ${opts.dockerHost}`,
          `token password (this run only): ${password}`,
          "use it from another shell with:",
          `  export LAUNCHER_URL=${server.url} LAUNCHER_TOKEN=${token}`,
          `web UI: ${server.url}/ (sign in with that token)`,
        ].join("\n"),
      );
      const agent = startAgent({
        urls: [server.url],
        token,
        host: opts.host,
        dockerHost: opts.dockerHost,
        intervalMs: 5000,
        parallel: 8,
        dockerConfigDir: defaultDockerConfigDir(),
        log,
      }, signal);
      await Promise.race([agent, aborted(signal)]);
      dispose();
      await server.close();
    });
}
