/** The error of a store that cannot be opened, whichever implementation it is. */
import { LauncherError } from "../../errors.ts";

/** The store could not be opened or brought up to date; the server cannot start. */
export class StoreOpenError extends LauncherError {
  /** `location` names the store (never with a password); `reason` says why, in a few words. */
  constructor(location: string, reason: string) {
    super("store_open", `cannot open the store ${location}: ${reason}`);
  }
}
