/**
 * The scheduler: where placed containers run. It chooses hosts for the placed instances of an
 * `up` (and of `diff`, changing nothing), places waiting instances when room appears, moves the
 * instances of hosts lost for longer than their manifest allows, and moves a draining host's
 * instances start-first. Each method runs inside the caller's transaction, whose `tx` it is
 * handed, and returns the hosts whose desired list it changed, for the caller to bump and wake.
 */
import type { FieldChange, NormalizedSpec, UpdatePolicy } from "../api/schemas.ts";
import { instanceName, instanceSpec } from "../manifest/schema.ts";
import { freshSpec, setDesired } from "./container_rows.ts";
import { replicaNumber, type Step } from "./diff.ts";
import type { EventLog, NewEvent } from "./events.ts";
import type { HostRegistry } from "./hosts.ts";
import { Placer } from "./placement.ts";
import { askOf, fleetRoom, reservePinned, rowAsk, rowSpec } from "./room.ts";
import type { ContainerRow, Store } from "./store/store.ts";

/** Who the scheduler's own events name. */
export const SCHEDULER_ACTOR = "scheduler";

/** The default time a host may be offline before its placed containers move (5 minutes). */
export const DEFAULT_RESCHEDULE_AFTER_MS = 5 * 60_000;

/** A manifest's policies, as stored with it. */
export interface ManifestPolicy {
  update?: UpdatePolicy;
  rescheduleAfterMs?: number;
}

/** What the scheduler needs. */
export interface SchedulerOptions {
  hosts: HostRegistry;
  events: EventLog;
  /** How long a host may be offline before its placed containers move, unless a manifest says. */
  rescheduleAfterMs?: number;
}

/** A step that places: a create or re-place of a placed instance. */
type PlacingStep = Exclude<Step, { action: "remove" }>;

/** Decides and records where placed containers run. */
export class Scheduler {
  readonly #hosts: HostRegistry;
  readonly #events: EventLog;
  readonly #rescheduleAfterMs: number;

  constructor(opts: SchedulerOptions) {
    this.#hosts = opts.hosts;
    this.#events = opts.events;
    this.#rescheduleAfterMs = opts.rescheduleAfterMs ?? DEFAULT_RESCHEDULE_AFTER_MS;
  }

  /**
   * Chooses hosts for the placed instances among `steps` (in place): new ones anywhere that fits,
   * changed ones on their host while it still fits. Pinned containers take their room first.
   */
  async placeSteps(tx: Store, manifest: string, steps: Step[]): Promise<Step[]> {
    const placing = (step: Step): step is PlacingStep =>
      step.action !== "remove" && step.action !== "unchanged" && step.placed !== undefined &&
      (step.action !== "update" || step.changes.some((c) => c.field === "placement"));
    if (!steps.some(placing)) return steps;
    // The rows these steps replace give their room back before anything is placed.
    const skip = new Set<string>();
    for (const step of steps) {
      if (step.action === "create") continue;
      if (step.action === "remove" || step.action === "recreate" || placing(step)) {
        skip.add(`${manifest}/${step.row.name}`);
      }
    }
    const fleet = await fleetRoom(tx, this.#hosts, skip);
    for (const step of steps) {
      if ((step.action === "create" || step.action === "recreate") && step.placed === undefined) {
        reservePinned(fleet, step.normalized);
      }
    }
    const placer = new Placer(fleet);
    // Instances that have a host ask for it first, so a new replica never takes its place.
    const order = steps.map((step, index) => ({ step, index }))
      .filter((entry): entry is { step: PlacingStep; index: number } => placing(entry.step))
      .sort((a, b) => Number(a.step.action === "create") - Number(b.step.action === "create"));
    const result = [...steps];
    for (const { step, index } of order) result[index] = this.#place(manifest, placer, step);
    return result;
  }

  #place(manifest: string, placer: Placer, step: PlacingStep): Step {
    const { template, placement } = step.placed!;
    const before = step.action === "create" ? "" : step.row.host;
    const ask = askOf(manifest, template, step.normalized, placement, {
      ...(before === "" ? {} : { prefer: before }),
    });
    const chosen = placer.place(ask);
    const host = "host" in chosen ? chosen.host : "";
    const pending = "pending" in chosen ? { pending: chosen.pending } : {};
    const parsed = instanceSpec(step, step.spec.name, host);
    if (step.action === "create" || host === before) return { ...step, ...parsed, ...pending };
    const move: FieldChange = { field: "host", ...(before === "" ? {} : { from: before }) };
    if (host !== "") move.to = host;
    return {
      ...step,
      ...parsed,
      ...pending,
      action: "recreate",
      changes: [...step.changes, move],
    };
  }

