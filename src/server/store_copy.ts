/**
 * `launcher store copy`: opens both stores by their locations and copies one into the other
 * (`store/copy.ts`). A location is `sqlite:DIR` or a bare data dir (SQLite), or a `postgres://`
 * URL; messages show a URL without its password.
 */
import { join } from "node:path";
import { LauncherError } from "../errors.ts";
import { type CopyCounts, copyStore } from "./store/copy.ts";
import { redactUrl } from "./store/postgres_url.ts";
import { isPostgresUrl, openStore, type Store } from "./store/store.ts";

export { type CopyCounts, CopyTargetNotEmptyError, describeCopy } from "./store/copy.ts";

/** A location `store copy` cannot use: no store at the source, or no location at all. */
export class CopyLocationError extends LauncherError {
  constructor(message: string) {
    super("store_location", message);
  }
}

/** The location `openStore` takes: `sqlite:DIR` becomes DIR; a URL or a bare dir stays. */
export function storeLocationOf(arg: string): string {
  const location = arg.replace(/^sqlite:/i, "");
  if (location === "") throw new CopyLocationError(`no data dir in ${JSON.stringify(arg)}`);
  return location;
}

/** A location as messages may show it: a URL without its password. */
export function shownLocation(location: string): string {
  return isPostgresUrl(location) ? redactUrl(location) : location;
}

/** Whether a file or dir is there. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Opens the source: a data dir must hold a store already (opening would make an empty one). */
async function openSource(location: string): Promise<Store> {
  if (!isPostgresUrl(location) && !await exists(join(location, "launcher.db"))) {
    throw new CopyLocationError(`no store to copy from: ${location} holds no launcher.db`);
  }
  return await openStore(location);
}

/** Opens the target, making its data dir when it is missing. */
async function openTarget(location: string): Promise<Store> {
  if (!isPostgresUrl(location)) await Deno.mkdir(location, { recursive: true });
  return await openStore(location);
}

/**
 * Copies the store at `from` into the new, empty one at `to` (both as `storeLocationOf` takes
 * them) and answers what it copied. Opening brings each store's schema up to date; the source is
 * otherwise only read. Both are closed before it answers.
 */
export async function copyStoreAt(
  from: string,
  to: string,
  progress: (line: string) => void = () => {},
): Promise<CopyCounts> {
  const source = await openSource(storeLocationOf(from));
  try {
    const target = await openTarget(storeLocationOf(to));
    try {
      if (target.location === source.location) {
        throw new CopyLocationError(`--from and --to are the same store (${source.location})`);
      }
      return await copyStore(source, target, progress);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
