/** Errors the server raises on purpose; the router maps each `code` to an HTTP status. */
import { LauncherError } from "../errors.ts";
import type { ErrorDetail } from "../api/schemas.ts";

/** A manifest, host or container the server does not know. */
export class NotFoundError extends LauncherError {
  constructor(message: string) {
    super("not_found", message);
  }
}

/** A request that is valid but clashes with what is stored (an ambiguous container name). */
export class ConflictError extends LauncherError {
  constructor(message: string) {
    super("conflict", message);
  }
}

/** A missing, malformed or unknown credential. */
export class UnauthorizedError extends LauncherError {
  constructor(message: string) {
    super("unauthorized", message);
  }
}

/** A request body that is not valid JSON, is missing, or fails its schema. */
export class BadRequestError extends LauncherError {
  constructor(message: string, details?: ErrorDetail[]) {
    super("invalid_body", message, details);
  }
}

/** A query parameter that is missing or malformed. */
export class InvalidQueryError extends LauncherError {
  constructor(message: string, details?: ErrorDetail[]) {
    super("invalid_query", message, details);
  }
}

/** A request body in a media type the route does not accept. */
export class UnsupportedMediaTypeError extends LauncherError {
  constructor(message: string) {
    super("unsupported_media_type", message);
  }
}

/** A request body larger than the server accepts. */
export class PayloadTooLargeError extends LauncherError {
  constructor(maxBytes: number) {
    super("payload_too_large", `request body is larger than ${maxBytes} bytes`);
  }
}

/** Too many long-poll requests are held at once; the client should retry later. */
export class OverloadedError extends LauncherError {
  constructor(limit: number) {
    super("overloaded", `too many held requests (limit ${limit})`);
  }
}

/** The server was started without a token password, so nobody could ever get a token. */
export class EmptyPasswordError extends LauncherError {
  constructor() {
    super("empty_password", "the token password must not be empty");
  }
}

/** A valid token whose role or host does not allow the request. */
export class ForbiddenError extends LauncherError {
  constructor(message: string, details?: ErrorDetail[]) {
    super("forbidden", message, details);
  }
}

/** Too many failed password attempts from one client address; it may retry after a while. */
export class RateLimitedError extends LauncherError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      "rate_limited",
      `too many failed password attempts: retry in ${retryAfterSeconds} seconds`,
    );
  }
}

/** The agent of a host cannot be asked for anything now: the host is offline or not connected. */
export class HostOfflineError extends LauncherError {
  constructor(message: string) {
    super("host_offline", message);
  }
}

/** The agent of a host did not take a request it was handed in time. */
export class AgentTimeoutError extends LauncherError {
  constructor(message: string) {
    super("agent_timeout", message);
  }
}

/** The agent of a host answered a request with an error of its own (its engine failed). */
export class AgentError extends LauncherError {
  constructor(message: string) {
    super("agent_error", message);
  }
}

/** The server is shutting down and takes nothing new. */
export class ShuttingDownError extends LauncherError {
  constructor() {
    super("shutting_down", "the server is shutting down");
  }
}
