/** `launcher hosts [ls|drain|rm]`: the hosts agents registered; draining and forgetting them. */
import { Command } from "@commander-js/extra-typings";
import type { HostStatus } from "../api/schemas.ts";
import { caOption, clientFor, outputOption, tokenOption, urlOption } from "./context.ts";
import { age, table } from "./output.ts";

/** When a host was last seen: `now` while its agent is polling, `12s ago`, or `never`. */
export function lastSeenText(h: HostStatus, now = Date.now()): string {
  if (h.lastSeen === undefined) return "never";
  if (h.online && now - Date.parse(h.lastSeen) < 1000) return "now";
  return `${age(h.lastSeen, now)} ago`;
}

/** The `hosts` table: one row per host, labels as `key=value` pairs. */
export function hostsTable(list: HostStatus[], now = Date.now()): string {
  const header = ["NAME", "STATUS", "LAST SEEN", "RUNNING/TOTAL", "ENGINE", "LABELS"];
  const rows = list.map((h) => [
    h.name,
    h.draining && !h.online ? "offline (draining)" : h.status,
    lastSeenText(h, now),
    `${h.containers.running}/${h.containers.total}`,
    h.engineVersion ?? "-",
    Object.entries(h.labels).sort(([a], [b]) => a < b ? -1 : 1).map(([k, v]) => `${k}=${v}`)
      .join(",") || "-",
  ]);
  return table(header, rows);
}

/** The `hosts` command group. */
export function hostsCommand(print: (text: string) => void): Command {
  const hosts = new Command("hosts")
    .description("list the hosts agents registered; drain and remove them");

  hosts.command("ls", { isDefault: true })
    .description("list hosts: status, last seen, containers, engine, labels (the default)")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption()).addOption(outputOption())
    .action(async (opts) => {
      const list = await clientFor(opts).hosts();
      print(opts.output === "json" ? JSON.stringify(list, null, 2) : hostsTable(list));
    });

  hosts.command("drain")
    .description("take no new containers on a host, move its placed ones and remove the rest")
    .argument("<name>", "host name")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (name, opts) => {
      const result = await clientFor(opts).drainHost(name);
      const moved = result.moved ?? [];
      const parts = [
        ...(result.removed.length > 0 ? [`removing ${result.removed.join(", ")}`] : []),
        ...(moved.length > 0
          ? [`moving ${moved.join(", ")} (each removed once its replacement runs)`]
          : []),
      ];
      print(
        `${name}: draining; ${parts.length > 0 ? parts.join("; ") : "no containers to remove"}`,
      );
    });

  hosts.command("rm")
    .description("forget a host that has no containers left (stop its agent first)")
    .argument("<name>", "host name")
    .option("--force", "also forget the containers left on a drained host that is offline")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (name, opts) => {
      await clientFor(opts).removeHost(name, opts.force === true);
      print(`${name}: removed`);
    });

  return hosts;
}
