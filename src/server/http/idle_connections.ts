/**
 * Closes client connections that hold a file descriptor without using it: opened and never sent a
 * request, sending one so slowly that its headers never end, or kept alive after their last answer.
 * Deno.serve has no idle or header timeout (measured in docs/operations.md, "Limits and
 * timeouts"), so a sweep looks at the process's sockets: each one on the server's port whose
 * client has no request open and has had none for `idleMs` is shut down (`shutdown(2)`, through
 * FFI); Deno then sees the end of the stream and closes it. A request counts as open from its
 * handler's start until its response is sent or abandoned: held long-polls, streamed answers and
 * streamed uploads are never cut. Linux only (it reads /proc/self/fd).
 */
import { errorMessage } from "../../errors.ts";
import { type Libc, libcUnavailable, openLibc } from "./libc.ts";
import { softOpenFileLimit } from "./open_files.ts";

/** The idle timeout by default (60 s, as Node's and nginx's header timeouts). */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** The longest pause between two sweeps. */
const MAX_SWEEP_EVERY_MS = 5_000;
/**
 * Past this share of the open-file limit, descriptors are short: connections idle for
 * `PRESSED_IDLE_MS` are closed, and sweeps come every `PRESSED_IDLE_MS`, so that a flood of silent
 * connections cannot keep the server full for the whole idle timeout.
 */
const PRESSURE_SHARE = 0.9;
const PRESSED_IDLE_MS = 1_000;
/**
 * How long after an answer is handed over its connection is closed by `closeWhenSent`: Deno
 * settles `completed` before the answer is written to the socket (a closing at once sends nothing),
 * and writes it within a turn of the event loop.
 */
const CLOSE_GRACE_MS = 250;
/** `shutdown(2)`'s SHUT_RDWR. */
const SHUT_RDWR = 2;
/** Address families of `<sys/socket.h>` on Linux. */
const AF_INET = 2;
const AF_INET6 = 10;

/** A client's requests, by the client's port: how many are open, and when the last one ended. */
interface Activity {
  open: number;
  lastEnd: number;
}

/**
 * What the handler tells the sweep: requests start and end, keyed by the client's port. Clients on
 * several addresses may share a port number: that only keeps a connection longer, never cuts one.
 */
export class ConnectionActivity {
  readonly #byPort = new Map<number, Activity>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts a request from `port` as open until `completed` settles. */
  track(port: number, completed: Promise<void>): void {
    const activity = this.#byPort.get(port) ?? { open: 0, lastEnd: 0 };
    activity.open++;
    this.#byPort.set(port, activity);
    const end = () => {
      activity.open--;
      activity.lastEnd = this.now();
    };
    completed.then(end, end);
  }

  /** When the client at `port` last had a request open: now while one is, 0 when never. */
  lastActive(port: number): number {
    const activity = this.#byPort.get(port);
    if (activity === undefined) return 0;
    return activity.open > 0 ? this.now() : activity.lastEnd;
  }

  /** How many requests of the client at `port` are open. */
  openRequests(port: number): number {
    return this.#byPort.get(port)?.open ?? 0;
  }

  /** Forgets clients with nothing open since `before`: they count as never active, the same. */
  forget(before: number): void {
    for (const [port, activity] of this.#byPort) {
      if (activity.open === 0 && activity.lastEnd < before) this.#byPort.delete(port);
    }
  }
}

/** What the sweep needs. */
export interface IdleSweepOptions {
  /** The server's port: only sockets whose local end has it are looked at. */
  port: number;
  idleMs: number;
  activity: ConnectionActivity;
  now?: () => number;
  /** Told when descriptors become short. */
  log?: (line: string) => void;
}

/** A running sweep. */
export interface IdleSweep {
  /**
   * Closes the connection of `client` once `sent` settles: for an answer that leaves the rest of
   * its request unread, after which Deno would keep waiting for it.
   */
  closeWhenSent(client: Deno.NetAddr, sent: Promise<void>): void;
  stop(): void;
}

/** An address as one text for both sources: `getpeername`'s bytes and Deno's `hostname`. */
function canonicalHost(host: string): string {
  return host.includes(":") ? new URL(`http://[${host}]/`).hostname : host;
}

/** A socket's address, read by `getsockname` or `getpeername` into `sockaddr_storage`. */
export function socketPort(
  call: (fd: number, address: Uint8Array, length: Uint8Array) => number,
  fd: number,
): { port: number; address: string } | undefined {
  const address = new Uint8Array(128);
  const length = new Uint8Array(new Uint32Array([address.length]).buffer);
  if (call(fd, address, length) !== 0) return undefined;
  const view = new DataView(address.buffer);
  const family = view.getUint16(0, true);
  if (family === AF_INET) {
    return { port: view.getUint16(2), address: address.subarray(4, 8).join(".") };
  }
  if (family === AF_INET6) {
    const groups = Array.from({ length: 8 }, (_, i) => view.getUint16(8 + 2 * i).toString(16));
    return { port: view.getUint16(2), address: canonicalHost(groups.join(":")) };
  }
  return undefined;
}

