/**
 * An agent started with a join string learns its servers' CA before anything else: it fetches it
 * until a server answers, as it polls a server that is not up yet, and stops at once on a CA of
 * another hash or a server that cannot hand one out (those do not fix themselves).
 */
import { UnreachableError } from "../client/errors.ts";
import { fetchPinnedCa } from "../client/trust.ts";
import { Backoff } from "./backoff.ts";

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * The CA (PEM) of `servers` whose SHA-256 is `caSha256`, fetched with retries while no server
 * answers; undefined when `signal` aborts first.
 */
export async function joinCa(
  servers: readonly string[],
  caSha256: string,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<string | undefined> {
  const backoff = new Backoff(500, 15_000);
  while (!signal.aborted) {
    try {
      return await fetchPinnedCa(servers, caSha256, signal);
    } catch (error) {
      if (signal.aborted) return undefined;
      if (!(error instanceof UnreachableError)) throw error;
      const wait = backoff.next();
      log(`fetching the CA: ${error.message}; retrying in ${Math.round(wait)} ms`);
      await pause(wait, signal);
    }
  }
  return undefined;
}
