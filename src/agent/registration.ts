/**
 * The agent's registration: on its first contact, and again whenever the server may have
 * forgotten it (the long-poll answer does not say `registered`, or the server was unreachable),
 * the agent tells the server about its host: engine version, OS, architecture, CPUs, memory,
 * agent version, labels and its interval.
 */
import type { HostRegistration } from "../api/schemas.ts";
import type { LauncherClient } from "../client/client.ts";
import type { Engine } from "../docker/engine.ts";
import { type Clock, systemClock } from "../clock.ts";
import { VERSION } from "../version.ts";
import { DEFAULT_ENGINE_TIMEOUT_MS, withDeadline } from "./deadline.ts";
import { errorMessage } from "../errors.ts";

/** What a registration needs. */
export interface RegistrationOptions {
  client: { registerHost: LauncherClient["registerHost"] };
  engine: Engine;
  host: string;
  labels: Record<string, string>;
  intervalMs: number;
  log: (line: string) => void;
  clock?: Clock;
  /** The deadline of each engine call (default 30 s). */
  engineTimeoutMs?: number;
}

/** Reads what the engine says about the host, as a registration. */
export async function hostFacts(
  engine: Engine,
  opts: {
    host: string;
    labels: Record<string, string>;
    intervalMs: number;
    clock?: Clock;
    engineTimeoutMs?: number;
  },
): Promise<HostRegistration> {
  const { clock = systemClock, engineTimeoutMs = DEFAULT_ENGINE_TIMEOUT_MS } = opts;
  const [version, info] = await Promise.all([
    withDeadline(clock, engineTimeoutMs, "version", (s) => engine.version(s)),
    withDeadline(clock, engineTimeoutMs, "info", (s) => engine.info(s)),
  ]);
  return {
    host: opts.host,
    engineVersion: version.version,
    os: version.os,
    arch: version.arch,
    cpus: info.ncpu,
    memory: info.memTotal,
    agentVersion: VERSION,
    labels: opts.labels,
    intervalMs: opts.intervalMs,
  };
}

/** Keeps the agent's host registered. */
export class Registration {
  #needed = true;
  #failing = false;

  constructor(private readonly opts: RegistrationOptions) {}

  /** Registers again before the next poll: the server forgot the host, or may have. */
  invalidate(): void {
    this.#needed = true;
  }

  /**
   * Registers when needed. A failure is logged once and tried again before a later poll: it must
   * not hold back the desired list.
   */
  async ensure(signal: AbortSignal): Promise<void> {
    if (!this.#needed) return;
    const { client, engine, host, log } = this.opts;
    try {
      await client.registerHost(await hostFacts(engine, this.opts), signal);
      this.#needed = false;
      if (this.#failing) log(`registered host ${host}`);
      this.#failing = false;
    } catch (error) {
      if (signal.aborted) return;
      if (!this.#failing) {
        const reason = errorMessage(error);
        log(`cannot register host ${host}: ${reason}; trying again before a later poll`);
      }
      this.#failing = true;
    }
  }
}
