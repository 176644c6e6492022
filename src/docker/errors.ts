/** The one error the Docker adapter raises, with the engine's own message. */
import { LauncherError } from "../errors.ts";

/** Why a call to the engine failed. */
export type DockerErrorCode = "engine_unreachable" | "not_found" | "conflict" | "engine_error";

/**
 * A failed call to the Docker engine. The message is the engine's own text (users see it in
 * `ps` as a failed container's error); `engineStatus` is the HTTP status when the engine answered.
 */
export class DockerError extends LauncherError {
  declare readonly code: DockerErrorCode;

  constructor(code: DockerErrorCode, message: string, readonly engineStatus?: number) {
    super(code, message);
  }
}
