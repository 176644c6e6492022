/** What every client command shares: the server URL, the token, the output format. */
import { LauncherClient } from "../client/client.ts";
import { Option } from "@commander-js/extra-typings";
import { FORMATS } from "./output.ts";

/** `--url`, with `LAUNCHER_URL` and the local default. */
export const urlOption = () =>
  new Option("--url <url>", "server URL").env("LAUNCHER_URL").default("http://127.0.0.1:8080");

/** `--token`, with `LAUNCHER_TOKEN`. */
export const tokenOption = () => new Option("--token <token>", "API token").env("LAUNCHER_TOKEN");

/** `-o table|json`. */
export const outputOption = () =>
  new Option("-o, --output <format>", "output format").choices(FORMATS).default("table" as const);

/** A client for the command's `--url` and `--token`. */
export function clientFor(opts: { url: string; token?: string }): LauncherClient {
  return new LauncherClient(opts.url, opts.token);
}
