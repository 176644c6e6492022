/** Errors that the CLI itself raises: the user asked for something that cannot be done as asked. */
import { LauncherError } from "../errors.ts";

/** Wrong or missing arguments: exit code 2. */
export class UsageError extends LauncherError {
  constructor(message: string) {
    super("usage", message);
  }
}

/** The work was done but did not reach its goal (as `up --wait` on a failure): exit code 1. */
export class FailedError extends LauncherError {
  constructor(message: string) {
    super("failed", message);
  }
}

/**
 * Not a failure: the command has said everything and ends with an exit code of its own, such as
 * `manifest diff`'s 3 when applying the manifest would change something.
 */
export class ExitStatus extends LauncherError {
  constructor(readonly exitCode: number) {
    super("exit_status", `exit status ${exitCode}`);
  }
}
