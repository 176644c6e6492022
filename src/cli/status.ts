/** `launcher status`: the server that answers, its store, and who runs the cluster duties. */
import { Command } from "@commander-js/extra-typings";
import type { ServerStatus } from "../api/schemas.ts";
import { caOption, clientFor, outputOption, tokenOption, urlOption } from "./context.ts";
import { age } from "./output.ts";

/** Who runs the cluster duties, in words. */
function dutiesText(s: ServerStatus, now: number): string {
  const { holding, holder, since, error } = s.duties;
  if (error !== undefined) {
    return `${holding ? "this server" : "unknown"} (cannot read the holder: ${error})`;
  }
  if (holder === undefined) return "nobody (a server takes them within seconds)";
  const who = holding && holder === s.server ? "this server" : holder;
  return since === undefined ? who : `${who}, since ${since} (${age(since, now)} ago)`;
}

/** The `status` lines: one fact per line, its name first. */
export function statusText(s: ServerStatus, now = Date.now()): string {
  const lines: [string, string][] = [
    ["server", `${s.server} (launcher ${s.version})`],
    ["store", `${s.store.kind} ${s.store.location}`],
    ["duties", dutiesText(s, now)],
    [
      "wake-ups",
      s.wakeups.kind === "in-process"
        ? "in process (one server)"
        : `${s.wakeups.kind}, ${
          s.wakeups.listening ? "listening" : "not listening (reconnecting)"
        }`,
    ],
    ["held", `${s.held.polls} agent long-polls, ${s.held.follows} event follows`],
  ];
  const width = Math.max(...lines.map(([name]) => name.length));
  return lines.map(([name, value]) => `${name.padEnd(width)}   ${value}`).join("\n");
}

/** The `status` command. */
export function statusCommand(print: (text: string) => void): Command {
  return new Command("status")
    .description("the server that answers: its store, who runs the cluster duties, held polls")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption()).addOption(outputOption())
    .action(async (opts) => {
      const status = await clientFor(opts).status();
      print(opts.output === "json" ? JSON.stringify(status, null, 2) : statusText(status));
    });
}
