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
