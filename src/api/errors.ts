/**
 * The errors of the contract: the error body every answer uses, and the errors the server answers
 * with on purpose, each with its stable `code` and its HTTP status.
 */
import * as v from "valibot";
import { type ErrorDetail, LauncherError } from "../errors.ts";
import { apiObject } from "./validation.ts";

/** One problem of a request: where it is and what is wrong. */
export const ErrorDetailSchema = apiObject({
  path: v.optional(v.string()),
  message: v.string(),
  line: v.optional(v.number()),
  column: v.optional(v.number()),
});

/** Every error answer: `{"error": {"code", "message", "details"?}}`. */
export const ErrorBodySchema = apiObject({
  error: apiObject({
    code: v.string(),
    message: v.string(),
    details: v.optional(v.array(ErrorDetailSchema)),
  }),
});
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>;
export type { ErrorDetail };

/** A manifest, host or container the server does not know. */
export class NotFoundError extends LauncherError {
  override readonly status = 404;

  constructor(message: string) {
    super("not_found", message);
  }
}

/** A request that is valid but clashes with what is stored (an ambiguous container name). */
export class ConflictError extends LauncherError {
  override readonly status = 409;

  constructor(message: string) {
    super("conflict", message);
  }
}

/** A missing, malformed or unknown credential. */
export class UnauthorizedError extends LauncherError {
  override readonly status = 401;

  constructor(message: string) {
    super("unauthorized", message);
  }
}

/** A request body that is not valid JSON, is missing, or fails its schema. */
export class BadRequestError extends LauncherError {
  override readonly status = 400;

  constructor(message: string, details?: ErrorDetail[]) {
    super("invalid_body", message, details);
  }
}

/** A query parameter that is missing or malformed. */
export class InvalidQueryError extends LauncherError {
  override readonly status = 400;

  constructor(message: string, details?: ErrorDetail[]) {
    super("invalid_query", message, details);
  }
}

/** A known path asked with a method it does not take; `allow` lists those it takes. */
export class MethodNotAllowedError extends LauncherError {
  override readonly status = 405;

  constructor(method: string, path: string, readonly allow: readonly string[]) {
    super(
      "method_not_allowed",
      `${path} does not take ${method}: use ${allow.join(", ")}`,
    );
  }
}

/** A request body in a media type the route does not accept. */
export class UnsupportedMediaTypeError extends LauncherError {
  override readonly status = 415;

  constructor(message: string) {
    super("unsupported_media_type", message);
  }
}

/** A request body larger than the server accepts. */
export class PayloadTooLargeError extends LauncherError {
  override readonly status = 413;

  constructor(maxBytes: number) {
    super("payload_too_large", `request body is larger than ${maxBytes} bytes`);
  }
}

/** A request whose body did not arrive in time (a `Content-Length` announced and never sent). */
export class RequestTimeoutError extends LauncherError {
  override readonly status = 408;

  constructor(timeoutMs: number) {
    super("request_timeout", `request body did not arrive within ${timeoutMs} ms`);
  }
}

/** A request whose query string is longer than the server accepts. */
export class UriTooLongError extends LauncherError {
  override readonly status = 414;

  constructor(length: number, maxBytes: number) {
    super("uri_too_long", `query string is ${length} bytes, longer than ${maxBytes} bytes`);
  }
}

/** A request whose headers together are larger than the server accepts. */
export class HeadersTooLargeError extends LauncherError {
  override readonly status = 431;

  constructor(size: number, maxBytes: number) {
    super("headers_too_large", `request headers are ${size} bytes, larger than ${maxBytes} bytes`);
  }
}

/** Too many long-poll requests are held at once; the client should retry later. */
export class OverloadedError extends LauncherError {
  override readonly status = 503;

  constructor(limit: number) {
    super("overloaded", `too many held requests (limit ${limit})`);
  }
}

/** A valid token whose role or host does not allow the request. */
export class ForbiddenError extends LauncherError {
  override readonly status = 403;

  constructor(message: string, details?: ErrorDetail[]) {
    super("forbidden", message, details);
  }
}

/** Too many failed password attempts from one client address; it may retry after a while. */
export class RateLimitedError extends LauncherError {
  override readonly status = 429;

  constructor(readonly retryAfterSeconds: number) {
    super(
      "rate_limited",
      `too many failed password attempts: retry in ${retryAfterSeconds} seconds`,
    );
  }
}

/** The agent of a host cannot be asked for anything now: the host is offline or not connected. */
export class HostOfflineError extends LauncherError {
  override readonly status = 503;

  constructor(message: string) {
    super("host_offline", message);
  }
}

/** The agent of a host did not take a request it was handed in time. */
export class AgentTimeoutError extends LauncherError {
  override readonly status = 504;

  constructor(message: string) {
    super("agent_timeout", message);
  }
}

/** The agent of a host answered a request with an error of its own (its engine failed). */
export class AgentError extends LauncherError {
  override readonly status = 502;

  constructor(message: string) {
    super("agent_error", message);
  }
}

/** The server is shutting down and takes nothing new. */
export class ShuttingDownError extends LauncherError {
  override readonly status = 503;

  constructor() {
    super("shutting_down", "the server is shutting down");
  }
}

/**
 * The server's disk is full: the request changed nothing, and the same request works again once
 * there is space. The message names the data dir so the operator knows which disk to look at, or
 * the database when the store is PostgreSQL.
 */
export class StorageFullError extends LauncherError {
  override readonly status = 507;

  constructor(readonly dataDir: string, where = `the server's disk is full (data dir ${dataDir})`) {
    super("storage_full", `${where}: nothing was changed; free space and retry`);
  }
}

/**
 * The store's database cannot be reached (PostgreSQL down, restarting, or cut off): the request
 * was not done, or its transaction was rolled back, and the same request may be sent again. A
 * commit whose answer was lost may have been made: the requests clients send again are idempotent.
 */
export class StoreUnavailableError extends LauncherError {
  override readonly status = 503;

  constructor(reason: string) {
    super("store_unavailable", `the store is unreachable: ${reason}; try again`);
  }
}

/** `GET /tls/ca` on a server that runs without TLS or without `--tls-ca`: it has no CA to give. */
export class NoTlsCaError extends LauncherError {
  override readonly status = 404;

  constructor() {
    super("no_tls_ca", "this server hands out no CA: it runs without --tls-cert and --tls-ca");
  }
}
