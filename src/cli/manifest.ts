/**
 * `launcher manifest up|down|ps|diff|ls|history|rollback`: send manifests to the server, show
 * them and their revisions, and roll them back.
 */
import { Command } from "@commander-js/extra-typings";
import type { ErrorDetail } from "../api/schemas.ts";
import type { Manifest } from "../manifest/schema.ts";
import { parseDuration } from "../duration.ts";
import { caOption, clientFor, outputOption, tokenOption, urlOption } from "./context.ts";
import { ExitStatus, UsageError } from "./errors.ts";
import {
  historyTable,
  manifestsTable,
  planText,
  rollbackText,
  rolloutLine,
  upText,
} from "./manifest_output.ts";
import { psTable } from "./output.ts";
import { envFileOption, manifestVariables } from "./variables.ts";
import { waitForManifest } from "./wait.ts";

/**
 * Reads a manifest file, resolves its variables and validates it, so errors name the file, line
 * and column. `text` is the manifest with its variables resolved: what the server stores.
 */
async function readManifest(
  file: string,
  envFile?: string,
): Promise<{ text: string; manifest: Manifest }> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : error}`);
  }
  // The YAML parser costs about 70 ms to load: only commands that read a file pay for it.
  const { ManifestError, parseManifest } = await import("../manifest/parse.ts");
  const { interpolateManifest } = await import("../manifest/interpolate.ts");
  const lookup = await manifestVariables(file, text, envFile);
  try {
    const interpolated = interpolateManifest(text, lookup);
    return { text: interpolated, manifest: parseManifest(interpolated, "yaml") };
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    const where = (d: ErrorDetail) =>
      [file, d.line, d.column].filter((p) => p !== undefined).join(":");
    const lines = (error.details ?? []).map((d) =>
      `${where(d)}: ${d.path ? `${d.path}: ` : ""}${d.message}`
    );
    throw new UsageError(lines.length ? lines.join("\n") : `${file}: ${error.message}`);
  }
}

/** The manifest name from `-f FILE` or `--name`, exactly one of them. */
async function manifestName(
  opts: { file?: string; name?: string; envFile?: string },
): Promise<string> {
  if (opts.file && opts.name) throw new UsageError("pass either -f FILE or --name, not both");
  if (opts.name) return opts.name;
  if (opts.file) return (await readManifest(opts.file, opts.envFile)).manifest.name;
  throw new UsageError("pass -f FILE or --name NAME");
}

/** Parses a revision number given to `flag`: a whole number from 1. */
function revisionNumber(text: string, flag: string): number {
  if (!/^[1-9]\d{0,8}$/.test(text)) {
    throw new UsageError(`${flag} must be a revision number (1, 2, ...), not "${text}"`);
  }
  return Number(text);
}

/** The exit code of `manifest diff` when applying the manifest would change something. */
const CHANGES_EXIT_CODE = 3;

/** The `manifest` command group. */
export function manifestCommand(print: (text: string) => void): Command {
  const manifest = new Command("manifest").description("apply, remove and list manifests");

  manifest.command("up")
    .description("create or update the containers of a manifest")
    .requiredOption("-f, --file <file>", "manifest file (YAML)")
    .addOption(envFileOption())
    .option("--wait", "wait until every container has reached what is desired")
    .option("--timeout <duration>", "how long --wait waits", "2m")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (opts) => {
      const { text, manifest } = await readManifest(opts.file, opts.envFile);
      const timeout = parseDuration(opts.timeout);
      const client = clientFor(opts);
      const result = await client.up(text);
      print(upText(result));
      if (opts.wait) {
        await waitForManifest(client, manifest.name, timeout, { rollout: result.rollout });
      }
    });

  manifest.command("down")
    .description("remove every container of a manifest")
    .option("-f, --file <file>", "manifest file (YAML)")
    .addOption(envFileOption())
    .option("--name <name>", "manifest name")
    .option("--wait", "wait until every container is removed")
    .option("--timeout <duration>", "how long --wait waits", "2m")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (opts) => {
      const name = await manifestName(opts);
      const timeout = parseDuration(opts.timeout);
      const client = clientFor(opts);
      await client.down(name);
      print(`${name}: removing`);
      if (opts.wait) await waitForManifest(client, name, timeout);
    });

  manifest.command("ps")
    .description("list containers of a manifest, or of all manifests")
    .option("-f, --file <file>", "manifest file (YAML)")
    .addOption(envFileOption())
    .option("--name <name>", "manifest name")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption()).addOption(outputOption())
    .action(async (opts) => {
      const name = opts.file || opts.name ? await manifestName(opts) : undefined;
      const client = clientFor(opts);
      const list = await client.ps(name);
      if (opts.output === "json") return print(JSON.stringify(list, null, 2));
      // A rollout in progress, or paused by a failure, is part of what the manifest is doing.
      const rollouts = (await client.manifests()).flatMap((m) =>
        (name === undefined || m.name === name) &&
          (m.rollout?.status === "running" || m.rollout?.status === "paused")
          ? [rolloutLine(m.name, m.rollout)]
          : []
      );
      print([psTable(list), ...rollouts].join("\n"));
    });

  manifest.command("diff")
    .description(
      "show what up would create, recreate, leave and remove, changing nothing " +
        "(exit code 0: no changes, 3: changes)",
    )
    .requiredOption("-f, --file <file>", "manifest file (YAML)")
    .addOption(envFileOption())
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption()).addOption(outputOption())
    .action(async (opts) => {
      const { text } = await readManifest(opts.file, opts.envFile);
      const plan = await clientFor(opts).diff(text);
      print(opts.output === "json" ? JSON.stringify(plan, null, 2) : planText(plan));
      if (plan.changed) throw new ExitStatus(CHANGES_EXIT_CODE);
    });

  manifest.command("ls")
    .description("list every manifest with its container counts by state")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption()).addOption(outputOption())
    .action(async (opts) => {
      const list = await clientFor(opts).manifests();
      print(opts.output === "json" ? JSON.stringify(list, null, 2) : manifestsTable(list));
    });

  manifest.command("history")
    .description(
      "list the revisions of a manifest, newest first (every up that changed something), " +
        "or print the text of one with --show",
    )
    .argument("<name>", "manifest name")
    .option("--show <revision>", "print the manifest text that this revision holds")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption()).addOption(outputOption())
    .action(async (name, opts) => {
      const client = clientFor(opts);
      if (opts.show !== undefined) {
        const revision = await client.revision(name, revisionNumber(opts.show, "--show"));
        // print ends the line itself: `> file` then gives back the text exactly as applied.
        const text = revision.text.replace(/\n$/, "");
        print(opts.output === "json" ? JSON.stringify(revision, null, 2) : text);
        return;
      }
      const history = await client.history(name);
      print(opts.output === "json" ? JSON.stringify(history, null, 2) : historyTable(history));
    });

  manifest.command("rollback")
    .description(
      "apply a stored revision again, as a new revision " +
        "(default: the one before the current)",
    )
    .argument("<name>", "manifest name")
    .option("--to <revision>", "the revision to roll back to")
    .option("--wait", "wait until every container has reached what is desired")
    .option("--timeout <duration>", "how long --wait waits", "2m")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (name, opts) => {
      const to = opts.to === undefined ? undefined : revisionNumber(opts.to, "--to");
      const timeout = parseDuration(opts.timeout);
      const client = clientFor(opts);
      print(rollbackText(await client.rollback(name, to)));
      if (opts.wait) await waitForManifest(client, name, timeout);
    });

  return manifest;
}
