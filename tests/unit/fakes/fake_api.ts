/**
 * The server as the agent sees it, in memory: a desired list a test sets (answering the agent's
 * long-poll at once), and a record of every report batch the agent sends.
 */
import type {
  AgentMetrics,
  ContainerStatus,
  HostDesired,
  HostRegistration,
  HostStatus,
  StateBatch,
  StateReport,
} from "../../../src/api/schemas.ts";
import type { AgentApi } from "../../../src/agent/puller.ts";
import type { LogRequestBatch } from "../../../src/client/client.ts";
import { ApiError } from "../../../src/client/errors.ts";

/** A fake of the API calls an agent makes. */
export class FakeApi implements AgentApi {
  readonly url = "http://fake-server";
  /** Every report batch received, in order (figures sent on their own are not batches). */
  readonly batches: StateReport[][] = [];
  /** The agent's figures, as each request carried them, in order. */
  readonly metrics: AgentMetrics[] = [];
  /** Refuses the batch form with figures, as a server older than them does. */
  older = false;
  /** Runs before a report batch is taken: await to hold it, throw to fail it. */
  reportHook: (reports: StateReport[]) => Promise<void> | void = () => {};
  #list: HostDesired = { index: 0, containers: [], registered: true, cluster: "cluster-1" };
  readonly #waiters = new Set<() => void>();

  /** Sets the host's desired list (a new index), waking a held long-poll. */
  set(containers: ContainerStatus[], cluster = this.#list.cluster): void {
    this.#list = { ...this.#list, index: this.#list.index + 1, containers, cluster };
    for (const wake of [...this.#waiters]) wake();
  }

  /** Every report received, in order. */
  get reports(): StateReport[] {
    return this.batches.flat();
  }

  /** The last report about one container. */
  last(name: string): StateReport | undefined {
    return this.reports.filter((r) => r.name === name).at(-1);
  }

  desired(
    _host: string,
    afterIndex: number,
    _waitMs: number,
    signal?: AbortSignal,
  ): Promise<HostDesired> {
    if (afterIndex !== this.#list.index) return Promise.resolve(this.#list);
    return new Promise((resolve, reject) => {
      const wake = () => {
        this.#waiters.delete(wake);
        signal?.removeEventListener("abort", abort);
        resolve(this.#list);
      };
      const abort = () => {
        this.#waiters.delete(wake);
        reject(signal?.reason);
      };
      this.#waiters.add(wake);
      signal?.addEventListener("abort", abort, { once: true });
    });
  }

  async report(body: StateReport[] | StateBatch): Promise<{ applied: number; unknown: number }> {
    if (this.older && !Array.isArray(body)) {
      throw new ApiError(400, "invalid_body", "invalid request body: unknown field reports");
    }
    const reports = Array.isArray(body) ? body : body.reports;
    if (reports.length > 0) await this.reportHook(reports);
    if (!Array.isArray(body) && body.agent !== undefined) this.metrics.push(body.agent);
    if (reports.length > 0) this.batches.push(reports);
    return { applied: reports.length, unknown: 0 };
  }

  registerHost(r: HostRegistration): Promise<HostStatus> {
    return Promise.resolve({
      name: r.host,
      status: "online",
      online: true,
      draining: false,
      registered: true,
      labels: r.labels,
      containers: { running: 0, total: 0 },
    });
  }

  logRequests(_host: string, _waitMs: number, signal?: AbortSignal): Promise<LogRequestBatch> {
    const none = { server: this.url, requests: [] };
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve(none);
      signal?.addEventListener("abort", () => resolve(none), { once: true });
    });
  }

  uploadLogs(): Promise<void> {
    return Promise.reject(new Error("the fake server takes no logs"));
  }
}
