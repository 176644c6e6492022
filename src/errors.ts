/** The base of every error launcher raises on purpose: a stable `code` and a one-line message. */
import type { ErrorDetail } from "./api/schemas.ts";

/** An error with a stable machine-readable code and optional per-field details. */
export class LauncherError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}
