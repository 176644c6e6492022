/** Why `fetch` rejected: what went wrong, and whether the server may have seen the request. */
import { errorMessage } from "../errors.ts";

/** A request that got no answer from one server. */
export interface NoAnswer {
  /** What went wrong, in the network stack's words (`tcp connect error: Connection refused`). */
  reason: string;
  /**
   * False when the request surely never left (no connection was made: refused, DNS, TLS; or
   * fetch refused it first); true when it may have reached the server, which may have acted on it.
   */
  maybeSent: boolean;
}

/**
 * Reads a `fetch` rejection that is not the caller's own abort. Deno's fetch rejects a network
 * failure with `TypeError("fetch failed")` whose `cause` names the phase: `client error
 * (Connect): tcp connect error: ...` before a connection exists, `(SendRequest): connection
 * closed before message completed` after. A TypeError without a cause is fetch refusing the
 * request before sending it (a blocked port, a bad header).
 */
export function noAnswer(error: unknown): NoAnswer {
  if (error instanceof TypeError && error.cause instanceof Error) {
    const text = error.cause.message;
    const match = /client error \((\w+)\): (.*)$/s.exec(text);
    // A phase we do not recognise counts as possibly sent: the safe side for a request done once.
    return { reason: match?.[2] ?? text, maybeSent: match?.[1] !== "Connect" };
  }
  if (error instanceof TypeError) return { reason: error.message, maybeSent: false };
  return { reason: errorMessage(error), maybeSent: true };
}
