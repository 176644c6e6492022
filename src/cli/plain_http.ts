/** The warning for a secret about to travel unencrypted to another machine. */

/** Whether a URL's host is this machine's loopback (`localhost`, 127.0.0.0/8, `::1`). */
function isLoopback(url: URL): boolean {
  const host = url.hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * A one-line warning when `secret` (a token, the token password) would go over plain HTTP to a
 * server that is not on this machine; undefined when every such URL is HTTPS or loopback.
 */
export function plainHttpWarning(urls: readonly string[], secret: string): string | undefined {
  const exposed = urls.filter((text) => {
    const url = new URL(text);
    return url.protocol === "http:" && !isLoopback(url);
  });
  if (exposed.length === 0) return undefined;
  return `warning: sending ${secret} over plain HTTP to ${exposed.join(", ")}: ` +
    "anyone on the path can read it (serve with --tls-cert, see docs/security.md)";
}
