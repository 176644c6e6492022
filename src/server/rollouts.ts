/**
 * Rollouts: an `up` of a manifest with `update:` replaces its changed containers in batches of
 * `parallel`. A batch is done when every replacement in it has run (and passed its health check,
 * if it has one) for `min_healthy`; a batch past its `deadline` fails the rollout, which then
 * pauses or returns the replaced containers to their previous spec. Everything a rollout knows
 * is in the store, so a restarted server goes on where it was; `advance` moves every rollout
 * forward and runs with the scheduler's other duties.
 */
import type {
  NormalizedSpec,
  ParsedSpec,
  Placement,
  Rollout,
  RolloutStatus,
  UpdatePolicy,
} from "../api/schemas.ts";
import { instanceSpec } from "../manifest/schema.ts";
import { freshSpec, setDesired } from "./container_rows.ts";
import type { Step } from "./diff.ts";
import type { EventLog, NewEvent } from "./events.ts";
import type { HostRegistry } from "./hosts.ts";
import { Placer } from "./placement.ts";
import { askOf, fleetRoom } from "./room.ts";
import { freeName, isReady, SCHEDULER_ACTOR } from "./scheduler.ts";
import type { ContainerRow, RolloutRow, Store } from "./store/store.ts";

/** A spec a rollout moves a container from or to. */
interface Version extends ParsedSpec {
  /** The host the old version ran on ("" for a new version of a placed one: chosen later). */
  host: string;
  /** The spec's placement, for a placed instance. */
  placement?: Placement;
  template: string;
}

/** One container a rollout replaces. */
interface Entry {
  /** The instance replaced. */
  name: string;
  from: Version;
  to: Version;
  state: "waiting" | "replacing" | "done";
  /** The instance holding the new version: the same name, or a new one when started first. */
  current?: string;
  /** When the new version was first seen ready without a break (Unix ms). */
  readySince?: number;
}

/** What a rollout step needs. */
export interface RolloutsOptions {
  hosts: HostRegistry;
  events: EventLog;
}

/** Starts, advances and ends rollouts, each inside the caller's transaction (`tx`). */
export class Rollouts {
  readonly #hosts: HostRegistry;
  readonly #events: EventLog;

  constructor(opts: RolloutsOptions) {
    this.#hosts = opts.hosts;
    this.#events = opts.events;
  }

