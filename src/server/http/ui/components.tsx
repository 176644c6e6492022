/** Small pieces every page of the web UI uses: times, states, links, action buttons. */
import type { FC } from "hono/jsx";
import { stateLabel } from "../../../api/schemas.ts";

/** A time span as a person reads it: `12 s ago`, `3 min ago`, `2 h ago`, `5 d ago`. */
export function agoText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** An exact time for the hover text: `2026-12-01 17:20:34 UTC`. */
export function exactTime(iso: string): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  return `${new Date(at).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A past time shown as `12 s ago`, the exact time on hover; the page's script counts on. */
export const Ago: FC<{ at?: string; now: number }> = ({ at, now }) => {
  if (at === undefined) return <span class="muted">never</span>;
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return <span>{at}</span>;
  return <time datetime={at} title={exactTime(at)} data-ago="">{agoText(now - ms)}</time>;
};

/** How a state reads at a glance. */
function stateTone(state: string, health?: string): string {
  if (state === "running") return health === "unhealthy" ? "bad" : "good";
  if (state === "failed" || state === "dead" || state === "unknown") return "bad";
  if (state === "completed") return "good";
  if (state === "pending" || state === "pulling" || state === "restarting" || state === "created") {
    return "warn";
  }
  return "";
}

/** A container's state as `ps` shows it (`failed (exit 3)`, `running (healthy)`), coloured. */
export const StateBadge: FC<{ state: string; exitCode?: number; health?: string }> = (
  { state, exitCode, health },
) => (
  <span class={`state ${stateTone(state, health)}`} data-state={state}>
    {stateLabel(state, exitCode, health)}
  </span>
);

/** The page of a manifest. */
export function manifestHref(manifest: string): string {
  return `/manifests/${encodeURIComponent(manifest)}`;
}

/** The page of a container. */
export function containerHref(manifest: string, container: string): string {
  return `${manifestHref(manifest)}/containers/${encodeURIComponent(container)}`;
}

/** The hosts page, at one host. */
export function hostHref(host: string): string {
  return `/hosts#host-${encodeURIComponent(host)}`;
}

/** A host's name linked to it; a placed container waiting for one has none yet. */
export const HostLink: FC<{ host: string }> = ({ host }) =>
  host === "" ? <span class="muted">(waiting)</span> : <a href={hostHref(host)}>{host}</a>;

/**
 * A button that posts a form changing something, with the session's CSRF token. `confirm` asks
 * first (the page's script). Only admins see these; the server refuses the post to others too.
 */
export const ActionForm: FC<{
  action: string;
  csrf: string;
  label: string;
  id: string;
  fields?: Record<string, string>;
  confirm?: string;
  danger?: boolean;
}> = ({ action, csrf, label, id, fields = {}, confirm, danger }) => (
  <form method="post" action={action} data-confirm={confirm} data-inline="">
    <input type="hidden" name="csrf" value={csrf} />
    {Object.entries(fields).map(([name, value]) => (
      <input
        type="hidden"
        name={name}
        value={value}
      />
    ))}
    <button type="submit" id={id} class={danger ? "danger" : undefined}>{label}</button>
  </form>
);

/** A byte count as people read it: `1.5 GiB`. */
export function bytesText(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
