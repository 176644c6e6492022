/**
 * A spec's `options`: docker-run style flags, parsed strictly into the engine's own terms so that
 * a bad option is rejected at `manifest up` instead of when an agent tries to run it.
 */
import { LauncherError } from "../errors.ts";
import { isIpAddress } from "./ip_address.ts";
import { closest } from "./suggest.ts";
import { malformed, ValueError } from "./value_error.ts";

/** `HostConfig.RestartPolicy` of the engine. */
export interface RestartPolicy {
  Name: "no" | "always" | "unless-stopped" | "on-failure";
  MaximumRetryCount?: number;
}

/** One entry of `HostConfig.Devices`. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** One entry of `HostConfig.Ulimits`; -1 means unlimited. */
export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** What a spec's options ask of the engine; a field is absent when no option set it. */
export interface RunOptions {
  networkMode?: string;
  restartPolicy?: RestartPolicy;
  binds?: string[];
  privileged?: boolean;
  /** Bytes. */
  memory?: number;
  /** Billionths of a CPU. */
  nanoCpus?: number;
  /** `name:ip` entries for /etc/hosts. */
  extraHosts?: string[];
  devices?: DeviceMapping[];
  /** Mount path to mount options (`""` for none). */
  tmpfs?: Record<string, string>;
  hostname?: string;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  ipcMode?: string;
  /** Bytes. */
  shmSize?: number;
  ulimits?: Ulimit[];
  dns?: string[];
  dnsSearch?: string[];
  labels?: Record<string, string>;
}