  /**
   * Starts a rollout of the changed containers among `steps` (recreates of stored ones), which
   * `up` then leaves alone; replaces the manifest's previous rollout. Inside a transaction.
   */
  async start(
    tx: Store,
    manifest: string,
    policy: UpdatePolicy,
    steps: Step[],
    revision: number | undefined,
    nowMs: number,
    actor: string,
  ): Promise<void> {
    const entries: Entry[] = [];
    for (const step of steps) {
      if (step.action !== "recreate") continue;
      const row = step.row;
      const template = step.placed?.template ?? "";
      entries.push({
        name: row.name,
        from: { ...rowVersion(row) },
        to: {
          spec: step.spec,
          normalized: step.normalized,
          hash: step.hash,
          host: step.placed === undefined ? step.normalized.host : "",
          template,
          ...(step.placed === undefined ? {} : { placement: step.placed.placement }),
        },
        state: "waiting",
      });
    }
    if (entries.length === 0) return;
    const now = new Date(nowMs).toISOString();
    await tx.putRollout({
      manifest,
      revision: revision ?? null,
      status: "running",
      batch: 0,
      batches: Math.ceil(entries.length / policy.parallel),
      plan: JSON.stringify(entries),
      policy: JSON.stringify(policy),
      started_at: now,
      batch_started_at: null,
      error: null,
      updated_at: now,
    });
    await this.#record(
      tx,
      manifest,
      actor,
      "start",
      `${entries.length} to replace, ${policy.parallel} at a time`,
    );
  }

  /** Ends a manifest's rollout in progress, if any: a later `up` or `down` takes over. */
  async supersede(tx: Store, manifest: string, now: string): Promise<void> {
    const row = await tx.rollout(manifest);
    if (row?.status !== "running") return;
    await tx.putRollout({ ...row, status: "superseded", updated_at: now });
  }

  /** Moves every rollout in progress forward; returns the hosts whose desired list changed. */
  async advance(tx: Store, nowMs: number): Promise<Set<string>> {
    const touched = new Set<string>();
    for (const row of await tx.activeRollouts()) await this.#advance(tx, row, nowMs, touched);
    return touched;
  }

  async #advance(tx: Store, row: RolloutRow, nowMs: number, touched: Set<string>): Promise<void> {
    const policy = JSON.parse(row.policy) as UpdatePolicy;
    const { entries } = planOf(row);
    const now = new Date(nowMs).toISOString();
    const replacing = entries.filter((e) => e.state === "replacing");
    let changed = false;
    for (const entry of replacing) {
      const current = await tx.container(row.manifest, entry.current ?? entry.name);
      // A container removed meanwhile (scaled down, or down) has nothing left to wait for.
      if (current === undefined || current.desired === "removed") {
        entry.state = "done";
        changed = true;
        continue;
      }
      if (!isReady(current)) {
        if (entry.readySince !== undefined) changed = true;
        delete entry.readySince;
        continue;
      }
      if (entry.readySince === undefined) {
        entry.readySince = nowMs;
        changed = true;
      }
      if (nowMs - entry.readySince >= policy.minHealthyMs) {
        entry.state = "done";
        changed = true;
      }
    }
    const inBatch = entries.filter((e) => e.state === "replacing");
    let next: Partial<RolloutRow> = {};
    if (inBatch.length > 0) {
      const started = Date.parse(row.batch_started_at ?? row.started_at);
      if (nowMs - started > policy.deadlineMs) {
        await this.#fail(tx, row, policy, entries, inBatch[0], now, touched);
        return;
      }
    } else {
      const waiting = entries.filter((e) => e.state === "waiting").slice(0, policy.parallel);
      if (waiting.length === 0) {
        next = { status: "succeeded" };
        await this.#record(
          tx,
          row.manifest,
          SCHEDULER_ACTOR,
          "succeeded",
          `${entries.length} replaced`,
        );
      } else {
        const batch = row.batch + 1;
        for (const entry of waiting) {
          await this.#replace(tx, row.manifest, entry, policy, now, touched);
        }
        next = { batch, batch_started_at: now };
        await this.#record(
          tx,
          row.manifest,
          SCHEDULER_ACTOR,
          "batch",
          `batch ${batch} of ${row.batches}: ${waiting.map((e) => e.name).join(", ")}`,
        );
      }
      changed = true;
    }
    if (!changed) return;
    await tx.putRollout({ ...row, ...next, plan: JSON.stringify(entries), updated_at: now });
  }

  /** Puts the new version of one entry in place: over the old one, or beside it (start-first). */
  async #replace(
    tx: Store,
    manifest: string,
    entry: Entry,
    policy: UpdatePolicy,
    now: string,
    touched: Set<string>,
  ): Promise<void> {
    entry.state = "replacing";
    const old = await tx.container(manifest, entry.name);
    if (old === undefined || old.desired === "removed") {
      entry.state = "done";
      return;
    }
    // A pinned container has one name on one host: its new copy cannot run beside the old one.
    const startFirst = policy.order === "start-first" && entry.to.placement !== undefined;
    const name = startFirst ? await freeName(tx, manifest, entry.to.template) : entry.name;
    const [host, pending] = await this.#hostFor(
      tx,
      manifest,
      entry.to,
      startFirst ? undefined : old,
    );
    entry.current = name;
    if (startFirst) {
      await tx.insertContainer({
        ...old,
        ...versionColumns(entry.to, name, host, pending),
        generation: 1,
        restart_generation: 0,
        replaces: old.name,
        created_at: now,
        updated_at: now,
      });
    } else {
      await tx.updateContainer({
        ...old,
        ...versionColumns(entry.to, name, host, pending),
        generation: old.generation + 1,
        updated_at: now,
      });
      touched.add(old.host);
    }
    touched.add(host);
  }

  /** Where a version goes: a pinned one on its host; a placed one where it fits, `old`'s first. */
  async #hostFor(
    tx: Store,
    manifest: string,
    version: Version,
    old: ContainerRow | undefined,
  ): Promise<[string, string | undefined]> {
    if (version.placement === undefined) return [version.normalized.host, undefined];
    const skip = new Set(old === undefined ? [] : [`${manifest}/${old.name}`]);
    const placer = new Placer(await fleetRoom(tx, this.#hosts, skip));
    const chosen = placer.place(
      askOf(manifest, version.template, version.normalized, version.placement, {
        ...(old === undefined || old.host === "" ? {} : { prefer: old.host }),
      }),
    );
    return "host" in chosen ? [chosen.host, undefined] : ["", chosen.pending];
  }

  /** Ends a rollout whose batch missed its deadline: pauses it, or rolls back what it replaced. */
  async #fail(
    tx: Store,
    row: RolloutRow,
    policy: UpdatePolicy,
    entries: Entry[],
    culprit: Entry,
    now: string,
    touched: Set<string>,
  ): Promise<void> {
    const current = await tx.container(row.manifest, culprit.current ?? culprit.name);
    const why = current === undefined
      ? "is gone"
      : `is ${current.state}${current.error === null ? "" : `: ${current.error}`}`;
    const failed = culprit.current ?? culprit.name;
    const error = `batch ${row.batch} of ${row.batches} missed its deadline of ` +
      `${formatMs(policy.deadlineMs)}: ${failed} ${why}`;
    await this.#record(tx, row.manifest, SCHEDULER_ACTOR, "failed", undefined, error, failed);
    let status: RolloutStatus = "paused";
    if (policy.onFailure === "rollback") {
      status = "rolled-back";
      const back = entries.filter((e) => e.state !== "waiting" && e.current !== undefined);
      for (const entry of back) await this.#restore(tx, row.manifest, entry, now, touched);
      await this.#record(
        tx,
        row.manifest,
        SCHEDULER_ACTOR,
        "rollback",
        back.length === 0 ? "nothing replaced yet" : back.map((e) => e.name).join(", "),
      );
    }
    await tx.putRollout({
      ...row,
      status,
      plan: JSON.stringify({ entries, failed }),
      error,
      updated_at: now,
    });
  }

  /** Returns one replaced container to its previous version. */
  async #restore(
    tx: Store,
    manifest: string,
    entry: Entry,
    now: string,
    touched: Set<string>,
  ): Promise<void> {
    const current = await tx.container(manifest, entry.current!);
    const old = await tx.container(manifest, entry.name);
    if (entry.current !== entry.name && old !== undefined && old.desired !== "removed") {
      // Started first and the old one still runs: only the new one goes.
      if (current !== undefined && current.desired !== "removed") {
        await setDesired(tx, { ...current, replaces: "" }, "removed", now);
        touched.add(current.host);
      }
      return;
    }
    if (current === undefined || current.desired === "removed") return;
    const [host, pending] = entry.from.placement === undefined
      ? [entry.from.host, undefined]
      : await this.#hostFor(tx, manifest, entry.from, current);
    await tx.updateContainer({
      ...current,
      ...versionColumns(entry.from, current.name, host, pending),
      replaces: "",
      generation: current.generation + 1,
      updated_at: now,
    });
    touched.add(current.host);
    touched.add(host);
  }

  async #record(
    tx: Store,
    manifest: string,
    actor: string,
    action: string,
    to?: string,
    error?: string,
    container?: string,
  ): Promise<void> {
    const event: NewEvent = { kind: "rollout", actor, manifest, action };
    if (to !== undefined) event.to = to;
    if (error !== undefined) event.error = error;
    if (container !== undefined) event.container = container;
    await this.#events.record(tx, [event]);
  }
}

