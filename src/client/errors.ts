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

/** The server could not be reached (refused, reset, timed out). */
export class UnreachableError extends LauncherError {
  constructor(url: string, cause: string) {
    super("server_unreachable", `cannot reach the server at ${url}: ${cause}`);
  }
}
