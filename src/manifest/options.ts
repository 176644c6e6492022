/**
 * A spec's `options`: docker-run style flags, parsed strictly, once, into launcher's own terms, so
 * that a bad option is rejected at `manifest up` instead of when an agent tries to run it.
 */
import { quote } from "./describe.ts";
import { LauncherError } from "../errors.ts";
import { isIpAddress } from "./ip_address.ts";
import type { RunOptions } from "./normalized.ts";
import {
  isAbsolutePath,
  parseCapability,
  parseCpus,
  parseDevice,
  parseDnsSearch,
  parseExtraHost,
  parseHostname,
  parseRestartPolicy,
  parseSize,
  parseUlimit,
  parseVolume,
} from "./option_values.ts";
import { closest } from "./suggest.ts";
import { malformed, ValueError } from "./value_error.ts";

/** An option that cannot be parsed; `index` is the list element at fault. */
export class OptionError extends LauncherError {
  constructor(message: string, readonly index: number) {
    super("invalid_option", message);
  }
}

/** One flag as written in an options list. */
export interface OptionUse {
  /** The flag's canonical name, such as `--volume` for `-v`. */
  name: string;
  value: string;
  /** The list element holding the flag. */
  index: number;
}

/** An options list read once: its canonical spelling, what it asks for, and where each flag is. */
export interface ParsedOptions {
  /** One spelling per option, `--long-name=value`, in the order written. */
  options: string[];
  run: RunOptions;
  uses: OptionUse[];
}

/** One supported flag: its canonical name, other spellings, and how its value is stored. */
interface Flag {
  name: string;
  aliases: string[];
  /** Repeatable flags accumulate; any other flag given twice is an error. */
  repeatable: boolean;
  boolean: boolean;
  apply: (value: string, into: RunOptions) => void;
}

/** One flag occurrence found in the list, its value not yet checked. */
interface Occurrence {
  flag: Flag;
  written: string;
  value: string;
  /** The list element holding the flag. */
  flagIndex: number;
  /** The list element holding the value (the flag's own element or the next one). */
  valueIndex: number;
}

