/**
 * The few C library calls the server needs and Deno has no API for: the open-file limit
 * (`getrlimit`/`setrlimit`), closing idle client sockets (`getsockname`, `getpeername`,
 * `shutdown`) and `TCP_NODELAY` on the listening socket (`setsockopt`). Loaded through FFI, which needs `--allow-ffi` (`-A` and `deno compile -A` give it).
 */

const SYMBOLS = {
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
} as const;

/** The loaded C library; `close()` unloads it. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>;

/** The systems whose C library this file knows, and where it is. */
const LIBRARIES: Partial<Record<typeof Deno.build.os, string>> = {
  linux: "libc.so.6",
  darwin: "libSystem.B.dylib",
};

/** Why the C library cannot be used here, or undefined when it can. */
export function libcUnavailable(): string | undefined {
  if (LIBRARIES[Deno.build.os] === undefined) return `not supported on ${Deno.build.os}`;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return "needs --allow-ffi";
  }
  return undefined;
}

/** Loads the C library; throws when `libcUnavailable()` says why not, or loading fails. */
export function openLibc(): Libc {
  const why = libcUnavailable();
  if (why !== undefined) throw new Error(why);
  return Deno.dlopen(LIBRARIES[Deno.build.os] as string, SYMBOLS);
}