  /**
   * Places instances that wait for a host, where one fits now (a host registered, returned or
   * freed room); the others keep waiting, with the reason brought up to date.
   */
  async placeWaiting(tx: Store, now: string): Promise<Set<string>> {
    const touched = new Set<string>();
    const waiting = await tx.unplacedContainers();
    if (waiting.length === 0) return touched;
    const placer = new Placer(await fleetRoom(tx, this.#hosts));
    for (const row of waiting) {
      const chosen = placer.place(rowAsk(row));
      if ("pending" in chosen) {
        if (row.error !== chosen.pending) {
          await tx.updateContainer({ ...row, error: chosen.pending, updated_at: now });
        }
        continue;
      }
      await this.#moveTo(tx, row, chosen.host, now, "place");
      touched.add(chosen.host);
    }
    return touched;
  }

  /**
   * Moves the placed instances of hosts offline for longer than their manifest's
   * `reschedule_after` (else the server's) to hosts that fit; those that fit nowhere wait. The lost
   * host's agent, when it returns, removes the copies it no longer owns.
   */
  async rescheduleLost(tx: Store, nowMs: number, now: string): Promise<Set<string>> {
    const touched = new Set<string>();
    // The hosts first: when none holding placed instances is offline (most ticks), no instance
    // is read at all.
    const lost = new Map<string, number>();
    for (const host of await tx.placedHosts()) {
      const since = await this.#hosts.offlineSince(tx, host);
      if (since !== undefined) lost.set(host, since);
    }
    if (lost.size === 0) return touched;
    const due: ContainerRow[] = [];
    for (const row of await tx.placedContainers()) {
      if (row.host === "" || row.desired === "removed") continue;
      const since = lost.get(row.host);
      if (since === undefined) continue;
      if (nowMs - since >= await this.#rescheduleAfter(tx, row.manifest)) due.push(row);
    }
    if (due.length === 0) return touched;
    const placer = new Placer(await fleetRoom(tx, this.#hosts));
    for (const row of due) {
      const chosen = placer.place(rowAsk(row, { avoid: [row.host] }));
      touched.add(row.host);
      if ("pending" in chosen) {
        await this.#moveTo(tx, row, "", now, "reschedule", chosen.pending);
        continue;
      }
      await this.#moveTo(tx, row, chosen.host, now, "reschedule");
      touched.add(chosen.host);
    }
    return touched;
  }

  /**
   * Starts moving a draining host's placed instances: each gets a replacement elsewhere (or one
   * that waits for room), and stays until its replacement runs. Returns the instances it moves.
   */
  async drain(
    tx: Store,
    host: string,
    now: string,
    actor: string,
  ): Promise<{ moved: string[]; touched: Set<string> }> {
    const touched = new Set<string>();
    const moved: string[] = [];
    const rows = (await tx.containersOfHost(host))
      .filter((row) => row.template !== "" && row.desired !== "removed");
    if (rows.length === 0) return { moved, touched };
    const replaced = new Set(
      (await tx.replacingContainers()).map((row) => `${row.manifest}/${row.replaces}`),
    );
    const placer = new Placer(await fleetRoom(tx, this.#hosts));
    for (const row of rows) {
      if (replaced.has(`${row.manifest}/${row.name}`)) continue;
      const name = await freeName(tx, row.manifest, row.template);
      const chosen = placer.place(rowAsk(row, { avoid: [host] }));
      const target = "host" in chosen ? chosen.host : "";
      await tx.insertContainer({
        manifest: row.manifest,
        name,
        ...freshSpec(
          instanceSpec(rowSpec(row), name, target),
          "pending" in chosen ? chosen.pending : undefined,
        ),
        generation: 1,
        restart_generation: 0,
        template: row.template,
        placement: row.placement,
        replaces: row.name,
        created_at: now,
        updated_at: now,
      });
      await this.#events.record(tx, [{
        kind: "action",
        actor,
        manifest: row.manifest,
        container: row.name,
        host,
        action: "drain",
        to: target === "" ? `${name} (pending)` : `${name} on ${target}`,
      }]);
      moved.push(`${row.manifest}/${row.name}`);
      if (target !== "") touched.add(target);
    }
    return { moved, touched };
  }

  /** Removes instances whose replacement now runs (and passes its health check, if it has one). */
  async retireReplaced(tx: Store, now: string): Promise<Set<string>> {
    const touched = new Set<string>();
    for (const row of await tx.replacingContainers()) {
      const old = await tx.container(row.manifest, row.replaces);
      const live = old !== undefined && old.desired !== "removed";
      if (live && row.desired !== "removed" && !isReady(row)) continue;
      if (live) {
        await setDesired(tx, old, "removed", now);
        touched.add(old.host);
      }
      await tx.updateContainer({ ...row, replaces: "" });
    }
    return touched;
  }

  /** How long a host may be offline before this manifest's placed containers move. */
  async #rescheduleAfter(tx: Store, manifest: string): Promise<number> {
    const row = await tx.manifest(manifest);
    const policy = row === undefined ? {} : JSON.parse(row.policy) as ManifestPolicy;
    return policy.rescheduleAfterMs ?? this.#rescheduleAfterMs;
  }

  /** Moves a placed instance to a host ("": it waits for one), as a new container there. */
  async #moveTo(
    tx: Store,
    row: ContainerRow,
    host: string,
    now: string,
    action: string,
    pending?: string,
  ): Promise<void> {
    const parsed = instanceSpec(rowSpec(row), row.name, host);
    await tx.updateContainer({
      ...row,
      ...freshSpec(parsed, pending),
      generation: row.generation + 1,
      updated_at: now,
    });
    const event: NewEvent = {
      kind: "action",
      actor: SCHEDULER_ACTOR,
      manifest: row.manifest,
      container: row.name,
      action,
    };
    if (host !== "") event.host = host;
    if (row.host !== "") event.from = row.host;
    event.to = host === "" ? "pending" : host;
    if (pending !== undefined) event.error = pending;
    await this.#events.record(tx, [event]);
  }
}

/** Whether a container runs, and passes its health check if it has one. */
export function isReady(row: ContainerRow): boolean {
  if (row.state !== "running") return false;
  const check = (JSON.parse(row.normalized) as NormalizedSpec).healthcheck;
  return check === undefined || row.health === "healthy";
}

/** The lowest `template.N` no row of the manifest holds. */
export async function freeName(tx: Store, manifest: string, template: string): Promise<string> {
  const used = new Set(
    (await tx.containersOfManifest(manifest)).map((row) => replicaNumber(row.name, template)),
  );
  let n = 1;
  while (used.has(n)) n++;
  return instanceName(template, n);
}
