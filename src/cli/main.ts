/** The CLI: builds the command tree, runs it, and turns every outcome into an exit code. */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { errorMessage, LauncherError } from "../errors.ts";
import { DurationError } from "../duration.ts";
import { ServerUrlError } from "../client/errors.ts";
import { agentCommand } from "./agent.ts";
import { containerCommand } from "./container.ts";
import { devCommand } from "./dev.ts";
import { ExitStatus, UsageError } from "./errors.ts";
import { eventsCommand } from "./events.ts";
import { hostsCommand } from "./hosts.ts";
import { logsCommand } from "./logs.ts";
import { manifestCommand } from "./manifest.ts";
import { runCommand } from "./run.ts";
import { secretCommand } from "./secret.ts";
import { serveCommand } from "./serve.ts";
import { statusCommand } from "./status.ts";
import { storeCommand } from "./store.ts";
import { tokenCommand } from "./token.ts";
import { tlsCommand } from "./tls.ts";
import { VERSION } from "../version.ts";

/**
 * Exit codes: 0 ok, 1 server or engine error, 2 usage error; a command may end with its own
 * through `ExitStatus` (`manifest diff`: 3 when there are changes).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function print(text: string): void {
  console.log(text);
}

function log(line: string): void {
  console.error(line);
}

/** The whole command tree. */
export function program(): Command {
  const root = new Command("launcher")
    .description("pull-based container launcher for fleets of hosts")
    .version(VERSION)
    // The root's options only before a command: a token starting with "-V" given to `--token`
    // of a command would otherwise print the version (tokens are base64url, 1 in 4,096 does).
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride();
  root.addCommand(serveCommand(log));
  root.addCommand(agentCommand(log));
  root.addCommand(devCommand(log));
  root.addCommand(manifestCommand(print));
  root.addCommand(containerCommand(print));
  root.addCommand(tokenCommand(print));
  root.addCommand(eventsCommand(print));
  root.addCommand(hostsCommand(print));
  root.addCommand(statusCommand(print));
  root.addCommand(logsCommand());
  root.addCommand(runCommand(print, log));
  root.addCommand(storeCommand(print, log));
  root.addCommand(secretCommand(print));
  root.addCommand(tlsCommand(print));
  // Every subcommand throws instead of exiting, so run() decides the exit code.
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach((c) => override(c as Command));
  };
  override(root);
  return root;
}

/** Runs the CLI on `args` and returns the exit code; errors are one line on stderr. */
export async function run(args: string[]): Promise<number> {
  try {
    await program().parseAsync(args, { from: "user" });
    return EXIT.ok;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof ExitStatus) return error.exitCode;
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help).
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (
    error instanceof UsageError || error instanceof DurationError ||
    error instanceof ServerUrlError
  ) {
    log(error.message.split("\n").map((l) => `error: ${l}`).join("\n"));
    return EXIT.usage;
  }
  if (error instanceof LauncherError) {
    const lines = [`error: ${error.message}`];
    if (/invalid peer certificate: UnknownIssuer/.test(error.message)) {
      lines.push(
        "  the server's certificate is not signed by a CA this client trusts: give --ca FILE",
      );
    }
    for (const d of error.details ?? []) {
      const where = [d.line && `line ${d.line}`, d.column && `column ${d.column}`].filter(Boolean);
      lines.push(`  ${d.path ?? ""}${where.length ? ` (${where.join(", ")})` : ""}: ${d.message}`);
    }
    log(lines.join("\n"));
    return EXIT.failed;
  }
  log(`error: ${errorMessage(error)}`);
  return EXIT.failed;
}