/** An option that cannot be parsed; `index` is the list element at fault. */
export class OptionError extends LauncherError {
  constructor(message: string, readonly index: number) {
    super("invalid_option", message);
  }
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
    into.restartPolicy = parseRestartPolicy(value);
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
    const colon = value.indexOf(":");
    const name = value.slice(0, colon);
    const ip = value.slice(colon + 1).replace(/^\[(.*)\]$/, "$1");
    if (colon < 0 || !isHostname(name) || !(isIpAddress(ip) || ip === "host-gateway")) {
      throw malformed(value, "expected NAME:IP, such as db:10.0.0.5 or gw:host-gateway");
    }
    (into.extraHosts ??= []).push(`${name}:${ip}`);
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
    if (path in into.tmpfs) throw new ValueError(`mounts ${JSON.stringify(path)} twice`);
    into.tmpfs[path] = colon < 0 ? "" : value.slice(colon + 1);
  }),
  single("--hostname", [], (value, into) => {
    if (!HOSTNAME.test(value) || value.length > 63) {
      throw malformed(value, "expected a host name of up to 63 letters, digits, '-' and '.'");
    }
    into.hostname = value;
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
    if (into.ulimits.some((other) => other.Name === ulimit.Name)) {
      throw new ValueError(`sets ulimit ${JSON.stringify(ulimit.Name)} twice`);
    }
    into.ulimits.push(ulimit);
  }),
  repeatable("--dns", [], (value, into) => {
    if (!isIpAddress(value)) throw malformed(value, "expected an IP address");
    (into.dns ??= []).push(value);
  }),
  repeatable("--dns-search", [], (value, into) => {
    if (value !== "." && !isHostname(value)) throw malformed(value, "expected a domain name");
    (into.dnsSearch ??= []).push(value);
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
    if (key in into.labels) throw new ValueError(`sets label ${JSON.stringify(key)} twice`);
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

const ULIMIT_NAMES = new Set([
  "as",
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack",
]);

const VOLUME_MODES = new Set([
  "ro",
  "rw",
  "z",
  "Z",
  "shared",
  "rshared",
  "slave",
  "rslave",
  "private",
  "rprivate",
  "nocopy",
  "consistent",
  "cached",
  "delegated",
]);

/** RFC 1123 host names, stricter than {@link isHostname}: no underscores, no final dot. */
const HOSTNAME =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parses docker-run style flags (`--flag=value`, `--flag value` in one element, a flag followed
 * by its value as the next element, `-v value`, `-v=value`) into {@link RunOptions}.
 * Throws {@link OptionError} naming the option on an unknown flag, a missing or malformed value,
 * or a single-value flag given twice.
 */
export function parseOptions(options: string[]): RunOptions {
  const result: RunOptions = {};
  const seen = new Set<Flag>();
  for (const occurrence of scan(options)) {
    const { flag, written, value, flagIndex, valueIndex } = occurrence;
    if (!flag.repeatable && seen.has(flag)) {
      throw new OptionError(`option ${JSON.stringify(written)} is given twice`, flagIndex);
    }
    seen.add(flag);
    try {
      flag.apply(value, result);
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      throw new OptionError(`option ${JSON.stringify(written)} ${error.message}`, valueIndex);
    }
  }
  return result;
}

/**
 * Rewrites options in one canonical spelling, `--long-name=value`, keeping their order, so that
 * `["-m", "1g"]` and `["--memory=1g"]` compare equal. Throws like {@link parseOptions}.
 */
export function normalizeOptions(options: string[]): string[] {
  parseOptions(options);
  return scan(options).map(({ flag, value }) => `${flag.name}=${value}`);
}

/** One flag as written in an options list. */
export interface OptionUse {
  /** The flag's canonical name, such as `--volume` for `-v`. */
  name: string;
  value: string;
  /** The list element holding the flag. */
  index: number;
}

/**
 * Lists the flags of an options list with their canonical names and where they are, so that a
 * spec field can name the option that sets the same thing. Throws like {@link parseOptions}.
 */
export function optionUses(options: string[]): OptionUse[] {
  parseOptions(options);
  return scan(options).map(({ flag, value, flagIndex }) => ({
    name: flag.name,
    value,
    index: flagIndex,
  }));
}

/** Splits the list into flag occurrences, checking names and the presence of values. */
function scan(options: string[]): Occurrence[] {
  const occurrences: Occurrence[] = [];
  for (let index = 0; index < options.length; index++) {
    const element = options[index];
    const quoted = JSON.stringify(element);
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
    const name = JSON.stringify(written);
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
          `option ${name} has malformed value ${JSON.stringify(value)}: expected true or false`,
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

/** Parses a restart policy as `--restart` and the spec's `restart` take it. */
export function parseRestartPolicy(value: string): RestartPolicy {
  const match = /^(no|always|unless-stopped|on-failure)(?::(\d{1,9}))?$/.exec(value);
  if (!match || (match[2] !== undefined && match[1] !== "on-failure")) {
    throw malformed(value, "expected no, always, unless-stopped or on-failure[:N]");
  }
  const policy: RestartPolicy = { Name: match[1] as RestartPolicy["Name"] };
  if (match[2] !== undefined) policy.MaximumRetryCount = Number(match[2]);
  return policy;
}

/** Parses a number of CPUs (`0.5`, `2`) into billionths of a CPU, as the engine takes it. */
export function parseCpus(value: string): number {
  const cpus = /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(value) ? Number(value) : NaN;
  const nanoCpus = Math.round(cpus * 1e9);
  if (!(nanoCpus >= 1) || !Number.isSafeInteger(nanoCpus)) {
    throw malformed(value, "expected a number of CPUs greater than 0, such as 0.5 or 2");
  }
  return nanoCpus;
}

/** Parses a size (`256m`, `1g`, a number of bytes) into bytes. */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:([kmg])b?|b)?$/i.exec(value);
  const bytes = match
    ? Math.floor(Number(match[1]) * SIZE_UNITS[(match[2] ?? "b").toLowerCase()])
    : 0;
  if (!(bytes >= 1) || !Number.isSafeInteger(bytes)) {
    throw malformed(value, "expected a size such as 256m, 1g or a number of bytes");
  }
  return bytes;
}

/** Checks a volume as `-v` and the spec's `volumes` take it: `SOURCE:/PATH[:MODES]`. */
export function parseVolume(value: string): string {
  const [source, target, modes, ...rest] = value.split(":");
  if (target === undefined || rest.length > 0) {
    throw malformed(value, "expected SOURCE:/PATH[:MODES], such as /srv/data:/data:ro");
  }
  // Relative host paths would resolve on the agent's host, not where the manifest was written.
  if (!isAbsolutePath(source) && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(source)) {
    throw malformed(value, "the source must be an absolute host path or a volume name");
  }
  if (!isAbsolutePath(target)) throw malformed(value, "the target must be an absolute path");
  if (modes !== undefined) {
    const unknown = modes.split(",").find((mode) => !VOLUME_MODES.has(mode));
    if (unknown !== undefined) {
      throw malformed(
        value,
        `unknown mode ${JSON.stringify(unknown)} (expected ro, rw, z, Z, ...)`,
      );
    }
  }
  return value;
}

function parseDevice(value: string): DeviceMapping {
  const parts = value.split(":");
  const [host] = parts;
  let container = host;
  let permissions = "rwm";
  if (parts.length === 2 && !parts[1].startsWith("/")) permissions = parts[1];
  else if (parts.length >= 2) container = parts[1];
  if (parts.length === 3) permissions = parts[2];
  if (
    parts.length > 3 || !isAbsolutePath(host) || !isAbsolutePath(container) ||
    !/^(?!.*(.).*\1)[rwm]{1,3}$/.test(permissions)
  ) {
    throw malformed(value, "expected /HOST/PATH[:/CONTAINER/PATH][:PERMISSIONS of r, w, m]");
  }
  return { PathOnHost: host, PathInContainer: container, CgroupPermissions: permissions };
}

function parseCapability(value: string): string {
  if (!/^[A-Za-z][A-Za-z_]*$/.test(value)) {
    throw malformed(value, "expected a capability such as NET_ADMIN or ALL");
  }
  return value;
}

function parseUlimit(value: string): Ulimit {
  const match = /^([a-z]+)=(-1|\d{1,18})(?::(-1|\d{1,18}))?$/.exec(value);
  if (!match) throw malformed(value, "expected NAME=SOFT[:HARD], such as nofile=1024:2048");
  if (!ULIMIT_NAMES.has(match[1])) {
    throw malformed(value, `unknown ulimit ${JSON.stringify(match[1])}`);
  }
  const soft = Number(match[2]);
  const hard = match[3] === undefined ? soft : Number(match[3]);
  const limit = (n: number) => n < 0 ? Infinity : n;
  if (limit(soft) > limit(hard)) {
    throw malformed(value, "the soft limit must not exceed the hard limit");
  }
  return { Name: match[1], Soft: soft, Hard: hard };
}

function isAbsolutePath(path: string): boolean {
  return path.startsWith("/");
}

/** Names as resolvers accept them in /etc/hosts and search lists (underscores, a final dot). */
function isHostname(name: string): boolean {
  return name.length <= 253 &&
    /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/
      .test(name);
}
