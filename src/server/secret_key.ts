/**
 * The secret key file: 32 random bytes, written as base64 on one line (raw 32 bytes are read too).
 * A server on SQLite keeps it beside the store (`<data-dir>/secret.key`, made with mode 0600 on
 * first start) unless `--secret-key-file` names one; servers on PostgreSQL need the flag, the same
 * file on each.
 */
import { join } from "node:path";
import { errorMessage, LauncherError } from "../errors.ts";
import { SECRET_KEY_BYTES, SecretBox } from "./secret_box.ts";
import type { Store } from "./store/store.ts";

/** The name of the key file a SQLite data dir holds by default. */
export const SECRET_KEY_FILE = "secret.key";

/** A key file that cannot be read or does not hold a key: the server does not start. */
export class SecretKeyFileError extends LauncherError {
  constructor(path: string, problem: string) {
    super("secret_key_file", `secret key file ${path}: ${problem}`);
  }
}

/** The default key file of a data dir. */
export function defaultKeyFile(dataDir: string): string {
  return join(dataDir, SECRET_KEY_FILE);
}

/** The key a file's bytes hold: base64 of 32 bytes (surrounding space ignored), or 32 raw bytes. */
function keyOf(path: string, bytes: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(bytes).trim();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const decoded = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    if (decoded.length === SECRET_KEY_BYTES) return decoded;
  }
  if (bytes.length === SECRET_KEY_BYTES) return bytes;
  throw new SecretKeyFileError(
    path,
    `must hold ${SECRET_KEY_BYTES} random bytes, as base64 on one line (44 characters) or raw; ` +
      `it holds ${bytes.length} bytes (make one with: head -c 32 /dev/urandom | base64 > FILE)`,
  );
}

/**
 * Reads the key of a key file. With `create`, a missing file is made first, with a new random
 * key, readable by its owner only (mode 0600). `warn` hears that a file is readable by others.
 */
export async function readKeyFile(
  path: string,
  options: { create?: boolean; warn?: (line: string) => void } = {},
): Promise<Uint8Array> {
  if (options.create) {
    const key = crypto.getRandomValues(new Uint8Array(SECRET_KEY_BYTES));
    const text = `${btoa(String.fromCharCode(...key))}\n`;
    try {
      // createNew: a key already there is never replaced, also by a second server starting.
      await Deno.writeTextFile(path, text, { mode: 0o600, createNew: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) {
        throw new SecretKeyFileError(path, `cannot be created: ${errorMessage(error)}`);
      }
    }
  }
  let bytes: Uint8Array;
  let mode: number | null;
  try {
    bytes = await Deno.readFile(path);
    mode = (await Deno.stat(path)).mode;
  } catch (error) {
    throw new SecretKeyFileError(path, `cannot be read: ${errorMessage(error)}`);
  }
  if (mode !== null && (mode & 0o077) !== 0) {
    options.warn?.(
      `warning: secret key file ${path} is readable by others (mode ${
        (mode & 0o777).toString(8)
      }): chmod 600 it`,
    );
  }
  return keyOf(path, bytes);
}

/** The key given is not the one the store's secrets were written with. */
export class SecretKeyMismatchError extends LauncherError {
  constructor(path: string, store: string) {
    super(
      "secret_key_mismatch",
      `the secret key in ${path} is not the key of the store ${store}: its secrets were written ` +
        "with another one; give every server of a store the same key file",
    );
  }
}

/** A store whose secrets need a key, opened by a server that has none. */
export class SecretKeyMissingError extends LauncherError {
  constructor(store: string) {
    super(
      "secret_key_missing",
      `the store ${store} keeps secrets, and this server has no key for them: start it with ` +
        "--secret-key-file (the same file as the other servers of the store)",
    );
  }
}

/** Where a server's secret key comes from. */
export interface SecretKeySource {
  /** `--secret-key-file`: the file must exist. */
  keyFile?: string;
  /** The SQLite data dir: without `keyFile`, its `secret.key`, made on first start. */
  dataDir?: string;
  /** Hears a warning about the file's mode. */
  warn?: (line: string) => void;
}

/**
 * The secret box of a server on `store`, or undefined when it has no key (PostgreSQL without
 * `--secret-key-file`, on a store that never had one). The first key a store sees is recorded
 * (its check value): a server with another key, or with none, is refused from then on, so that
 * no server hands out secrets it cannot decrypt.
 */
export async function openSecretBox(
  store: Store,
  source: SecretKeySource,
): Promise<SecretBox | undefined> {
  const path = source.keyFile ??
    (source.dataDir === undefined ? undefined : defaultKeyFile(source.dataDir));
  const stored = await store.secretKeyCheck();
  if (path === undefined) {
    if (stored !== undefined) throw new SecretKeyMissingError(store.location);
    return undefined;
  }
  const key = await readKeyFile(path, { create: source.keyFile === undefined, warn: source.warn });
  const box = await SecretBox.fromKey(key);
  if (stored === undefined) await store.setSecretKeyCheck(box.check);
  // Read again: of two servers starting with different keys on a new store, one key is kept.
  if ((stored ?? await store.secretKeyCheck()) !== box.check) {
    throw new SecretKeyMismatchError(path, store.location);
  }
  return box;
}
