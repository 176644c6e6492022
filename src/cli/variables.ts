/**
 * The variables a manifest file is interpolated with: the CLI's environment, then an env file
 * (`--env-file FILE`, or `.env` beside the manifest when there is one), as Compose takes them.
 */
import { dirname, join } from "node:path";
import { Option } from "@commander-js/extra-typings";
import type { Lookup } from "../manifest/variables.ts";
import { UsageError } from "./errors.ts";

/** `--env-file FILE`, for commands that read a manifest file. */
export const envFileOption = () =>
  new Option(
    "--env-file <file>",
    "variables for ${NAME} in the manifest, under those of the environment " +
      "(default: .env beside the manifest, if there is one)",
  );

/**
 * How a manifest's variables are looked up: the environment first, then the env file. The
 * default `.env` is read only when the manifest has a `$` at all, so that a `.env` written for
 * another program does not stand in the way of a manifest that uses no variables.
 */
export async function manifestVariables(
  manifestFile: string,
  text: string,
  envFile: string | undefined,
): Promise<Lookup> {
  const environment = Deno.env.toObject();
  const fromEnvironment: Lookup = (name) =>
    Object.hasOwn(environment, name) ? environment[name] : undefined;
  const file = envFile ?? join(dirname(manifestFile), ".env");
  if (envFile === undefined && !text.includes("$")) return fromEnvironment;
  let content: string;
  try {
    content = await Deno.readTextFile(file);
  } catch (error) {
    if (envFile === undefined && error instanceof Deno.errors.NotFound) return fromEnvironment;
    throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : error}`);
  }
  const { EnvFileError, parseEnvFile } = await import("../manifest/env_file.ts");
  try {
    const vars = parseEnvFile(content, fromEnvironment);
    return (name) => fromEnvironment(name) ?? vars.get(name);
  } catch (error) {
    if (!(error instanceof EnvFileError)) throw error;
    const lines = (error.details ?? []).map((d) => `${file}:${d.line}:${d.column}: ${d.message}`);
    throw new UsageError(lines.join("\n"));
  }
}
