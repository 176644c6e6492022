/**
 * Failed steps per container: what failed, for which spec and intent, and when to try again
 * (capped exponential backoff). Each failure and each recovery is logged once, not per retry.
 */
import type { ContainerStatus } from "../api/schemas.ts";
import { Backoff } from "./backoff.ts";

/** One container's failure. */
export interface Failure {
  /** The step that failed (`start`, `create`, ...). */
  step: string;
  message: string;
  /** The spec and intent it happened under: a new one is tried at once, not after the backoff. */
  specHash: string;
  generation: number;
  /** Unix milliseconds. */
  retryAt: number;
  attempts: number;
  backoff: Backoff;
}

/** The failures of one agent's containers. */
export class Failures {
  readonly #byKey = new Map<string, Failure>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly backoff: () => Backoff = () => new Backoff(1000, 60_000),
  ) {}

  /**
   * Records a failed step; returns the delay before the next try. Logs the first failure, and a
   * failure that says something new.
   */
  record(
    key: string,
    d: ContainerStatus | undefined,
    step: string,
    message: string,
    now: number,
  ): number {
    const known = this.#byKey.get(key);
    const failure: Failure = known ?? {
      step,
      message,
      specHash: "",
      generation: 0,
      retryAt: 0,
      attempts: 0,
      backoff: this.backoff(),
    };
    if (known === undefined || known.step !== step || known.message !== message) {
      this.log(`${key}: ${step} failed: ${message}; retrying with backoff`);
    }
    const delay = failure.backoff.next();
    Object.assign(failure, {
      step,
      message,
      specHash: d?.specHash ?? "",
      generation: d?.generation ?? 0,
      retryAt: now + delay,
      attempts: failure.attempts + 1,
    });
    this.#byKey.set(key, failure);
    return delay;
  }

  /** Forgets a container's failure after a success; true (and one log line) if it had one. */
  clear(key: string, how: string): boolean {
    const failure = this.#byKey.get(key);
    if (failure === undefined) return false;
    this.#byKey.delete(key);
    const tries = failure.attempts === 1
      ? "1 failed attempt"
      : `${failure.attempts} failed attempts`;
    this.log(`${key}: recovered (${how}) after ${tries}`);
    return true;
  }

  /** The failure to report for a container: only one that happened under its current spec. */
  current(key: string, d: ContainerStatus): Failure | undefined {
    const failure = this.#byKey.get(key);
    return failure?.specHash === d.specHash ? failure : undefined;
  }

  /** Whether a container must wait before its next try: same spec and intent, backoff running. */
  waiting(key: string, d: ContainerStatus, now: number): boolean {
    const failure = this.#byKey.get(key);
    return failure !== undefined && failure.specHash === d.specHash &&
      failure.generation === d.generation && failure.retryAt > now;
  }

  /** Whether an orphan's removal must wait. */
  waitingOrphan(key: string, now: number): boolean {
    return (this.#byKey.get(key)?.retryAt ?? 0) > now;
  }

  /** Lets every failed container try again now (the engine came back). */
  retryAll(): void {
    for (const failure of this.#byKey.values()) failure.retryAt = 0;
  }

  /** Forgets the failures of containers for which `keep` is false. */
  prune(keep: (key: string) => boolean): void {
    for (const key of [...this.#byKey.keys()]) if (!keep(key)) this.#byKey.delete(key);
  }
}
