/**
 * The servers a client talks to: a list parsed once at the door (`--url a,b,c`), and which of them
 * is current. A request goes to the current server first; the server that answers stays current,
 * so later requests go there first, and one that cannot be reached hands over to the next.
 */
import { ServerUrlError } from "./errors.ts";

/** Parses a comma-separated list of http(s) base URLs; `flag` names the flag in errors. */
export function parseServerUrls(text: string, flag: string): string[] {
  const urls: string[] = [];
  for (const part of text.split(",")) {
    const url = serverUrl(part.trim(), flag);
    if (urls.includes(url)) throw new ServerUrlError(flag, `"${url}" is listed twice`);
    urls.push(url);
  }
  return urls;
}

/** One server's base URL, checked, without trailing slashes. */
function serverUrl(text: string, flag: string): string {
  if (text === "") throw new ServerUrlError(flag, "a server URL in the list is empty");
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ServerUrlError(flag, `"${text}" is not an http(s) URL`);
  }
  // The API's paths are appended to the base: a query or fragment would swallow them.
  if (url.search !== "" || url.hash !== "") {
    throw new ServerUrlError(flag, `"${text}" has a query or fragment`);
  }
  return text.replace(/\/+$/, "");
}

/** The list of servers and the current one, shared by every request of one client. */
export class ServerList {
  readonly urls: readonly string[];
  #current = 0;

  constructor(urls: readonly string[]) {
    if (urls.length === 0) throw new ServerUrlError("server list", "no server URL given");
    this.urls = urls.map((url) => url.replace(/\/+$/, ""));
  }

  /** The server requests go to first. */
  get current(): string {
    return this.urls[this.#current];
  }

  /** Every server once: the current one, then the ones after it in list order, wrapping around. */
  order(): string[] {
    const n = this.urls.length;
    return this.urls.map((_, i) => this.urls[(this.#current + i) % n]);
  }

  /** `url` answered: it stays (or becomes) the current server. */
  answered(url: string): void {
    const index = this.urls.indexOf(url);
    if (index >= 0) this.#current = index;
  }

  /**
   * `url` could not be reached. When it is still current, the next server becomes current and
   * this answers true; when another request already moved on, nothing changes.
   */
  failed(url: string): boolean {
    if (this.current !== url || this.urls.length === 1) return false;
    this.#current = (this.#current + 1) % this.urls.length;
    return true;
  }
}
