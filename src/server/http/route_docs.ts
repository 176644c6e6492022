/**
 * The one table that describes every route of the API for its OpenAPI document: what it takes
 * (query, body), what it answers, and an example request, each with the contract's own schemas
 * (src/api), the ones the routes validate with. Who may call a route is `ROUTE_ACCESS`'s (access.ts)
 * and not repeated here. A route added to the app needs one entry here; tests/api/openapi_test.ts
 * names any route that lacks one.
 */
import * as v from "valibot";
import {
  AgentLogPollQuerySchema,
  AgentLogUploadQuerySchema,
  ContainerActionSchema,
  ContainerQuerySchema,
  ContainerStatusSchema,
  EventPageSchema,
  EventsQuerySchema,
  HealthSchema,
  HostDesiredSchema,
  HostDrainResultSchema,
  HostNameBodySchema,
  HostRegistrationSchema,
  HostRemoveBodySchema,
  HostRemoveResultSchema,
  HostStatusSchema,
  LogFrameSchema,
  LogRequestListSchema,
  LogsQuerySchema,
  LogUploadStartSchema,
  ManifestDownResultSchema,
  ManifestDownSchema,
  ManifestHistoryRequestSchema,
  ManifestHistorySchema,
  ManifestPlanSchema,
  ManifestPsSchema,
  ManifestSummarySchema,
  RevisionRequestSchema,
  RevisionSchema,
  RollbackRequestSchema,
  RollbackResultSchema,
  SecretInfoSchema,
  SecretRemoveSchema,
  SecretSetResultSchema,
  SecretSetSchema,
  ServerStatusSchema,
  StateBatchResultSchema,
  StateBodySchema,
  TokenCreatedSchema,
  TokenCreateSchema,
  TokenInfoSchema,
  TokenRequestSchema,
  TokenRevokeSchema,
  UpResultSchema,
} from "../../api/schemas.ts";
import { ManifestSchema } from "../../manifest/schema.ts";

/**
 * How a request body is sent: `json`; `manifest`, a manifest as YAML or JSON text (the
 * Content-Type says which); `ndjson`, one JSON value per line, streamed.
 */
export type BodyMedia = "json" | "manifest" | "ndjson";

/** A route's request body. */
export interface BodyDoc {
  media: BodyMedia;
  /** What the body holds (for `ndjson`, what each line holds). */
  schema: v.GenericSchema;
  /** An empty body is taken (as `{}`). */
  optional?: true;
}

/** One answer of a route. */
export interface ResponseDoc {
  description: string;
  /** The JSON it carries (for `ndjson`, each line; for `pem`, the text); absent: no body. */
  schema?: v.GenericSchema;
  media?: "json" | "ndjson" | "pem";
  /** Headers it sets, by name, with what each says. */
  headers?: Record<string, string>;
}

/** An example request: its query parameters, path parameters and body (`ndjson`: the lines). */
export interface RequestExample {
  query?: Record<string, string>;
  params?: Record<string, string>;
  body?: unknown;
}

/** The groups routes are listed under. */
export const ROUTE_TAGS = {
  server: "The server itself: health, status and this document",
  tokens: "Tokens: the password exchange and token management",
  manifests: "Manifests: apply, remove, list, diff, history and rollback",
  containers: "Containers: actions on one container",
  hosts: "Hosts: registration, listing, drain and removal",
  events: "The event history",
  logs: "Container output",
  secrets: "Secrets: named values kept encrypted, never answered back",
  agent: "What agents call: their desired list, state reports and log uploads",
} as const;

/** The OpenAPI description of one route. */
export interface RouteDoc {
  summary: string;
  description?: string;
  tag: keyof typeof ROUTE_TAGS;
  /** The query's schema (an object of parameters), as the route validates it. */
  query?: v.GenericSchema;
  body?: BodyDoc;
  /**
   * Its answers by status: the successes with what they carry, and the errors this route has of
   * its own, each a description (every error carries the shared error body). Errors every route
   * of its kind has (bad input, a missing token, a wrong role, and any other) are added for it.
   */
  responses: Record<number, ResponseDoc | string>;
  /** A request that the route takes, for the reader and for generated clients' tests. */
  example?: RequestExample;
}

