/** The base of every error launcher raises on purpose: a stable `code` and a one-line message. */

/** One problem of a request or manifest: where it is (path, line, column) and what is wrong. */
export interface ErrorDetail {
  path?: string;
  message: string;
  line?: number;
  column?: number;
}

/**
 * An error with a stable machine-readable code and optional per-field details. `status` is the
 * HTTP status the server answers it with; 500 marks an error that is not meant as an answer.
 */
export class LauncherError extends Error {
  readonly status: number = 500;

  constructor(
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** What an error says, for a message or a log line; anything thrown that is not an Error as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
