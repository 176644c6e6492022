/**
 * Keeps Deno.serve accepting after its accept loop fails. When the process runs out of file
 * descriptors (a flood of connections past the open-file limit), Deno.serve's loop ends with
 * `Too many open files` and never accepts again, and its `finished` promise rejects, which ends
 * the process when nothing handles it (measured with Deno 2.9.6). Here the failure is logged and
 * the server listens again on the same port, retrying each second while descriptors are short.
 */
import { errorMessage } from "../../errors.ts";

/** How long to wait before listening again when that fails, or failed within this long before. */
const RETRY_MS = 1_000;

/** A server that listens again after its accept loop fails. */
export interface KeptServer {
  /** The port it listens on (the one the first listen got, for port 0). */
  readonly port: number;
  /** Stops listening again, and shuts the current server down gracefully. */
  shutdown(): Promise<void>;
}

/**
 * Starts `listen(port)` and starts it again, on the port it got, whenever its loop fails. The
 * first call's errors (address in use) are thrown; later ones are logged and retried.
 */
export function keepServing(
  listen: (port: number) => Deno.HttpServer<Deno.NetAddr>,
  port: number,
  log?: (line: string) => void,
): KeptServer {
  let server = listen(port);
  const bound = server.addr.port;
  let stopped = false;
  let lastListen = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const again = () => {
    retry = undefined;
    if (stopped) return;
    try {
      lastListen = Date.now();
      server = listen(bound);
      watch(server);
    } catch (error) {
      log?.(`cannot listen again on port ${bound}: ${errorMessage(error)}; retrying`);
      retry = setTimeout(again, RETRY_MS);
    }
  };
  const watch = (current: Deno.HttpServer<Deno.NetAddr>) => {
    current.finished.catch((error) => {
      if (stopped) return;
      log?.(`the server stopped accepting connections: ${errorMessage(error)}; listening again`);
      // Out of descriptors, a new loop fails at its first accept: not more than once a second.
      if (Date.now() - lastListen >= RETRY_MS) again();
      else retry = setTimeout(again, RETRY_MS);
    });
  };
  watch(server);

  return {
    port: bound,
    async shutdown() {
      stopped = true;
      clearTimeout(retry);
      await server.shutdown();
    },
  };
}
