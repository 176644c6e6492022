/**
 * The Docker CLI's client configuration (`config.json`), as far as pulls need it: the `auths`
 * entries `docker login` writes, and the names of credential helpers, which launcher does not
 * run. Every message names the file and the entry, never a credential.
 */
import { LauncherError } from "../errors.ts";

/** Credentials of one `auths` entry, decoded. */
export type StoredCredentials =
  | { username: string; password: string }
  | { identitytoken: string };

/** What a config file holds for pulls. */
export interface DockerConfig {
  /** Where it was read from, for messages. */
  path: string;
  /** `auths` entries that hold credentials, by their key as written (`host:port`, a URL). */
  auths: Map<string, StoredCredentials>;
  /** Keys of `auths` entries without credentials (a credential store holds them). */
  emptyAuths: string[];
  /** The credential store for every registry (`credsStore`), if named. */
  credsStore?: string;
  /** Credential helpers by registry (`credHelpers`). */
  credHelpers: Record<string, string>;
}

/** A config file that cannot be read or understood. */
export class DockerConfigError extends LauncherError {
  constructor(message: string) {
    super("docker_config_invalid", message);
  }
}

/** Parses the text of a config file; throws {@link DockerConfigError} naming `path` and the entry. */
export function parseDockerConfig(text: string, path: string): DockerConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DockerConfigError(`${path} is not valid JSON: ${jsonProblem(error)}`);
  }
  if (!isObject(json)) throw new DockerConfigError(`${path} must hold a JSON object`);
  const config: DockerConfig = { path, auths: new Map(), emptyAuths: [], credHelpers: {} };
  if (json.auths !== undefined) {
    if (!isObject(json.auths)) throw new DockerConfigError(`${path}: "auths" must be an object`);
    for (const [key, entry] of Object.entries(json.auths)) {
      const credentials = entryCredentials(entry, `${path}: auths[${JSON.stringify(key)}]`);
      if (credentials) config.auths.set(key, credentials);
      else config.emptyAuths.push(key);
    }
  }
  if (json.credsStore !== undefined && json.credsStore !== "") {
    if (typeof json.credsStore !== "string") {
      throw new DockerConfigError(`${path}: "credsStore" must be a string`);
    }
    config.credsStore = json.credsStore;
  }
  if (json.credHelpers !== undefined) {
    if (!isObject(json.credHelpers)) {
      throw new DockerConfigError(`${path}: "credHelpers" must be an object`);
    }
    for (const [registry, helper] of Object.entries(json.credHelpers)) {
      if (typeof helper !== "string") {
        throw new DockerConfigError(
          `${path}: credHelpers[${JSON.stringify(registry)}] must be a string`,
        );
      }
      config.credHelpers[registry] = helper;
    }
  }
  return config;
}

/**
 * The credentials of one `auths` entry, or undefined when it holds none. As the Docker CLI
 * reads it: `auth` is base64 of `user:password` and wins over `username`/`password`; an
 * `identitytoken` is sent instead of a password.
 */
function entryCredentials(entry: unknown, where: string): StoredCredentials | undefined {
  if (!isObject(entry)) throw new DockerConfigError(`${where} must be an object`);
  for (const field of ["auth", "username", "password", "identitytoken"]) {
    if (entry[field] !== undefined && typeof entry[field] !== "string") {
      throw new DockerConfigError(`${where}.${field} must be a string`);
    }
  }
  const { auth, identitytoken } = entry as Record<string, string | undefined>;
  let { username = "", password = "" } = entry as Record<string, string | undefined>;
  if (auth) [username, password] = decodeAuth(auth, `${where}.auth`);
  if (identitytoken) return { identitytoken };
  if (username === "" && password === "") return undefined;
  return { username, password };
}

/** `auth`: base64 of `user:password` (the password may hold colons). */
function decodeAuth(auth: string, where: string): [string, string] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(auth.trim()), (c) => c.charCodeAt(0)),
    );
  } catch {
    throw new DockerConfigError(`${where} is not base64 of "user:password"`);
  }
  const colon = text.indexOf(":");
  if (colon < 0) throw new DockerConfigError(`${where} is not base64 of "user:password"`);
  return [text.slice(0, colon), text.slice(colon + 1)];
}

/**
 * What JSON.parse found wrong, with its line and column, without the excerpt of the text some of
 * its messages quote (the file holds passwords).
 */
function jsonProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const at = /^(.*) in JSON at position \d+ \(line (\d+) column (\d+)\)$/.exec(message);
  if (at) return `${at[1].toLowerCase()} (line ${at[2]}, column ${at[3]})`;
  if (message.startsWith("Unexpected end")) return "it ends too early";
  return "unexpected character";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
