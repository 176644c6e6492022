/**
 * What the overview shows, read in one transaction and counted once: hosts by status, manifests
 * with desired against running counts, and what is failing, worst first.
 */
import type { HostStatus, Rollout } from "../../../api/schemas.ts";
import type { Planner } from "../../planner.ts";
import { rolloutOf } from "../../rollouts.ts";
import type { ContainerStateRow } from "../../store/store.ts";

/**
 * A container as the overview needs it: its state as `ps` shows it (`unknown` on a lost host),
 * without its spec. Read without the spec columns: reading and parsing 1,000 specs, and each
 * host's liveness again, as `ps` does, took most of the page's time.
 */
export interface ContainerLine {
  manifest: string;
  name: string;
  host: string;
  desired: string;
  state: string;
  exitCode?: number;
  error?: string;
  health?: string;
  updatedAt: string;
}

/**
 * Whether a listed host's containers show `unknown`: `HostRegistry.isLost`'s rule (seen once,
 * offline now) on the host as `hosts.list` shows it.
 */
export function isLost(host: HostStatus): boolean {
  return host.lastSeen !== undefined && !host.online;
}

/** A stored container as the overview shows it, `unknown` when its host is lost. */
export function containerLine(row: ContainerStateRow, lost: ReadonlySet<string>): ContainerLine {
  const line: ContainerLine = {
    manifest: row.manifest,
    name: row.name,
    host: row.host,
    desired: row.desired,
    state: lost.has(row.host) ? "unknown" : row.state,
    updatedAt: row.updated_at,
  };
  if (row.exit_code !== null) line.exitCode = row.exit_code;
  if (row.error !== null) line.error = row.error;
  if (row.health !== null) line.health = row.health;
  return line;
}

/** One manifest's line of the overview. */
export interface ManifestLine {
  name: string;
  containers: number;
  /** Containers desired running. */
  desired: number;
  /** Containers seen running. */
  running: number;
  /** Containers that are failing (as in `Failing`). */
  failing: number;
  rollout?: Rollout;
  updatedAt: string;
}

/** Why a container is listed as failing, worst first. */
export type FailingKind = "failed" | "unhealthy" | "pending" | "unknown";

/** One failing container, with its reason. */
export interface FailingContainer {
  kind: FailingKind;
  container: ContainerLine;
}

/** Everything the overview page shows. */
export interface Overview {
  hosts: HostStatus[];
  manifests: ManifestLine[];
  /** Failing containers, failed first, then unhealthy, pending with a reason, on offline hosts. */
  failing: FailingContainer[];
  offlineHosts: HostStatus[];
  /** The last event id when read: the live region follows changes after it. */
  lastEventId: number;
}

const ORDER: Record<FailingKind, number> = { failed: 0, unhealthy: 1, pending: 2, unknown: 3 };

/** Whether, and why, a container counts as failing. */
export function failingKind(c: ContainerLine): FailingKind | undefined {
  if (c.desired === "removed") return undefined;
  if (c.state === "failed" || c.state === "dead") return "failed";
  if (c.state === "running" && c.health === "unhealthy") return "unhealthy";
  if (c.state === "pending" && c.error !== undefined) return "pending";
  if (c.state === "unknown") return "unknown";
  return undefined;
}

/** Failing containers of a list, worst first, then by manifest and name. */
export function failingOf(list: ContainerLine[]): FailingContainer[] {
  const failing: FailingContainer[] = [];
  for (const container of list) {
    const kind = failingKind(container);
    if (kind !== undefined) failing.push({ kind, container });
  }
  return failing.sort((a, b) =>
    ORDER[a.kind] - ORDER[b.kind] ||
    a.container.manifest.localeCompare(b.container.manifest) ||
    a.container.name.localeCompare(b.container.name)
  );
}

/** Reads the overview: every read in one transaction, so the counts agree with each other. */
export function readOverview(planner: Planner): Promise<Overview> {
  return planner.store.transaction(async (tx) => {
    const lastEventId = await tx.lastEventId();
    const manifests = await tx.allManifests();
    const hosts = await planner.hosts.list(tx);
    const lost = new Set(hosts.filter(isLost).map((h) => h.name));
    const containers = (await tx.containerStates()).map((row) => containerLine(row, lost));
    const rollouts = new Map((await tx.allRollouts()).map((r) => [r.manifest, rolloutOf(r)]));
    const lines = new Map<string, ManifestLine>(manifests.map((m) => {
      const line: ManifestLine = {
        name: m.name,
        containers: 0,
        desired: 0,
        running: 0,
        failing: 0,
        updatedAt: m.updated_at,
      };
      const rollout = rollouts.get(m.name);
      if (rollout !== undefined) line.rollout = rollout;
      return [m.name, line];
    }));
    for (const c of containers) {
      const line = lines.get(c.manifest);
      if (line === undefined) continue;
      line.containers++;
      if (c.desired === "running") line.desired++;
      if (c.state === "running") line.running++;
      if (failingKind(c) !== undefined) line.failing++;
    }
    return {
      hosts,
      manifests: [...lines.values()],
      failing: failingOf(containers),
      offlineHosts: hosts.filter((h) => !h.online),
      lastEventId,
    };
  });
}
