/** What every client command shares: the server URLs, the token, the output format. */
import { LauncherClient } from "../client/client.ts";
import { parseServerUrls } from "../client/servers.ts";
import { pinnedHttpClient, readCaFile } from "../client/trust.ts";
import { plainHttpWarning } from "./plain_http.ts";
import { Option } from "@commander-js/extra-typings";
import { FORMATS } from "./output.ts";

const DEFAULT_URL = "http://127.0.0.1:8080";

/**
 * `--url a,b,...`, with `LAUNCHER_URL` and the local default: the servers to try in turn when one
 * cannot be reached.
 */
export const urlOption = () =>
  new Option("--url <urls>", "server URL, or a comma-separated list to fail over between")
    .env("LAUNCHER_URL")
    .argParser((text) => parseServerUrls(text, "--url"))
    .default([DEFAULT_URL], DEFAULT_URL);

/** `--token`, with `LAUNCHER_TOKEN`. */
export const tokenOption = () => new Option("--token <token>", "API token").env("LAUNCHER_TOKEN");

/** `-o table|json`. */
export const outputOption = () =>
  new Option("-o, --output <format>", "output format").choices(FORMATS).default("table" as const);

/** `--ca FILE`, with `LAUNCHER_CA`: trust a server whose certificate this CA signed. */
export const caOption = () =>
  new Option("--ca <file>", "trust the server's certificate if this CA (PEM) signed it").env(
    "LAUNCHER_CA",
  );

/**
 * A client for the command's `--url`, `--token` and `--ca`; warns on stderr when the token would
 * go over plain HTTP to another machine.
 */
export function clientFor(
  opts: { url: readonly string[]; token?: string; ca?: string },
): LauncherClient {
  const warning = opts.token ? plainHttpWarning(opts.url, "the token") : undefined;
  if (warning) console.error(warning);
  const httpClient = !opts.ca ? undefined : pinnedHttpClient(readCaFile("--ca", opts.ca));
  return new LauncherClient(opts.url, opts.token, httpClient ? { httpClient } : {});
}