/** A route's key: its method and path as `ROUTE_ACCESS` writes them. */
export type RouteKey = `${"GET" | "POST"} /${string}`;

/** A JSON answer. */
function json(description: string, schema: v.GenericSchema, headers?: Record<string, string>) {
  return { description, schema, media: "json", ...(headers ? { headers } : {}) } as const;
}

const INDEX_HEADER = { "X-Launcher-Index": "the host's index" };

/** The shop manifest of the README: one pinned container and one placed with two replicas. */
const SHOP_MANIFEST = {
  name: "shop",
  containers: [
    {
      name: "web",
      host: "host-a",
      image: "nginx:1.27",
      ports: ["8080:80"],
      options: ["--restart=always", "--memory=256m"],
    },
    {
      name: "api",
      image: "registry.example.com/shop/api:2.3",
      replicas: 2,
      placement: { labels: { zone: "eu-1" } },
      environment: { MODE: "prod" },
      cmd: ["serve", "--port", "9000"],
    },
  ],
  update: { parallel: 1, order: "stop-first" },
};

/** Every route of the API, by method and path under `/api/v1`. */
export const ROUTE_DOCS: Record<RouteKey, RouteDoc> = {
  "GET /healthz": {
    summary: "Whether the server answers",
    tag: "server",
    responses: { 200: json("the server answers", HealthSchema) },
  },
  "GET /tls/ca": {
    summary: "The CA certificate of a server on TLS",
    description: "PEM, for joining agents, which check its SHA-256 against their join string " +
      "before they send a token. Served only by a server started with `--tls-ca`.",
    tag: "server",
    responses: {
      200: { description: "the CA certificate", schema: v.string(), media: "pem" },
      404: "the server has no CA to hand out (`no_tls_ca`)",
    },
  },
  "GET /openapi.json": {
    summary: "This document",
    description: "The OpenAPI 3.1 description of every route, generated from the API's schemas.",
    tag: "server",
    responses: {
      200: json("the OpenAPI document", v.looseObject({ openapi: v.string() })),
    },
  },
  "GET /status": {
    summary: "The server that answers: its store, who runs the cluster duties, what it holds",
    tag: "server",
    responses: { 200: json("this server", ServerStatusSchema) },
  },
  "POST /token": {
    summary: "Exchange the token password for a new token",
    description: "Admin by default; `role`, `host` and `ttl` scope it. Failed passwords are " +
      "rate-limited per client address.",
    tag: "tokens",
    body: { media: "json", schema: TokenRequestSchema },
    responses: {
      201: json("the new token, shown this once", TokenCreatedSchema),
      401: "wrong password",
      429: "too many failed passwords from this address; `Retry-After` says when to try again",
    },
    example: { body: { password: "my-token-password", role: "read", ttl: "30d" } },
  },
  "GET /tokens": {
    summary: "Every token, without its secret",
    tag: "tokens",
    responses: { 200: json("the tokens", v.array(TokenInfoSchema)) },
  },
  "POST /tokens": {
    summary: "Make a token",
    tag: "tokens",
    body: { media: "json", schema: TokenCreateSchema },
    responses: { 201: json("the new token, shown this once", TokenCreatedSchema) },
    example: { body: { role: "agent", host: "host-a", ttl: "365d" } },
  },
  "POST /tokens/revoke": {
    summary: "Revoke a token",
    tag: "tokens",
    body: { media: "json", schema: TokenRevokeSchema },
    responses: { 204: { description: "revoked (again)" }, 404: "no token has this id" },
    example: { body: { id: "a41d07e9c3b5" } },
  },
  "POST /manifest/up": {
    summary: "Apply a manifest",
    description: "The manifest as YAML or JSON; the Content-Type says which. Containers whose " +
      "spec changed are recreated, those dropped removed.",
    tag: "manifests",
    body: { media: "manifest", schema: ManifestSchema },
    responses: {
      200: json("what changed, by container name", UpResultSchema),
      409: "a container would be placed on a draining host",
    },
    example: { body: SHOP_MANIFEST },
  },
  "POST /manifest/diff": {
    summary: "What applying a manifest would change, changing nothing",
    tag: "manifests",
    body: { media: "manifest", schema: ManifestSchema },
    responses: { 200: json("the plan, container by container", ManifestPlanSchema) },
    example: { body: SHOP_MANIFEST },
  },
  "POST /manifest/down": {
    summary: "Remove a manifest's containers",
    tag: "manifests",
    body: { media: "json", schema: ManifestDownSchema },
    responses: {
      202: json("every container of it is now desired removed", ManifestDownResultSchema),
      404: "no such manifest",
    },
    example: { body: { manifest: "shop" } },
  },
  "POST /manifest/ps": {
    summary: "The containers of one manifest, or of all",
    tag: "manifests",
    body: { media: "json", schema: ManifestPsSchema, optional: true },
    responses: { 200: json("the containers", v.array(ContainerStatusSchema)) },
    example: { body: { manifest: "shop" } },
  },
  "GET /manifests": {
    summary: "Every manifest, with its counts by state and its rollout",
    tag: "manifests",
    responses: { 200: json("the manifests", v.array(ManifestSummarySchema)) },
  },
  "POST /manifest/history": {
    summary: "A manifest's revisions, newest first",
    tag: "manifests",
    body: { media: "json", schema: ManifestHistoryRequestSchema },
    responses: {
      200: json("the revisions, without their text", ManifestHistorySchema),
      404: "the manifest has no revisions",
    },
    example: { body: { manifest: "shop" } },
  },
  "POST /manifest/revision": {
    summary: "One revision of a manifest, with its text",
    tag: "manifests",
    body: { media: "json", schema: RevisionRequestSchema },
    responses: { 200: json("the revision", RevisionSchema), 404: "no such revision" },
    example: { body: { manifest: "shop", number: 2 } },
  },
  "POST /manifest/rollback": {
    summary: "Apply a stored revision again, as a new revision",
    description: "Without `to`, the revision before the current one.",
    tag: "manifests",
    body: { media: "json", schema: RollbackRequestSchema },
    responses: {
      200: json("what was applied, and the revision it became", RollbackResultSchema),
      404: "no revisions, or no revision `to`",
      409: "the rollback cannot be done: `to` is current, it would change nothing, its text " +
        "no longer validates, or it places a container on a draining host",
    },
    example: { body: { manifest: "shop", to: 1 } },
  },
  "POST /container/action": {
    summary: "Stop, kill, restart or remove one container",
    tag: "containers",
    body: { media: "json", schema: ContainerActionSchema },
    responses: {
      202: json("the action, as asked", ContainerActionSchema),
      404: "no container of that name on that host (in that manifest, when given)",
      409: "the name is in two manifests on that host (pass `manifest`), or the host is draining",
    },
    example: { body: { action: "restart", host: "host-a", container: "web", manifest: "shop" } },
  },
  "GET /hosts": {
    summary: "Every host the server knows",
    tag: "hosts",
    responses: { 200: json("the hosts", v.array(HostStatusSchema)) },
  },
  "POST /hosts/drain": {
    summary: "Drain a host: no new containers, pinned ones removed, placed ones moved",
    tag: "hosts",
    body: { media: "json", schema: HostNameBodySchema },
    responses: {
      200: json("the containers marked for removal and moved", HostDrainResultSchema),
      404: "no such host",
    },
    example: { body: { host: "host-a" } },
  },
  "POST /hosts/remove": {
    summary: "Forget a host without containers",
    description: "With `force`, a draining, offline host is forgotten with what is left on it.",
    tag: "hosts",
    body: { media: "json", schema: HostRemoveBodySchema },
    responses: {
      200: json("the host forgotten", HostRemoveResultSchema),
      404: "no such host",
      409: "containers are still placed on it",
    },
    example: { body: { host: "host-a", force: true } },
  },
  "POST /secrets": {
    summary: "Set a secret",
    description: "Makes it or replaces its value; containers that use a changed value are " +
      "recreated. The value is never answered back.",
    tag: "secrets",
    body: { media: "json", schema: SecretSetSchema },
    responses: {
      200: json("replaced (or unchanged)", SecretSetResultSchema),
      201: json("made", SecretSetResultSchema),
      503: "the server keeps no secrets (PostgreSQL without --secret-key-file)",
    },
    example: { body: { name: "db-password", value: "s3cret" } },
  },
  "GET /secrets": {
    summary: "List secrets: names, times and what uses each, never values",
    tag: "secrets",
    responses: { 200: json("every secret, by name", v.array(SecretInfoSchema)) },
  },
  "POST /secrets/remove": {
    summary: "Remove a secret no manifest uses",
    tag: "secrets",
    body: { media: "json", schema: SecretRemoveSchema },
    responses: {
      204: { description: "removed" },
      404: "no such secret",
      409: "a stored manifest uses it",
    },
    example: { body: { name: "db-password" } },
  },
  "GET /events": {
    summary: "The event history; with `after` and `wait`, a long-poll for new events",
    tag: "events",
    query: EventsQuerySchema,
    responses: { 200: json("the events, and the id to read on from", EventPageSchema) },
    example: { query: { manifest: "shop", after: "41", wait: "30s" } },
  },
  "GET /logs": {
    summary: "A container's output, as NDJSON lines",
    description: "Each line is a piece of output, or a last line with an error.",
    tag: "logs",
    query: LogsQuerySchema,
    responses: {
      200: { description: "the output, line by line", schema: LogFrameSchema, media: "ndjson" },
      404: "no such manifest or container",
      502: "the agent could not read its engine",
      503: "the host is offline, its agent is not connected, or the server is shutting down",
      504: "the agent did not take the request in time",
    },
    example: { query: { manifest: "shop", container: "web", tail: "100", follow: "true" } },
  },
  "GET /container": {
    summary: "A host's desired containers; with `index`, a long-poll until they change",
    description: "Without `index`, the list (the original body); with it, `{index, containers}` " +
      "once the host's index passes `index` or `wait` runs out.",
    tag: "agent",
    query: ContainerQuerySchema,
    responses: {
      200: json(
        "the desired list, or with `index` the host's index and list",
        v.union([v.array(ContainerStatusSchema), HostDesiredSchema]),
        INDEX_HEADER,
      ),
      503: "too many long-polls are held",
    },
    example: { query: { host: "host-a", index: "41", wait: "30s" } },
  },
  "POST /state": {
    summary: "Report observed states: one report, or a list of them",
    tag: "agent",
    body: { media: "json", schema: StateBodySchema },
    responses: {
      200: json(
        "for a list: what was applied, and the reports naming no known container",
        StateBatchResultSchema,
      ),
      204: { description: "one report, applied" },
      404: "one report naming no known container",
      409: "one report whose name is in two manifests on that host",
    },
    example: {
      body: {
        host: "host-a",
        name: "web",
        manifest: "shop",
        state: "running",
        containerId: "4f1c",
      },
    },
  },
  "POST /hosts/register": {
    summary: "Register the agent's host, or refresh its registration",
    tag: "agent",
    body: { media: "json", schema: HostRegistrationSchema },
    responses: { 200: json("the host, as the server now sees it", HostStatusSchema) },
    example: {
      body: {
        host: "host-a",
        engineVersion: "27.5.1",
        os: "linux",
        arch: "x86_64",
        cpus: 4,
        memory: 8589934592,
        agentVersion: "0.1.0",
        labels: { zone: "eu-1" },
        intervalMs: 5000,
      },
    },
  },
  "GET /agent/logs/requests": {
    summary: "Long-poll for log requests to the agent's host",
    tag: "agent",
    query: AgentLogPollQuerySchema,
    responses: {
      200: json("the requests waiting (none when `wait` ran out)", LogRequestListSchema),
      503: "too many of these polls are held",
    },
    example: { query: { host: "host-a", wait: "30s" } },
  },
  "POST /agent/logs/:id": {
    summary: "Upload the output a log request asked for, as a streaming body",
    description: 'The first line is `{"ready": true}`, then the lines of `GET /logs`; or its ' +
      "only line is an error, which answers the client.",
    tag: "agent",
    query: AgentLogUploadQuerySchema,
    body: { media: "ndjson", schema: v.union([LogUploadStartSchema, LogFrameSchema]) },
    responses: {
      204: { description: "the server needs no more: the body ended or the client left" },
      404: "no such request is waiting for this host",
    },
    example: {
      params: { id: "5b0c7d2e-8f1a-4c3b-9d6e-0a1b2c3d4e5f" },
      query: { host: "host-a" },
      body: [{ ready: true }, { stream: "stdout", data: "hello\n" }],
    },
  },
};