/** The columns of a container running a version under an instance name, on a host. */
function versionColumns(version: Version, name: string, host: string, pending?: string) {
  return {
    name,
    ...freshSpec(instanceSpec(version, name, host), pending),
    ...(version.placement === undefined ? {} : { placement: JSON.stringify(version.placement) }),
  };
}

/** The version a stored container runs. */
function rowVersion(row: ContainerRow): Version {
  return {
    spec: JSON.parse(row.spec),
    normalized: JSON.parse(row.normalized) as NormalizedSpec,
    hash: row.spec_hash,
    host: row.host,
    template: row.template,
    ...(row.placement === "" ? {} : { placement: JSON.parse(row.placement) as Placement }),
  };
}

/** The entries of a stored plan (a failed one keeps them beside the container that failed). */
function planOf(row: RolloutRow): { entries: Entry[]; failed?: string } {
  const plan = JSON.parse(row.plan) as Entry[] | { entries: Entry[]; failed?: string };
  return Array.isArray(plan) ? { entries: plan } : plan;
}

/** A stored rollout as the API shows it. */
export function rolloutOf(row: RolloutRow): Rollout {
  const { entries, failed } = planOf(row);
  const rollout: Rollout = {
    status: row.status as RolloutStatus,
    batch: row.batch,
    batches: row.batches,
    containers: entries.length,
    done: entries.filter((e) => e.state === "done").length,
    startedAt: row.started_at,
  };
  if (row.revision !== null) rollout.revision = row.revision;
  if (row.error !== null) rollout.error = row.error;
  if (failed !== undefined) rollout.failed = failed;
  return rollout;
}

/** A duration as a person writes it: 90000 → 1m30s. */
function formatMs(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.length === 0 ? `${ms}ms` : parts.join("");
}
