/**
 * `launcher run` without its side effects: the arguments as a one-container manifest, the server's
 * objections in the words of the flags, which output lines are new, and how a run ends, as
 * `docker run` ends.
 */
import * as v from "valibot";
import { type ContainerStatus, type ErrorDetail, NameSchema } from "../api/schemas.ts";
import { nanoseconds } from "../log_time.ts";
import { UsageError } from "./errors.ts";

/** The arguments of `launcher run` that make its manifest. */
export interface RunArgs {
  name: string;
  image: string;
  host?: string;
  /** `-e KEY=VALUE`, as given. */
  env: string[];
  /** `-p`, as given. */
  publish: string[];
  /** After `--`: the command and its arguments; none keeps the image's own. */
  cmd: string[];
}

/** One container of the manifest of a run, as the server takes it. */
interface RunSpec {
  name: string;
  image: string;
  host?: string;
  environment?: Record<string, string>;
  ports?: string[];
  cmd?: string[];
  restart: "no";
}

/** The manifest of a run: named after it, with one container of the same name. */
export interface RunManifest {
  name: string;
  containers: [RunSpec];
  [key: string]: unknown;
}

/** `-e KEY=VALUE` flags as a map; a flag without `=` is a usage error naming it. */
export function parseEnv(flags: string[]): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const flag of flags) {
    const at = flag.indexOf("=");
    if (at <= 0) throw new UsageError(`-e ${flag}: expected KEY=VALUE`);
    environment[flag.slice(0, at)] = flag.slice(at + 1);
  }
  return environment;
}

/**
 * The manifest `launcher run` applies: one container named as the manifest, run once (`restart:
 * "no"`); without a host the server places it. The server checks everything else, as for any
 * manifest.
 */
export function runManifest(args: RunArgs): RunManifest {
  if (!v.is(NameSchema, args.name)) {
    throw new UsageError(`NAME "${args.name}" must match [a-z0-9][a-z0-9-]{0,62}`);
  }
  const spec: RunSpec = { name: args.name, image: args.image, restart: "no" };
  if (args.host !== undefined) spec.host = args.host;
  const environment = parseEnv(args.env);
  if (Object.keys(environment).length > 0) spec.environment = environment;
  if (args.publish.length > 0) spec.ports = [...args.publish];
  if (args.cmd.length > 0) spec.cmd = [...args.cmd];
  return { name: args.name, containers: [spec] };
}

/** The flag a field of the run's manifest came from, for the server's objections. */
const FLAGS: [RegExp, string][] = [
  [/^(name|containers\[0\]\.name)$/, "NAME"],
  [/^containers\[0\]\.image\b/, "--image"],
  [/^containers\[0\]\.host\b/, "--host"],
  [/^containers\[0\]\.environment\b/, "-e"],
  [/^containers\[0\]\.ports\b/, "-p"],
  [/^containers\[0\]\.cmd\b/, "the command after --"],
];

/**
 * The server's objections to a run's manifest, one line each in the words of the flags (the lines
 * and columns of a manifest nobody wrote mean nothing to the user).
 */
export function runObjections(message: string, details: ErrorDetail[] = []): string {
  const lines = details.map((d) => {
    const flag = FLAGS.find(([path]) => path.test(d.path ?? ""))?.[1] ?? d.path;
    return flag ? `${flag}: ${d.message}` : d.message;
  });
  const unique = [...new Set(lines)];
  return unique.length > 0 ? unique.join("\n") : message;
}

/** How a waited-for run ends: the exit code of the command, and why when it never ran. */
export interface RunEnd {
  code: number;
  /** Set when the container did not run to an exit of its own (it failed to start, was removed). */
  error?: string;
}

/**
 * How a run ends, judged from its container in `ps`, or undefined while it is on its way or
 * running: `completed` is 0, `failed (exit N)` is N, a failure without an exit code (a pull or a
 * start that failed) is 1 with the error, and an exit someone caused (a stop) is its code.
 */
export function runEnd(c: ContainerStatus): RunEnd | undefined {
  if (c.desired === "removed") return { code: 1, error: `${c.config.name} was removed` };
  switch (c.state) {
    case "completed":
      return { code: exitStatus(c.exitCode ?? 0) };
    case "failed":
      return c.exitCode === undefined
        ? {
          code: 1,
          error: `${c.config.name} on ${c.host} failed: ${c.error ?? "no reason given"}`,
        }
        : { code: exitStatus(c.exitCode) };
    case "exited":
    case "dead":
      return { code: exitStatus(c.exitCode ?? 1) };
    default:
      return undefined;
  }
}

/** An exit code a process can end with (0-255); anything else (Docker's -1) is 1. */
function exitStatus(code: number): number {
  return Number.isInteger(code) && code >= 0 && code <= 255 ? code : 1;
}

/**
 * Which lines of a run's output were written, so that each is written once over several reads (a
 * follow, then a read to the end): a read starts at the last written line's time, and of the lines
 * at that time skips as many as were written. Lines carry the engine's time (nanoseconds).
 */
export class OutputCursor {
  #lastNs?: bigint;
  /** Lines written with the time `#lastNs`. */
  #atLast = 0;
  /** Lines with the time `#lastNs` that the current read has met. */
  #met = 0;

  /** Begins a read: the `since` to ask for (the last line's millisecond), none for the start. */
  startRead(): string | undefined {
    this.#met = 0;
    return this.#lastNs === undefined
      ? undefined
      : new Date(Number(this.#lastNs / 1_000_000n)).toISOString();
  }

  /** Whether a line with this time is new; a new one is counted as written. */
  admit(time: string | undefined): boolean {
    const at = time === undefined ? undefined : nanoseconds(time);
    if (at === undefined) return true;
    if (this.#lastNs === undefined || at > this.#lastNs) {
      this.#lastNs = at;
      this.#atLast = 1;
      this.#met = 1;
      return true;
    }
    if (at < this.#lastNs || ++this.#met <= this.#atLast) return false;
    this.#atLast++;
    return true;
  }
}
