/** `launcher logs MANIFEST/CONTAINER`: a container's output, sent by the agent of its host. */
import { Command } from "@commander-js/extra-typings";
import * as v from "valibot";
import { NameSchema } from "../api/schemas.ts";
import type { LogsQuery } from "../client/client.ts";
import { parseDuration } from "../duration.ts";
import { caOption, clientFor, tokenOption, urlOption } from "./context.ts";
import { UsageError } from "./errors.ts";
import { shutdownSignal } from "./signals.ts";

/** Where the lines of each stream go. */
export interface LogWriters {
  stdout: (bytes: Uint8Array) => Promise<void>;
  stderr: (bytes: Uint8Array) => Promise<void>;
}

/** Writes all of `bytes` to a file such as Deno.stdout. */
async function writeAll(file: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array) {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/** The process's own stdout and stderr. */
export const STANDARD_WRITERS: LogWriters = {
  stdout: (bytes) => writeAll(Deno.stdout, bytes),
  stderr: (bytes) => writeAll(Deno.stderr, bytes),
};

/** Splits `MANIFEST/CONTAINER`, checking both names. */
export function parseTarget(text: string): { manifest: string; container: string } {
  const parts = text.split("/");
  const ok = parts.length === 2 && parts.every((p) => v.is(NameSchema, p));
  if (!ok) throw new UsageError(`"${text}" is not MANIFEST/CONTAINER, such as shop/web`);
  return { manifest: parts[0], container: parts[1] };
}

/** Parses `--tail`: a whole number of lines, or `all`. */
export function parseTail(text: string): number | undefined {
  if (text === "all") return undefined;
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`--tail must be a whole number or all`);
  return Number(text);
}

/** Checks `--since` here, so a typo is a usage error rather than the server's 400. */
function parseSince(text: string): string {
  if (!/^\d{4}-\d\d-\d\dT/.test(text)) parseDuration(text);
  return text;
}

/** The `logs` command; `writers` default to the process's stdout and stderr. */
export function logsCommand(writers: LogWriters = STANDARD_WRITERS) {
  return new Command("logs")
    .description("print a container's output: stdout to stdout, stderr to stderr")
    .argument("<target>", "MANIFEST/CONTAINER, such as shop/web")
    .option("--tail <lines>", "only the last lines (a number, or all)", "all")
    .option("-f, --follow", "keep printing new output, across restarts, until interrupted")
    .option("--since <when>", "only output this recent (10m, 2h) or since an ISO time")
    .option("-t, --timestamps", "start each line with the engine's time")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (target, opts) => {
      const query: LogsQuery = { ...parseTarget(target) };
      const tail = parseTail(opts.tail);
      if (tail !== undefined) query.tail = tail;
      if (opts.since !== undefined) query.since = parseSince(opts.since);
      if (opts.follow) query.follow = true;
      if (opts.timestamps) query.timestamps = true;
      const encoder = new TextEncoder();
      const { signal, dispose } = shutdownSignal();
      try {
        for await (const line of clientFor(opts).logs(query, signal)) {
          const text = line.time === undefined ? line.data : `${line.time} ${line.data}`;
          await writers[line.stream](encoder.encode(text));
        }
      } catch (error) {
        // Ctrl-C, or a reader (such as `head`) that has seen enough: a clean stop.
        if (signal.aborted || error instanceof Deno.errors.BrokenPipe) return;
        throw error;
      } finally {
        dispose();
      }
    });
}
