/** Errors the API client raises: the server's own error, or no answer at all. */
import { LauncherError } from "../errors.ts";
import type { ErrorDetail } from "../api/schemas.ts";

/** The server answered with an error status; `code` and message are the server's. */
export class ApiError extends LauncherError {
  constructor(
    override readonly status: number,
    code: string,
    message: string,
    details?: ErrorDetail[],
  ) {
    super(code, message, details);
  }
}

/** One server a request could not get an answer from, and why. */
export interface FailedAttempt {
  url: string;
  reason: string;
}

/**
 * No server answered (refused, reset, DNS or TLS failure). Names every server tried; `note` says
 * why the request stopped before trying the rest, when it did.
 */
export class UnreachableError extends LauncherError {
  constructor(readonly attempts: FailedAttempt[], note?: string) {
    const tried = attempts.length === 1
      ? `cannot reach the server at ${attempts[0].url}: ${attempts[0].reason}`
      : `cannot reach any server: ${attempts.map((a) => `${a.url} (${a.reason})`).join(", ")}`;
    super("server_unreachable", note === undefined ? tried : `${tried}; ${note}`);
  }
}

/** A server URL in a list (`--url`, `--master`) is empty or not an http(s) URL. */
export class ServerUrlError extends LauncherError {
  constructor(flag: string, message: string) {
    super("bad_url", `${flag}: ${message}`);
  }
}
