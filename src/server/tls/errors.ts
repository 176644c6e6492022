/** Errors of the server's TLS files and of `tls init`. */
import { LauncherError } from "../../errors.ts";

/** A TLS file is missing, unreadable, malformed, expired, or does not fit the others. */
export class TlsFileError extends LauncherError {
  constructor(message: string) {
    super("tls_file", message);
  }
}

/** A `tls init` name or address is not one a certificate can hold. */
export class TlsNameError extends LauncherError {
  constructor(message: string) {
    super("tls_name", message);
  }
}
