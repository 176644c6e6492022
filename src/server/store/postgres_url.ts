/**
 * Store locations that name a PostgreSQL database: telling them from data dirs, and showing them
 * without their password.
 */

/** Whether a store location is a PostgreSQL URL (`postgres://`, `postgresql://`), not a data dir. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * The URL as messages and logs may show it: a password, in the user part or in a parameter
 * (`password`, `sslpassword`), becomes `***`. A URL that does not parse is not shown at all.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "postgres://(an address that does not parse)";
  }
  if (parsed.password !== "") parsed.password = "***";
  // Rewritten in place: the other parameters stay as they were written.
  parsed.search = parsed.search.replace(/([?&][^=&]*password[^=&]*=)[^&]*/gi, "$1***");
  return parsed.toString();
}
