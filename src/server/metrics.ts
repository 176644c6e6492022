/**
 * The server's metrics, for `GET /metrics`: what happened since it started (HTTP requests, state
 * reports, store transactions, what agents said about their work), kept in memory, and what the
 * store holds now (hosts by status, containers by state), read when asked, with one grouped read
 * each. docs/metrics.md lists every metric.
 */
import { type AgentMetrics, HOST_STATUSES, type HostStatus, STATES } from "../api/schemas.ts";
import { VERSION } from "../version.ts";
import type { Planner } from "./planner.ts";
import { CounterSeries, HistogramSeries, type Sample, writeFamily } from "./prometheus.ts";
import type { StateCountRow, TransactionOutcome } from "./store/store.ts";

/** Upper bounds of the HTTP request duration buckets, in seconds (long-polls land at the top). */
const HTTP_BUCKETS = [
  0.001,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  300,
] as const;

/** Upper bounds of the store transaction duration buckets, in seconds. */
const STORE_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
] as const;

/** The methods a request is counted under; any other is `other`, so that labels stay bounded. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

/** What happened to state reports: applied, dropped as about a replaced spec, or unknown. */
const REPORT_OUTCOMES = ["applied", "stale", "unknown"] as const;

/** Collects the server's metrics and writes them in Prometheus' text format. */
export class Metrics {
  readonly #requests = new CounterSeries();
  readonly #requestSeconds = new HistogramSeries(HTTP_BUCKETS);
  readonly #reports = new CounterSeries();
  readonly #transactions = new HistogramSeries(STORE_BUCKETS);
  /** What each host's agent last said about its work. */
  readonly #agents = new Map<string, AgentMetrics>();

  constructor() {
    for (const outcome of REPORT_OUTCOMES) this.#reports.inc({ outcome }, 0);
  }

  /**
   * Counts one answered HTTP request. `route` must be a pattern of the router (or one label for
   * every path it does not know), never the raw path: every label value makes a series.
   */
  request(method: string, route: string, status: number, seconds: number): void {
    const m = METHODS.has(method) ? method : "other";
    this.#requests.inc({ method: m, route, status: String(status) });
    this.#requestSeconds.observe({ method: m, route }, seconds);
  }

  /** Records one store transaction (the store's `onTransaction`). */
  transaction(seconds: number, outcome: TransactionOutcome): void {
    this.#transactions.observe({ outcome }, seconds);
  }

  /** Counts state reports received: applied, stale (about a replaced spec), unknown. */
  reported(applied: number, stale: number, unknown: number): void {
    this.#reports.inc({ outcome: "applied" }, applied);
    this.#reports.inc({ outcome: "stale" }, stale);
    this.#reports.inc({ outcome: "unknown" }, unknown);
  }

  /** Keeps what a host's agent said about its work, replacing what it said before. */
  agentSaid(host: string, metrics: AgentMetrics): void {
    this.#agents.set(host, { ...metrics });
  }

  /**
   * Every metric as Prometheus' text format. Hosts and container counts are read in one
   * transaction, so that they agree; an agent's series goes with its host once the server no
   * longer knows the host (removed).
   */
  async render(planner: Planner): Promise<string> {
    const { hosts, states } = await planner.store.transaction(async (tx) => ({
      hosts: await planner.hosts.list(tx),
      states: await tx.stateCounts(),
    }));
    const known = new Set(hosts.map((h) => h.name));
    for (const host of [...this.#agents.keys()]) if (!known.has(host)) this.#agents.delete(host);

    const out: string[] = [];
    writeFamily(out, "launcher_build_info", "gauge", "The launcher version this server runs.", [
      { labels: { version: VERSION, deno: Deno.version.deno }, value: 1 },
    ]);
    writeFamily(
      out,
      "launcher_http_requests_total",
      "counter",
      "HTTP requests answered, by method, route pattern and status.",
      this.#requests.samples(),
    );
    writeFamily(
      out,
      "launcher_http_request_duration_seconds",
      "histogram",
      "Time until an HTTP request's answer started, by method and route pattern.",
      this.#requestSeconds.samples(),
    );
    writeFamily(
      out,
      "launcher_hosts",
      "gauge",
      "Hosts the server knows, by status.",
      countBy("status", HOST_STATUSES, hosts.map((h) => ({ key: h.status, count: 1 }))),
    );
    writeFamily(
      out,
      "launcher_containers",
      "gauge",
      "Containers by observed state, as ps shows them (unknown: on a host that went offline).",
      countBy("state", STATES, containerStates(hosts, states)),
    );
    writeFamily(
      out,
      "launcher_long_polls_held",
      "gauge",
      "Agents' long-polls this server holds right now.",
      [{ labels: {}, value: planner.heldWaiters }],
    );
    writeFamily(
      out,
      "launcher_state_reports_total",
      "counter",
      "State reports received from agents, by outcome (applied, stale: about a replaced spec, unknown).",
      this.#reports.samples(),
    );
    writeFamily(
      out,
      "launcher_store_transaction_duration_seconds",
      "histogram",
      "Time of a store transaction, waiting for its turn included, by outcome.",
      this.#transactions.samples(),
    );
    const agents = [...this.#agents.entries()].sort(([a], [b]) => a < b ? -1 : 1);
    writeFamily(
      out,
      "launcher_agent_reconcile_duration_seconds",
      "gauge",
      "How long the last reconcile pass of the host's agent took, the work it started included.",
      agents.map(([host, m]) => ({ labels: { host }, value: m.reconcileSeconds })),
    );
    writeFamily(
      out,
      "launcher_agent_engine_errors_total",
      "counter",
      "Engine calls of the host's agent that failed since the agent started.",
      agents.map(([host, m]) => ({ labels: { host }, value: m.engineErrors })),
    );
    return out.join("\n") + "\n";
  }
}

/** One sample per key of `keys` (0 when none), labelled `label`, summing `counts`. */
function countBy(
  label: string,
  keys: readonly string[],
  counts: readonly { key: string; count: number }[],
): Sample[] {
  const totals = new Map<string, number>(keys.map((key) => [key, 0]));
  for (const { key, count } of counts) totals.set(key, (totals.get(key) ?? 0) + count);
  return [...totals].map(([key, value]) => ({ labels: { [label]: key }, value }));
}

/** Container counts by state as `ps` shows them: on a host that went offline, `unknown`. */
function containerStates(
  hosts: readonly HostStatus[],
  states: readonly StateCountRow[],
): { key: string; count: number }[] {
  const lost = new Set(
    hosts.filter((h) => !h.online && h.lastSeen !== undefined).map((h) => h.name),
  );
  return states.map((row) => ({
    key: lost.has(row.host) ? "unknown" : row.state,
    count: row.count,
  }));
}