const FLAGS: Flag[] = [
  single("--network", ["--net"], (value, into) => {
    if (!/^(?:container:)?[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) {
      throw malformed(value, "expected bridge, host, none, container:NAME or a network name");
    }
    into.networkMode = value;
  }),
  single("--restart", [], (value, into) => {
    into.restart = parseRestartPolicy(value);
  }),
  repeatable("--volume", ["-v"], (value, into) => {
    (into.binds ??= []).push(parseVolume(value));
  }),
  {
    name: "--privileged",
    aliases: [],
    repeatable: false,
    boolean: true,
    apply: (value, into) => {
      into.privileged = value === "true";
    },
  },
  single("--memory", ["-m"], (value, into) => {
    into.memory = parseSize(value);
  }),
  single("--cpus", [], (value, into) => {
    into.nanoCpus = parseCpus(value);
  }),
  repeatable("--add-host", [], (value, into) => {
    (into.extraHosts ??= []).push(parseExtraHost(value));
  }),
  repeatable("--device", [], (value, into) => {
    (into.devices ??= []).push(parseDevice(value));
  }),
  repeatable("--tmpfs", [], (value, into) => {
    const colon = value.indexOf(":");
    const path = colon < 0 ? value : value.slice(0, colon);
    if (!isAbsolutePath(path)) {
      throw malformed(value, "expected /PATH[:OPTIONS], such as /run:size=64m");
    }
    into.tmpfs ??= {};
    if (path in into.tmpfs) throw new ValueError(`mounts ${quote(path)} twice`);
    into.tmpfs[path] = colon < 0 ? "" : value.slice(colon + 1);
  }),
  single("--hostname", [], (value, into) => {
    into.hostname = parseHostname(value);
  }),
  repeatable("--cap-add", [], (value, into) => {
    (into.capAdd ??= []).push(parseCapability(value));
  }),
  repeatable("--cap-drop", [], (value, into) => {
    (into.capDrop ??= []).push(parseCapability(value));
  }),
  repeatable("--security-opt", [], (value, into) => {
    if (!/^[a-z][a-z-]*(?:[=:].+)?$/.test(value)) {
      throw malformed(value, "expected KEY or KEY=VALUE, such as no-new-privileges");
    }
    // The docker CLI reads a seccomp profile file on the client; the engine only takes its text.
    const seccomp = /^seccomp[=:](.*)$/s.exec(value);
    if (seccomp && seccomp[1] !== "unconfined" && !seccomp[1].trimStart().startsWith("{")) {
      throw malformed(value, "seccomp takes unconfined or an inline JSON profile, not a file");
    }
    (into.securityOpt ??= []).push(value);
  }),
  single("--ipc", [], (value, into) => {
    if (!/^(?:none|private|shareable|host|container:[A-Za-z0-9][A-Za-z0-9_.-]*)$/.test(value)) {
      throw malformed(value, "expected none, private, shareable, host or container:NAME");
    }
    into.ipcMode = value;
  }),
  single("--shm-size", [], (value, into) => {
    into.shmSize = parseSize(value);
  }),
  repeatable("--ulimit", [], (value, into) => {
    const ulimit = parseUlimit(value);
    into.ulimits ??= [];
    if (into.ulimits.some((other) => other.name === ulimit.name)) {
      throw new ValueError(`sets ulimit ${quote(ulimit.name)} twice`);
    }
    into.ulimits.push(ulimit);
  }),
  repeatable("--dns", [], (value, into) => {
    if (!isIpAddress(value)) throw malformed(value, "expected an IP address");
    (into.dns ??= []).push(value);
  }),
  repeatable("--dns-search", [], (value, into) => {
    (into.dnsSearch ??= []).push(parseDnsSearch(value));
  }),
  repeatable("--label", ["-l"], (value, into) => {
    const equals = value.indexOf("=");
    const key = equals < 0 ? value : value.slice(0, equals);
    if (!/^[^\s=]+$/.test(key)) throw malformed(value, "expected KEY=VALUE or KEY");
    // Launcher's own labels identify the containers it manages; a spec must not forge them.
    if (key.startsWith("launcher.")) {
      throw malformed(value, 'label keys starting with "launcher." are reserved');
    }
    into.labels ??= {};
    if (key in into.labels) throw new ValueError(`sets label ${quote(key)} twice`);
    into.labels[key] = equals < 0 ? "" : value.slice(equals + 1);
  }),
];

const FLAG_BY_NAME = new Map(
  FLAGS.flatMap((flag) => [flag.name, ...flag.aliases].map((name) => [name, flag])),
);

/** Where docker-run flags that are not options live in a spec. */
const ELSEWHERE: Record<string, string> = {
  "-p": "ports go in the spec's ports list",
  "--publish": "ports go in the spec's ports list",
  "-e": "variables go in the spec's environment mapping",
  "--env": "variables go in the spec's environment mapping",
  "--name": "the container's name is the spec's name",
  "--entrypoint": "use the spec's entrypoint",
  "-h": "use --hostname",
};

/**
 * Reads docker-run style flags (`--flag=value`, `--flag value` in one element, a flag followed
 * by its value as the next element, `-v value`, `-v=value`) once: their canonical spelling, the
 * {@link RunOptions} they ask for, and where each flag is. Throws {@link OptionError} naming the
 * option on an unknown flag, a missing or malformed value, or a single-value flag given twice.
 */
export function readOptions(list: string[]): ParsedOptions {
  const result: ParsedOptions = { options: [], run: {}, uses: [] };
  const seen = new Set<Flag>();
  for (const occurrence of scan(list)) {
    const { flag, written, value, flagIndex, valueIndex } = occurrence;
    if (!flag.repeatable && seen.has(flag)) {
      throw new OptionError(`option ${quote(written)} is given twice`, flagIndex);
    }
    seen.add(flag);
    try {
      flag.apply(value, result.run);
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      throw new OptionError(`option ${quote(written)} ${error.message}`, valueIndex);
    }
    result.options.push(`${flag.name}=${value}`);
    result.uses.push({ name: flag.name, value, index: flagIndex });
  }
  return result;
}

/** What an options list asks for; throws like {@link readOptions}. */
export function parseOptions(list: string[]): RunOptions {
  return readOptions(list).run;
}

/**
 * An options list in one canonical spelling, `--long-name=value`, in the order written, so that
 * `["-m", "1g"]` and `["--memory=1g"]` compare equal. Throws like {@link readOptions}.
 */
export function normalizeOptions(list: string[]): string[] {
  return readOptions(list).options;
}

/** Splits the list into flag occurrences, checking names and the presence of values. */
function scan(options: string[]): Occurrence[] {
  const occurrences: Occurrence[] = [];
  for (let index = 0; index < options.length; index++) {
    const element = options[index];
    const quoted = quote(element);
    if (!/^--?[A-Za-z]/.test(element)) {
      throw new OptionError(`option ${quoted} is not a flag (expected --name=value)`, index);
    }
    const equals = element.indexOf("=");
    const space = element.search(/\s/);
    let written = element;
    let value: string | undefined;
    let separate = false;
    if (equals >= 0 && (space < 0 || equals < space)) {
      written = element.slice(0, equals);
      value = element.slice(equals + 1);
    } else if (space >= 0) {
      written = element.slice(0, space);
      value = element.slice(space).trimStart();
      separate = true;
    }
    const flag = FLAG_BY_NAME.get(written);
    const name = quote(written);
    if (!flag) throw new OptionError(`unknown option ${name}${unknownHint(written)}`, index);
    const flagIndex = index;
    let valueIndex = index;
    if (flag.boolean) {
      if (separate) {
        throw new OptionError(
          `option ${name} takes no separate value (write ${written}=true or ${written}=false)`,
          index,
        );
      }
      value ??= "true";
      if (value !== "true" && value !== "false") {
        throw new OptionError(
          `option ${name} has malformed value ${quote(value)}: expected true or false`,
          index,
        );
      }
    } else if (value === undefined) {
      const next = options[index + 1];
      // A following flag is never taken as a value: `["--net", "--privileged"]` is a mistake.
      if (next === undefined || next.startsWith("-")) {
        throw new OptionError(`option ${name} is missing its value`, index);
      }
      value = next;
      valueIndex = ++index;
    }
    if (value === "") throw new OptionError(`option ${name} has an empty value`, valueIndex);
    occurrences.push({ flag, written, value, flagIndex, valueIndex });
  }
  return occurrences;
}

function unknownHint(written: string): string {
  const elsewhere = ELSEWHERE[written];
  if (elsewhere) return ` (${elsewhere})`;
  const suggestion = closest(written, [...FLAG_BY_NAME.keys()].filter((n) => n.startsWith("--")));
  return suggestion ? ` (did you mean "${suggestion}"?)` : "";
}

function single(name: string, aliases: string[], apply: Flag["apply"]): Flag {
  return { name, aliases, repeatable: false, boolean: false, apply };
}

function repeatable(name: string, aliases: string[], apply: Flag["apply"]): Flag {
  return { name, aliases, repeatable: true, boolean: false, apply };
}
