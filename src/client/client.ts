/** The one typed API client, used by the CLI and the agent. */
import * as v from "valibot";
import {
  type ContainerAction,
  type ContainerStatus,
  ContainerStatusSchema,
  ErrorBodySchema,
  type EventPage,
  EventPageSchema,
  type HostDesired,
  HostDesiredSchema,
  type HostDrainResult,
  HostDrainResultSchema,
  type HostRegistration,
  type HostStatus,
  HostStatusSchema,
  LogFrameSchema,
  type LogLine,
  type LogRequest,
  LogRequestListSchema,
  type ManifestHistory,
  ManifestHistorySchema,
  type ManifestPlan,
  ManifestPlanSchema,
  type ManifestSummary,
  ManifestSummarySchema,
  type Revision,
  RevisionSchema,
  type RollbackResult,
  RollbackResultSchema,
  type SecretInfo,
  SecretInfoSchema,
  type SecretSetResult,
  SecretSetResultSchema,
  type ServerStatus,
  ServerStatusSchema,
  type StateBatch,
  type StateReport,
  type TokenCreated,
  TokenCreatedSchema,
  type TokenInfo,
  TokenInfoSchema,
  TokenResponseSchema,
  type TokenScope,
  type UpResult,
  UpResultSchema,
} from "../api/schemas.ts";
import { ApiError, type FailedAttempt, UnreachableError } from "./errors.ts";
import { noAnswer } from "./no_answer.ts";
import { ServerList } from "./servers.ts";
import { textLines } from "../ndjson.ts";
import { errorMessage } from "../errors.ts";

const ContainerListSchema = v.array(ContainerStatusSchema);
const ManifestListSchema = v.array(ManifestSummarySchema);
const TokenListSchema = v.array(TokenInfoSchema);
const SecretListSchema = v.array(SecretInfoSchema);
const ReportManyResultSchema = v.object({
  applied: v.number(),
  unknown: v.array(v.unknown()),
});

/** Which events to read (`GET /events`). */
export interface EventsQuery {
  manifest?: string;
  host?: string;
  /** A duration back from now (`10m`) or an ISO 8601 time. */
  since?: string;
  /** Only events after this id, oldest first; without it, the newest ones. */
  after?: number;
  /** With `after`: hold the request until a matching event comes, for this long at most. */
  waitMs?: number;
  limit?: number;
}

/** Which logs to read (`GET /logs`). */
export interface LogsQuery {
  manifest: string;
  container: string;
  /** The last N lines only. */
  tail?: number;
  /** Keep the stream open for new lines. */
  follow?: boolean;
  /** A duration back from now (`10m`) or an ISO 8601 time. */
  since?: string;
  /** Add the engine's time to each line. */
  timestamps?: boolean;
}

const HostListSchema = v.array(HostStatusSchema);

/** Log requests an agent was handed, and the server that handed them out. */
export interface LogRequestBatch {
  /** Their uploads go to this server: it is the one holding the clients. */
  server: string;
  requests: LogRequest[];
}

/** How a request body is sent (`stream`: NDJSON, sent as it is produced). */
type Body =
  | { json: unknown }
  | { yaml: string }
  | { stream: ReadableStream<Uint8Array> };

/** How one request is sent. */
interface Send {
  signal?: AbortSignal;
  /**
   * Not safe to do twice (a second token, a second restart): after a connection that broke once
   * the request may have been sent, it is not sent to another server.
   */
  once?: boolean;
  /** To this server only, with no failover (a streamed body cannot be sent twice). */
  server?: string;
}

/** What a client may be told besides answers. */
export interface ClientOptions {
  /** The current server could not be reached and `to` took over. */
  onFailover?: (from: string, to: string, reason: string) => void;
  /** Sends every request through this client: one that trusts a pinned CA (see trust.ts). */
  httpClient?: Deno.HttpClient;
}

/**
 * A client for one server or a list of them, optionally authenticated with a Bearer token. A
 * request goes to the current server; when the connection fails (refused, reset, DNS, TLS, closed
 * before any answer) it goes to the next server in the list, once per server, and the server that
 * answers stays current. An HTTP answer, whatever its status, is never sent elsewhere: that server
 * answered.
 */
export class LauncherClient {
  readonly #servers: ServerList;

  constructor(
    urls: string | readonly string[],
    private readonly token?: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.#servers = new ServerList(typeof urls === "string" ? [urls] : urls);
  }