/**
 * The process's open descriptors, from /proc/self/fd; when that cannot be opened (the process is
 * out of descriptors, the very case to mend), every number up to the soft limit.
 */
export function openDescriptors(libc: Libc): number[] {
  try {
    return [...Deno.readDirSync("/proc/self/fd")].map((entry) => Number(entry.name));
  } catch {
    return Array.from({ length: softOpenFileLimit(libc) }, (_, fd) => fd);
  }
}

/**
 * The client sockets of the server on `port`, each with its client's address. Sockets are accepted
 * and closed on this same thread: none changes while a caller's loop runs.
 */
function* clientSockets(
  libc: Libc,
  port: number,
  descriptors: number[],
): Generator<{ fd: number; peer: { port: number; address: string } }> {
  for (const fd of descriptors) {
    const local = socketPort(libc.symbols.getsockname, fd);
    if (local === undefined || local.port !== port) continue;
    // The listening socket has no peer.
    const peer = socketPort(libc.symbols.getpeername, fd);
    if (peer !== undefined) yield { fd, peer };
  }
}

/**
 * One pass: shuts down the idle client sockets of `port`; returns whether descriptors are short
 * (and the pass used the shorter idle time).
 */
function sweepOnce(
  libc: Libc,
  opts: Required<Omit<IdleSweepOptions, "log">>,
  firstSeen: Map<string, number>,
): boolean {
  const now = opts.now();
  const present = new Set<string>();
  const descriptors = openDescriptors(libc);
  const pressed = descriptors.length >= softOpenFileLimit(libc) * PRESSURE_SHARE;
  const idleMs = pressed ? Math.min(opts.idleMs, PRESSED_IDLE_MS) : opts.idleMs;
  for (const { fd, peer } of clientSockets(libc, opts.port, descriptors)) {
    const key = `${fd}/${peer.address}/${peer.port}`;
    present.add(key);
    const seen = firstSeen.get(key) ?? now;
    firstSeen.set(key, seen);
    const since = Math.max(seen, opts.activity.lastActive(peer.port));
    if (now - since >= idleMs) libc.symbols.shutdown(fd, SHUT_RDWR);
  }
  for (const key of firstSeen.keys()) if (!present.has(key)) firstSeen.delete(key);
  opts.activity.forget(now - opts.idleMs);
  return pressed;
}

/**
 * Starts sweeping for idle connections every quarter of `idleMs` (at most every 5 s), or says why
 * it cannot run here (not Linux, no FFI, /proc/self/fd unreadable).
 */
export function startIdleSweep(opts: IdleSweepOptions): IdleSweep | { reason: string } {
  if (Deno.build.os !== "linux") return { reason: `not supported on ${Deno.build.os}` };
  const why = libcUnavailable();
  if (why !== undefined) return { reason: why };
  try {
    // Deno lets only --allow-all read /proc/self, whatever --allow-read says.
    Deno.readDirSync("/proc/self/fd");
  } catch (error) {
    return { reason: `cannot read /proc/self/fd: ${errorMessage(error)}` };
  }
  let libc: Libc;
  try {
    libc = openLibc();
  } catch (error) {
    return { reason: errorMessage(error) };
  }
  const options = { now: Date.now, ...opts };
  const firstSeen = new Map<string, number>();
  const every = Math.max(10, Math.min(MAX_SWEEP_EVERY_MS, opts.idleMs / 4));
  let pressed = false;
  let timer: ReturnType<typeof setTimeout>;
  const sweep = () => {
    try {
      const short = sweepOnce(libc, options, firstSeen);
      if (short && !pressed) {
        opts.log?.(
          `open files near the limit: closing connections idle for ${PRESSED_IDLE_MS} ms`,
        );
      }
      pressed = short;
    } catch {
      // A pass that cannot look (no descriptor to spare even for that) is tried again next time.
    }
    timer = setTimeout(sweep, pressed ? Math.min(every, PRESSED_IDLE_MS) : every);
  };
  timer = setTimeout(sweep, every);
  const pending = new Set<ReturnType<typeof setTimeout>>();
  // Once stopped, the library is unloaded: nothing may call into it.
  let stopped = false;
  const closeClient = (client: Deno.NetAddr) => {
    // Another request open on the connection (HTTP/2 carries several): its stream is not stuck.
    if (opts.activity.openRequests(client.port) > 0) return;
    const address = canonicalHost(client.hostname);
    for (const { fd, peer } of clientSockets(libc, opts.port, openDescriptors(libc))) {
      if (peer.port !== client.port || peer.address !== address) continue;
      libc.symbols.shutdown(fd, SHUT_RDWR);
    }
  };
  return {
    closeWhenSent(client, sent) {
      const close = () => {
        if (stopped) return;
        const timer = setTimeout(() => {
          pending.delete(timer);
          try {
            closeClient(client);
          } catch {
            // Not closed now: the sweep closes it once idle.
          }
        }, CLOSE_GRACE_MS);
        pending.add(timer);
      };
      sent.then(close, close);
    },
    stop() {
      stopped = true;
      for (const timer of pending) clearTimeout(timer);
      clearTimeout(timer);
      libc.close();
    },
  };
}
