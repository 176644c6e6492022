/**
 * Figure 6, engine calls: every HTTP request the agents make to their engines (seen by the socket
 * taps) during the convergence figure's launcher rounds, from sending `manifest up` until `ps`
 * shows all N running, against the useful ones among them: the calls that change a container.
 * Everything else (list, inspect, image checks, version, ping) is overhead; the long-lived event
 * stream is one call per connection, counted when it is opened. A useful call made again on the
 * same container in the same window (a second start of it, say) is overhead too, listed as
 * `start again`: the work was done once, and counting it twice would flatter the ratio.
 */
import { shortPath, type TappedRequest } from "./socket_tap.ts";
import { verdict } from "./stats.ts";

/** The kinds of call that change a container: the work the agent is there to do. */
export const USEFUL_KINDS = ["create", "start", "stop", "kill", "restart", "remove"] as const;

/** The calls of one window (one launcher round, or all of them). */
export interface CallCount {
  total: number;
  useful: number;
  /** Calls per kind (see `callKind`). */
  byKind: Record<string, number>;
  /** Calls per host. */
  byHost: Record<string, number>;
}

const TARGET_PER_USEFUL = 1.3;
/** The order kinds are listed in: the useful ones first, then the known overhead. */
const KIND_ORDER: string[] = [
  ...USEFUL_KINDS,
  "list",
  "inspect",
  "image",
  "pull",
  "events",
  "ping",
  "version",
  "info",
];

/** The kind of one engine call: `create`, `list`, `inspect`, ..., or its method and path. */
export function callKind(request: { method: string; path: string }): string {
  const path = shortPath(request.path);
  const { method } = request;
  if (path === "/containers/create") return method === "POST" ? "create" : other(method, path);
  if (path === "/containers/json") return "list";
  if (path === "/events") return "events";
  if (path === "/_ping") return "ping";
  if (path === "/version") return "version";
  if (path === "/info") return "info";
  if (path === "/images/create") return "pull";
  if (path.startsWith("/images/")) return "image";
  const container = path.match(/^\/containers\/[^/]+(\/[a-z]+)?$/);
  if (container) {
    const action = container[1] ?? "";
    if (method === "DELETE" && action === "") return "remove";
    if (method === "GET" && action === "/json") return "inspect";
    const post = ["/start", "/stop", "/kill", "/restart"];
    if (method === "POST" && post.includes(action)) return action.slice(1);
  }
  return other(method, path);
}

/** Counts what each host's tap saw between `from` and `to` (milliseconds, as `now`). */
export function countCalls(
  tapped: Record<string, TappedRequest[]>,
  from: number,
  to: number,
): CallCount {
  const count: CallCount = { total: 0, useful: 0, byKind: {}, byHost: {} };
  for (const [host, requests] of Object.entries(tapped)) {
    const done = new Set<string>();
    for (const request of requests) {
      if (request.time < from || request.time > to) continue;
      let kind = callKind(request);
      if (isUseful(kind)) {
        const key = `${kind} ${callTarget(request)}`;
        if (done.has(key)) kind = `${kind} again`;
        done.add(key);
      }
      add(count, host, kind, 1);
    }
  }
  return count;
}

/** The calls of several windows together. */
export function sumCalls(counts: CallCount[]): CallCount {
  const sum: CallCount = { total: 0, useful: 0, byKind: {}, byHost: {} };
  for (const count of counts) {
    for (const [kind, n] of Object.entries(count.byKind)) add(sum, undefined, kind, n);
    for (const [host, n] of Object.entries(count.byHost)) {
      sum.byHost[host] = (sum.byHost[host] ?? 0) + n;
    }
  }
  return sum;
}

/** `list 12, inspect 48, image 50, create 50, start 50`: calls per kind, useful kinds first. */
export function callBreakdown(count: CallCount): string {
  const rank = (kind: string) => {
    const at = KIND_ORDER.indexOf(kind);
    return at === -1 ? KIND_ORDER.length : at;
  };
  const kinds = Object.keys(count.byKind).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return kinds.map((kind) => `${kind} ${count.byKind[kind]}`).join(", ") || "no calls";
}

/** Calls per useful call; NaN when there was no useful call. */
export function perUseful(count: CallCount): number {
  return count.useful === 0 ? NaN : count.total / count.useful;
}

/** The figure's summary line, over every launcher round of the convergence figure. */
export function engineCallsLine(containers: number, rounds: CallCount[]): string {
  const sum = sumCalls(rounds);
  const ratio = perUseful(sum);
  return `engine calls  n=${containers}  rounds=${rounds.length}  ${sum.total} calls for ${sum.useful} ` +
    `useful (${USEFUL_KINDS.join(", ")}): ${
      Number.isFinite(ratio) ? ratio.toFixed(2) : "n/a"
    } per useful call  (target <= ${TARGET_PER_USEFUL.toFixed(2)})  ${
      verdict(ratio <= TARGET_PER_USEFUL)
    }`;
}

function isUseful(kind: string): boolean {
  return (USEFUL_KINDS as readonly string[]).includes(kind);
}

/** The container a call is about: the name of a create, the id or name in any other path. */
function callTarget(request: TappedRequest): string {
  const name = request.path.match(/[?&]name=([^&]*)/);
  if (name) return decodeURIComponent(name[1]);
  return shortPath(request.path).split("/")[2] ?? "";
}

function add(count: CallCount, host: string | undefined, kind: string, n: number): void {
  count.total += n;
  if (isUseful(kind)) count.useful += n;
  count.byKind[kind] = (count.byKind[kind] ?? 0) + n;
  if (host !== undefined) count.byHost[host] = (count.byHost[host] ?? 0) + n;
}

/** An unknown call by method and path, container ids folded so that they add up. */
function other(method: string, path: string): string {
  return `${method} ${path.replace(/^\/containers\/[^/]+/, "/containers/{id}")}`;
}
