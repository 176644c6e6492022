/**
 * The open-file limit: every client connection holds a file descriptor, and a server that runs
 * out of them stops accepting. `deno run` raises the soft limit to the hard one itself; a
 * `deno compile`d binary does not, so the server does it at start, through the C library.
 */
import { errorMessage } from "../../errors.ts";
import { type Libc, openLibc } from "./libc.ts";

/** What `raiseOpenFileLimit` did. */
export type OpenFileLimit =
  /** The soft limit now equals `soft` (raised from `from` when that differs). */
  | { soft: number; from: number }
  /** The limit could not be read or raised; `reason` says why. */
  | { reason: string };

/** RLIMIT_NOFILE's number in `<sys/resource.h>`. */
const RLIMIT_NOFILE: Partial<Record<typeof Deno.build.os, number>> = { linux: 7, darwin: 8 };
/** RLIM_INFINITY: no hard limit. */
const UNLIMITED = 0xffff_ffff_ffff_ffffn;
/** macOS refuses a soft limit above OPEN_MAX when the hard limit is unlimited. */
const DARWIN_OPEN_MAX = 10_240n;

/** The soft and hard limits, as `getrlimit` fills a `struct rlimit` (two 64-bit numbers). */
function readLimit(libc: Libc, resource: number): { soft: bigint; hard: bigint } {
  const buffer = new BigUint64Array(2);
  if (libc.symbols.getrlimit(resource, buffer) !== 0) throw new Error("getrlimit failed");
  return { soft: buffer[0], hard: buffer[1] };
}

/** The soft open-file limit now. */
export function softOpenFileLimit(libc: Libc): number {
  return Number(readLimit(libc, RLIMIT_NOFILE[Deno.build.os] as number).soft);
}

/** The highest soft limit the system takes when the hard limit is unlimited. */
function ceiling(): bigint {
  if (Deno.build.os === "darwin") return DARWIN_OPEN_MAX;
  return BigInt(Deno.readTextFileSync("/proc/sys/fs/nr_open").trim());
}

/** Raises the soft open-file limit to the hard limit; never throws. */
export function raiseOpenFileLimit(): OpenFileLimit {
  let libc: Libc;
  try {
    libc = openLibc();
  } catch (error) {
    return { reason: errorMessage(error) };
  }
  try {
    const resource = RLIMIT_NOFILE[Deno.build.os] as number;
    const before = readLimit(libc, resource);
    const target = before.hard === UNLIMITED ? ceiling() : before.hard;
    if (before.soft < target) {
      if (libc.symbols.setrlimit(resource, new BigUint64Array([target, before.hard])) !== 0) {
        return { reason: `setrlimit to ${target} failed (soft limit stays ${before.soft})` };
      }
    }
    return { soft: Number(readLimit(libc, resource).soft), from: Number(before.soft) };
  } catch (error) {
    return { reason: errorMessage(error) };
  } finally {
    libc.close();
  }
}

/** The log line for what `raiseOpenFileLimit` did. */
export function describeOpenFileLimit(limit: OpenFileLimit): string {
  if ("reason" in limit) return `open-file limit not raised: ${limit.reason}`;
  return limit.from === limit.soft
    ? `open-file limit ${limit.soft} (the hard limit)`
    : `open-file limit raised from ${limit.from} to ${limit.soft} (the hard limit)`;
}
