/**
 * What the agent knows of the launcher containers on its engine, kept current without asking the
 * engine again: a full list now and then (at start, every interval, after a failure or a
 * reconnect), the engine's events, and the outcome of the agent's own calls. Every change bumps a
 * version, so an answer that was under way while something newer arrived never overwrites it.
 */
import type { ContainerEvent, ContainerSummary } from "../docker/engine.ts";

/** One launcher container as the agent knows it. */
export interface Seen {
  id: string;
  /** Names without Docker's leading slash. */
  names: string[];
  labels: Record<string, string>;
  /** The engine's state word: created, running, restarting, paused, exited, dead, removing. */
  state: string;
  exitCode?: number;
  /**
   * Set by a die event: the engine may be restarting the container under its restart policy (it
   * lists it `restarting` then, but the event does not say). A list or a call of the agent's
   * settles it.
   */
  mayRestart?: true;
  /** starting, healthy or unhealthy; absent without a health check. */
  health?: string;
  /** The view's version when this entry last changed. */
  changed: number;
  /** When it last changed (clock milliseconds). */
  at: number;
}

/** How many removed ids are remembered, so that late events cannot bring them back. */
const GONE_LIMIT = 1024;

/**
 * How long what an event or a call said outweighs a list. The engine's list lags its own events
 * (a container listed `created` just after its `start` event): a list must not undo them.
 */
export const LIST_LAG_MS = 2000;

/** The engine's words in a list entry: `Exited (137) 2 seconds ago`, `Up 1 minute (healthy)`. */
export function parseStatus(status: string): { exitCode?: number; health?: string } {
  const parsed: { exitCode?: number; health?: string } = {};
  const exited = /^Exited \((-?\d+)\)/.exec(status);
  if (exited) parsed.exitCode = Number(exited[1]);
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  if (health) parsed.health = health[1] === "health: starting" ? "starting" : health[1];
  return parsed;
}

/** The engine's containers as the agent last learned them. */
export class EngineView {
  readonly #now: () => number;
  readonly #byId = new Map<string, Seen>();
  readonly #gone = new Map<string, number>();
  #version = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Grows with every change; read it before a call whose answer is applied with `since`. */
  get version(): number {
    return this.#version;
  }

  /** Every container known. */
  all(): Seen[] {
    return [...this.#byId.values()];
  }

  /** One container by id. */
  get(id: string): Seen | undefined {
    return this.#byId.get(id);
  }

  /**
   * Takes a full list read after `since`: what changed meanwhile, or within the list's lag, is
   * newer than the list and stays. Returns the entries that changed (removed ones included).
   */
  replace(list: ContainerSummary[], since: number): Seen[] {
    const changed: Seen[] = [];
    const listed = new Set<string>();
    const fresh = (seen: Seen) => seen.changed > since || this.#now() - seen.at < LIST_LAG_MS;
    for (const c of list) {
      listed.add(c.id);
      if ((this.#gone.get(c.id) ?? -1) > since) continue;
      const known = this.#byId.get(c.id);
      if (known !== undefined && fresh(known)) continue;
      const next = { names: c.names, labels: c.labels, state: c.state, ...parseStatus(c.status) };
      if (known === undefined || !same(known, next)) changed.push(this.#set(c.id, next));
    }
    for (const [id, known] of [...this.#byId]) {
      if (listed.has(id) || fresh(known)) continue;
      this.#remove(id);
      changed.push(known);
    }
    return changed;
  }

  /** Applies one engine event; returns the entry it changed, or undefined when it changed nothing. */
  apply(e: ContainerEvent): Seen | undefined {
    if (this.#gone.has(e.id)) return undefined;
    const known = this.#byId.get(e.id);
    const base = known ?? {
      names: e.name === undefined ? [] : [e.name],
      labels: e.labels,
      state: "created",
    };
    switch (e.action) {
      case "create":
        // The agent's own create already put it here; the event says nothing newer.
        return known === undefined ? this.#set(e.id, base) : undefined;
      case "start":
      case "restart":
        // A new run starts its health over; the report fills in `starting` from the spec.
        return this.#set(e.id, {
          ...base,
          state: "running",
          exitCode: undefined,
          mayRestart: undefined,
          health: undefined,
        });
      case "unpause":
        return this.#set(e.id, { ...base, state: "running" });
      case "die":
        return this.#set(e.id, {
          ...base,
          state: "exited",
          exitCode: e.exitCode,
          mayRestart: true,
        });
      case "pause":
        return this.#set(e.id, { ...base, state: "paused" });
      case "health_status":
        return e.health === undefined ? undefined : this.#set(e.id, { ...base, health: e.health });
      case "rename":
        return e.name === undefined ? undefined : this.#set(e.id, { ...base, names: [e.name] });
      case "destroy": {
        if (known === undefined) return undefined;
        this.#remove(e.id);
        return known;
      }
      default:
        return undefined;
    }
  }

  /** The agent created a container. */
  created(id: string, name: string, labels: Record<string, string>): Seen | undefined {
    if (this.#byId.has(id) || this.#gone.has(id)) return undefined;
    return this.#set(id, { names: [name], labels, state: "created" });
  }

  /**
   * A call of the agent's succeeded and left the container in `state`, unless the engine said
   * something newer (an event) while the call was under way.
   */
  settled(id: string, state: "running" | "exited", since: number): Seen | undefined {
    const known = this.#byId.get(id);
    if (known === undefined || known.changed > since || known.state === state) return undefined;
    // The engine never restarts a container the agent stopped.
    if (state === "exited") return this.#set(id, { ...known, state, mayRestart: undefined });
    return this.#set(id, {
      ...known,
      state,
      exitCode: undefined,
      mayRestart: undefined,
      health: undefined,
    });
  }

  /** The agent removed a container. */
  removed(id: string): Seen | undefined {
    const known = this.#byId.get(id);
    this.#remove(id);
    return known;
  }

  #set(id: string, fields: Omit<Seen, "id" | "changed" | "at">): Seen {
    const entry: Seen = { ...fields, id, changed: ++this.#version, at: this.#now() };
    if (entry.exitCode === undefined) delete entry.exitCode;
    if (entry.mayRestart === undefined) delete entry.mayRestart;
    if (entry.health === undefined) delete entry.health;
    this.#byId.set(id, entry);
    return entry;
  }

  #remove(id: string): void {
    this.#byId.delete(id);
    this.#gone.set(id, ++this.#version);
    if (this.#gone.size > GONE_LIMIT) {
      this.#gone.delete(this.#gone.keys().next().value!);
    }
  }
}

function same(
  a: Omit<Seen, "id" | "changed" | "at">,
  b: Omit<Seen, "id" | "changed" | "at">,
): boolean {
  return a.state === b.state && a.exitCode === b.exitCode && a.mayRestart === b.mayRestart &&
    a.health === b.health &&
    a.names.join("\n") === b.names.join("\n") &&
    JSON.stringify(a.labels) === JSON.stringify(b.labels);
}
