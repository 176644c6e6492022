/** `launcher container stop|kill|restart|rm -h HOST -c NAME`: act on one container. */
import { Command } from "@commander-js/extra-typings";
import { ACTIONS } from "../api/schemas.ts";
import { caOption, clientFor, tokenOption, urlOption } from "./context.ts";

const DESCRIPTIONS = {
  stop: "stop a container (it stays, stopped)",
  kill: "kill a container (it stays, killed)",
  restart: "restart a container once",
  rm: "remove a container",
} as const;

/** The `container` command group; `-h` is the host here, as in the original CLI. */
export function containerCommand(print: (text: string) => void): Command {
  const container = new Command("container").description("act on one container");
  for (const action of ACTIONS) {
    container.command(action)
      .description(DESCRIPTIONS[action])
      .helpOption("--help", "display help for command")
      .requiredOption("-h, --host <host>", "host the container runs on")
      .requiredOption("-c, --container <name>", "container name")
      .option("-m, --manifest <name>", "manifest, when the name is in several on the host")
      .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
      .action(async (opts) => {
        await clientFor(opts).action({
          action,
          host: opts.host,
          container: opts.container,
          ...(opts.manifest ? { manifest: opts.manifest } : {}),
        });
        print(`${action} requested for ${opts.container} on ${opts.host}`);
      });
  }
  return container;
}