  /** The server requests go to first: the one that answered last. */
  get url(): string {
    return this.#servers.current;
  }

  /** The CA certificate (PEM) the server hands out to joining agents (`GET /tls/ca`). */
  async tlsCa(): Promise<string> {
    return await (await this.request("GET", "/tls/ca")).text();
  }

  /** Checks that the server answers. */
  async healthz(): Promise<void> {
    await drain(await this.request("GET", "/healthz"));
  }

  /** Exchanges the token password for a new token (admin unless `scope` says otherwise). */
  async createToken(password: string, scope: TokenScope = {}): Promise<string> {
    const res = await this.request("POST", "/token", { json: { password, ...scope } }, {
      once: true,
    });
    return v.parse(TokenResponseSchema, await res.json()).token;
  }

  /** Creates a token with this client's (admin) token; the secret is in the answer only. */
  async issueToken(scope: TokenScope): Promise<TokenCreated> {
    const res = await this.request("POST", "/tokens", { json: scope }, { once: true });
    return v.parse(TokenCreatedSchema, await res.json());
  }

  /** Lists every token, without secrets. */
  async listTokens(): Promise<TokenInfo[]> {
    const res = await this.request("GET", "/tokens");
    return v.parse(TokenListSchema, await res.json());
  }

  /** Revokes a token by its id. */
  async revokeToken(id: string): Promise<void> {
    await drain(await this.request("POST", "/tokens/revoke", { json: { id } }));
  }

  /** Sets a secret's value (admin); the value travels in this request's body only. */
  async setSecret(name: string, value: string): Promise<SecretSetResult> {
    const res = await this.request("POST", "/secrets", { json: { name, value } });
    return v.parse(SecretSetResultSchema, await res.json());
  }

  /** Lists secrets (admin): names, times and what refers to each, never a value. */
  async listSecrets(): Promise<SecretInfo[]> {
    const res = await this.request("GET", "/secrets");
    return v.parse(SecretListSchema, await res.json());
  }

  /** Removes a secret (admin); refused while a stored container refers to it. */
  async removeSecret(name: string): Promise<void> {
    await drain(await this.request("POST", "/secrets/remove", { json: { name } }));
  }

  /** Sends a manifest, as YAML text or as an object sent as JSON; the server validates it. */
  async up(manifest: string | Record<string, unknown>): Promise<UpResult> {
    const body = typeof manifest === "string" ? { yaml: manifest } : { json: manifest };
    const res = await this.request("POST", "/manifest/up", body);
    return v.parse(UpResultSchema, await res.json());
  }

  /** Marks every container of a manifest for removal. */
  async down(manifest: string): Promise<void> {
    await drain(await this.request("POST", "/manifest/down", { json: { manifest } }));
  }

  /** Lists containers of one manifest, or of all. */
  async ps(manifest?: string): Promise<ContainerStatus[]> {
    const res = await this.request("POST", "/manifest/ps", { json: manifest ? { manifest } : {} });
    return v.parse(ContainerListSchema, await res.json());
  }

  /** What `up` would do with a manifest (YAML text), changing nothing. */
  async diff(yaml: string): Promise<ManifestPlan> {
    const res = await this.request("POST", "/manifest/diff", { yaml });
    return v.parse(ManifestPlanSchema, await res.json());
  }

  /** Every manifest with its container count and counts by state. */
  async manifests(): Promise<ManifestSummary[]> {
    const res = await this.request("GET", "/manifests");
    return v.parse(ManifestListSchema, await res.json());
  }

  /** A manifest's revisions, newest first. */
  async history(manifest: string): Promise<ManifestHistory> {
    const res = await this.request("POST", "/manifest/history", { json: { manifest } });
    return v.parse(ManifestHistorySchema, await res.json());
  }

  /** One revision of a manifest, with the text it holds. */
  async revision(manifest: string, number: number): Promise<Revision> {
    const res = await this.request("POST", "/manifest/revision", { json: { manifest, number } });
    return v.parse(RevisionSchema, await res.json());
  }

  /** Re-applies a revision (default: the one before the current) as a new revision. */
  async rollback(manifest: string, to?: number): Promise<RollbackResult> {
    const body = to === undefined ? { manifest } : { manifest, to };
    const res = await this.request("POST", "/manifest/rollback", { json: body }, { once: true });
    return v.parse(RollbackResultSchema, await res.json());
  }

