/**
 * Turns Nagle's algorithm off for the server's connections. Deno.serve leaves it on and has no
 * switch for it; over TLS, an answer of more than about 1 KB (HTTP/2; 500 B over HTTP/1.1) then
 * waits for the client's delayed ACK, about 40 ms on Linux, on every kept-alive connection: an
 * agent's desired list among them (docs/benchmarks.md, figure 13). Linux copies `TCP_NODELAY` from
 * the listening socket to each socket it accepts, so it is set once, on the listener, found among
 * the process's descriptors as the socket on the server's port with no peer.
 */
import { errorMessage } from "../../errors.ts";
import { openDescriptors, socketPort } from "./idle_connections.ts";
import { libcUnavailable, openLibc } from "./libc.ts";

/** `<netinet/in.h>` and `<netinet/tcp.h>` on Linux. */
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;

/**
 * Sets `TCP_NODELAY` on the listening socket(s) of `port`; answers why it could not (not Linux, no
 * FFI, no listener found), or undefined when it did.
 */
export function noDelayListener(port: number): string | undefined {
  if (Deno.build.os !== "linux") return `not supported on ${Deno.build.os}`;
  const why = libcUnavailable();
  if (why !== undefined) return why;
  let libc;
  try {
    libc = openLibc();
  } catch (error) {
    return errorMessage(error);
  }
  try {
    let set = 0;
    const on = new Uint8Array(new Int32Array([1]).buffer);
    for (const fd of openDescriptors(libc)) {
      if (socketPort(libc.symbols.getsockname, fd)?.port !== port) continue;
      if (socketPort(libc.symbols.getpeername, fd) !== undefined) continue;
      if (libc.symbols.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, on, on.length) === 0) set++;
    }
    return set > 0 ? undefined : `no listening socket found on port ${port}`;
  } finally {
    libc.close();
  }
}
