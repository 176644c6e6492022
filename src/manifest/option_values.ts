/**
 * The value syntaxes of docker-run options that spec fields share (`restart`, `volumes`,
 * `resources`), and those of options alone: each parsed into launcher's own terms.
 */
import { quote } from "./describe.ts";
import { isIpAddress } from "./ip_address.ts";
import { type Device, RESTART_POLICIES, type RestartPolicy, type Ulimit } from "./normalized.ts";
import { malformed } from "./value_error.ts";

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

const RESTART = new RegExp(`^(${RESTART_POLICIES.join("|")})(?::(\\d{1,9}))?$`);

/** Parses a restart policy as `--restart` and the spec's `restart` take it. */
export function parseRestartPolicy(value: string): RestartPolicy {
  const match = RESTART.exec(value);
  if (!match || (match[2] !== undefined && match[1] !== "on-failure")) {
    throw malformed(value, "expected no, always, unless-stopped or on-failure[:N]");
  }
  const policy: RestartPolicy = { name: match[1] as RestartPolicy["name"] };
  if (match[2] !== undefined) policy.maxRetries = Number(match[2]);
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
        `unknown mode ${quote(unknown)} (expected ro, rw, z, Z, ...)`,
      );
    }
  }
  return value;
}

/** Parses `--device`: `/HOST[:/CONTAINER][:PERMISSIONS]`. */
export function parseDevice(value: string): Device {
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
  return { hostPath: host, containerPath: container, permissions };
}

/** Checks a capability name (`NET_ADMIN`, `CAP_NET_ADMIN`, `ALL`). */
export function parseCapability(value: string): string {
  if (!/^[A-Za-z][A-Za-z_]*$/.test(value)) {
    throw malformed(value, "expected a capability such as NET_ADMIN or ALL");
  }
  return value;
}

/** Parses `--ulimit`: `NAME=SOFT[:HARD]`, -1 for unlimited. */
export function parseUlimit(value: string): Ulimit {
  const match = /^([a-z]+)=(-1|\d{1,18})(?::(-1|\d{1,18}))?$/.exec(value);
  if (!match) throw malformed(value, "expected NAME=SOFT[:HARD], such as nofile=1024:2048");
  if (!ULIMIT_NAMES.has(match[1])) {
    throw malformed(value, `unknown ulimit ${quote(match[1])}`);
  }
  const soft = Number(match[2]);
  const hard = match[3] === undefined ? soft : Number(match[3]);
  const limit = (n: number) => n < 0 ? Infinity : n;
  if (limit(soft) > limit(hard)) {
    throw malformed(value, "the soft limit must not exceed the hard limit");
  }
  return { name: match[1], soft, hard };
}

/** Parses `--add-host`: `NAME:IP`, the IP in brackets or not, or `host-gateway`. */
export function parseExtraHost(value: string): string {
  const colon = value.indexOf(":");
  const name = value.slice(0, colon);
  const ip = value.slice(colon + 1).replace(/^\[(.*)\]$/, "$1");
  if (colon < 0 || !isHostname(name) || !(isIpAddress(ip) || ip === "host-gateway")) {
    throw malformed(value, "expected NAME:IP, such as db:10.0.0.5 or gw:host-gateway");
  }
  return `${name}:${ip}`;
}

/** Checks `--hostname`: an RFC 1123 host name of up to 63 characters. */
export function parseHostname(value: string): string {
  if (!HOSTNAME.test(value) || value.length > 63) {
    throw malformed(value, "expected a host name of up to 63 letters, digits, '-' and '.'");
  }
  return value;
}

/** Checks `--dns-search`: a domain name, or `.`. */
export function parseDnsSearch(value: string): string {
  if (value !== "." && !isHostname(value)) throw malformed(value, "expected a domain name");
  return value;
}

/** Whether `path` is absolute: host paths resolve on the agent's host, so they must be. */
export function isAbsolutePath(path: string): boolean {
  return path.startsWith("/");
}

/** Names as resolvers accept them in /etc/hosts and search lists (underscores, a final dot). */
function isHostname(name: string): boolean {
  return name.length <= 253 &&
    /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/
      .test(name);
}