  /** Reads the event history; `after` with `waitMs` long-polls for the next matching events. */
  async events(query: EventsQuery = {}): Promise<EventPage> {
    const params = new URLSearchParams();
    if (query.manifest !== undefined) params.set("manifest", query.manifest);
    if (query.host !== undefined) params.set("host", query.host);
    if (query.since !== undefined) params.set("since", query.since);
    if (query.after !== undefined) params.set("after", String(query.after));
    if (query.waitMs !== undefined) params.set("wait", `${query.waitMs}ms`);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    const res = await this.request("GET", `/events?${params}`);
    return v.parse(EventPageSchema, await res.json());
  }

  /** Requests stop, kill, restart or rm of one container. */
  async action(action: ContainerAction): Promise<void> {
    // A second restart would restart it again; stop, kill and rm twice are one.
    const once = action.action === "restart";
    await drain(await this.request("POST", "/container/action", { json: action }, { once }));
  }

  /**
   * Fetches a host's desired list; when `afterIndex` is given, the server holds the request
   * until the host's index passes it or `waitMs` runs out.
   */
  async desired(
    host: string,
    afterIndex: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<HostDesired> {
    const query = new URLSearchParams({ host, index: String(afterIndex), wait: `${waitMs}ms` });
    const res = await this.request("GET", `/container?${query}`, undefined, { signal });
    return v.parse(HostDesiredSchema, await res.json());
  }

  /**
   * Reports observed states in one request (a list, or an agent's batch with its figures);
   * returns how many the server did not know.
   */
  async report(
    reports: StateReport[] | StateBatch,
  ): Promise<{ applied: number; unknown: number }> {
    const res = await this.request("POST", "/state", { json: reports });
    const result = v.parse(ReportManyResultSchema, await res.json());
    return { applied: result.applied, unknown: result.unknown.length };
  }

  /** Registers this agent's host (or refreshes its registration); answers the host's status. */
  async registerHost(registration: HostRegistration, signal?: AbortSignal): Promise<HostStatus> {
    const res = await this.request("POST", "/hosts/register", { json: registration }, {
      signal,
    });
    return v.parse(HostStatusSchema, await res.json());
  }

  /** Every host the server knows, by name. */
  async hosts(): Promise<HostStatus[]> {
    const res = await this.request("GET", "/hosts");
    return v.parse(HostListSchema, await res.json());
  }

  /** The server that answers: its store, who runs the cluster duties, what it holds. */
  async status(): Promise<ServerStatus> {
    const res = await this.request("GET", "/status");
    return v.parse(ServerStatusSchema, await res.json());
  }

  /** Drains a host: it takes no new containers and its containers are removed. */
  async drainHost(host: string): Promise<HostDrainResult> {
    const res = await this.request("POST", "/hosts/drain", { json: { host } });
    return v.parse(HostDrainResultSchema, await res.json());
  }

  /**
   * Forgets a host that has no containers left; with `force`, a drained and offline host with
   * what is left on it.
   */
  async removeHost(host: string, force = false): Promise<void> {
    const body = force ? { host, force } : { host };
    await drain(await this.request("POST", "/hosts/remove", { json: body }));
  }

  /**
   * A container's output, line by line as the engine gave it, until the stream ends (or, with
   * `follow`, until `signal` aborts). An error line from the server is thrown as an `ApiError`.
   */
  async *logs(query: LogsQuery, signal?: AbortSignal): AsyncGenerator<LogLine, void, undefined> {
    const params = new URLSearchParams({ manifest: query.manifest, container: query.container });
    if (query.tail !== undefined) params.set("tail", String(query.tail));
    if (query.follow) params.set("follow", "true");
    if (query.since !== undefined) params.set("since", query.since);
    if (query.timestamps) params.set("timestamps", "true");
    const path = `/logs?${params}`;
    const { res, server } = await this.exchange("GET", path, undefined, { signal });
    if (res.body === null) return;
    for await (const line of this.unbroken(server, textLines(res.body), signal)) {
      let frame: v.InferOutput<typeof LogFrameSchema>;
      try {
        frame = v.parse(LogFrameSchema, JSON.parse(line));
      } catch {
        throw new ApiError(502, "bad_log_line", `the server sent an unreadable log line: ${line}`);
      }
      if ("error" in frame) throw new ApiError(502, frame.error.code, frame.error.message);
      yield frame;
    }
  }

  /** Passes `lines` on; a connection that breaks under them is the server going away. */
  private async *unbroken(
    server: string,
    lines: AsyncGenerator<string, void, undefined>,
    signal?: AbortSignal,
  ): AsyncGenerator<string, void, undefined> {
    try {
      yield* lines;
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new UnreachableError([{ url: server, reason: errorMessage(error) }]);
    }
  }

  /**
   * An agent's poll for log requests for its host, held by the server for up to `waitMs`; the
   * answer names the server it came from, where the uploads must go.
   */
  async logRequests(host: string, waitMs: number, signal?: AbortSignal): Promise<LogRequestBatch> {
    const query = new URLSearchParams({ host, wait: `${waitMs}ms` });
    const path = `/agent/logs/requests?${query}`;
    const { res, server } = await this.exchange("GET", path, undefined, { signal });
    return { server, requests: v.parse(LogRequestListSchema, await res.json()).requests };
  }

  /**
   * Sends the output for log request `id` to `server` (a base URL, not necessarily one of the
   * client's: the server holding the request's client, which the request's `origin` names when
   * another server handed it out), as it is produced; resolves when the server answers, which it does once it needs no more (the client
   * left, or `body` ended).
   */
  async uploadLogs(
    server: string,
    host: string,
    id: string,
    body: ReadableStream<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<void> {
    const path = `/agent/logs/${encodeURIComponent(id)}?${new URLSearchParams({ host })}`;
    await drain(await this.request("POST", path, { stream: body }, { signal, server }));
  }

  /** Sends a request (see `exchange`) and answers its successful response. */
  private async request(
    method: string,
    path: string,
    body?: Body,
    send: Send = {},
  ): Promise<Response> {
    return (await this.exchange(method, path, body, send)).res;
  }

  /**
   * Sends a request to the current server, and to the next ones while connections fail; answers
   * the first successful response and the server it came from. Throws `ApiError` for an error
   * status (never sent elsewhere: that server answered) and `UnreachableError` naming every
   * server tried when none answered.
   */
  private async exchange(
    method: string,
    path: string,
    body: Body | undefined,
    send: Send,
  ): Promise<{ res: Response; server: string }> {
    const { signal } = send;
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: string | ReadableStream<Uint8Array> | undefined;
    if (body && "json" in body) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body.json);
    } else if (body && "stream" in body) {
      headers["content-type"] = "application/x-ndjson";
      payload = body.stream;
    } else if (body) {
      headers["content-type"] = "application/x-yaml";
      payload = body.yaml;
    }
    // A streamed body is sent while the answer is awaited ("half" duplex, as fetch requires).
    const init: RequestInit & { duplex?: "half"; client?: Deno.HttpClient } = {
      method,
      headers,
      body: payload,
      signal,
    };
    if (this.opts.httpClient) init.client = this.opts.httpClient;
    if (payload instanceof ReadableStream) init.duplex = "half";
    const servers = this.#servers;
    const tried: FailedAttempt[] = [];
    const targets = send.server === undefined ? servers.order() : [send.server];
    for (const server of targets) {
      let res: Response;
      try {
        res = await fetch(`${server}/api/v1${path}`, init);
      } catch (error) {
        if (signal?.aborted) throw error;
        const failure = noAnswer(error);
        tried.push({ url: server, reason: failure.reason });
        if (servers.failed(server)) this.opts.onFailover?.(server, servers.current, failure.reason);
        if (failure.maybeSent && send.once && tried.length < targets.length) {
          throw new UnreachableError(
            tried,
            `${method} ${path} may have been done there, so it is not sent to another server`,
          );
        }
        continue;
      }
      servers.answered(server);
      if (res.ok) return { res, server };
      throw await errorOf(res);
    }
    throw new UnreachableError(tried);
  }
}

/** The `ApiError` of an error response, with the server's code and message when it sent them. */
async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const error = v.safeParse(ErrorBodySchema, parsed);
  if (error.success) {
    const { code, message, details } = error.output.error;
    return new ApiError(res.status, code, message, details);
  }
  return new ApiError(res.status, "http_error", `server answered ${res.status}: ${text.trim()}`);
}

/** Releases a body the caller does not read, so the connection is not held. */
async function drain(res: Response): Promise<void> {
  await res.body?.cancel();
}
