/** How the CLI shows data: aligned tables for people, JSON for programs. */
import { type ContainerStatus, stateLabel } from "../api/schemas.ts";

/** Output formats a data command accepts with `-o`. */
export const FORMATS = ["table", "json"] as const;
export type Format = typeof FORMATS[number];

/** Renders rows as columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i])).join("   ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** How long ago an ISO time was, in the largest whole unit (`45s`, `3m`, `2h`, `5d`). */
export function age(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** The state as `ps` shows it: `exited (137)`, `failed (exit 3)`, `running (healthy)`. */
export function stateText(c: ContainerStatus): string {
  return stateLabel(c.state, c.exitCode, c.health);
}

/** The `manifest ps` table; an ERROR column appears only when some container has an error. */
export function psTable(list: ContainerStatus[]): string {
  const withErrors = list.some((c) => c.error);
  const header = ["MANIFEST", "CONTAINER", "HOST", "IMAGE", "PORTS", "DESIRED", "STATE", "AGE"];
  if (withErrors) header.push("ERROR");
  const rows = list.map((c) => {
    const row = [
      c.manifestName,
      c.config.name,
      c.host || "-",
      c.config.image,
      writtenPorts(c.config.ports).join(",") || "-",
      c.desired,
      stateText(c),
      age(c.createdAt),
    ];
    if (withErrors) row.push(c.error ?? "");
    return row;
  });
  return table(header, rows);
}

/** The ports of a spec as its author wrote them; the wire passes them through unchecked. */
function writtenPorts(ports: unknown): string[] {
  return Array.isArray(ports) ? ports.filter((port) => typeof port === "string") : [];
}
