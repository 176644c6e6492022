/**
 * Which credentials go with a pull: the registry of an image reference, matched against the
 * `auths` entries of the host's Docker config as the Docker CLI matches them. The file is read
 * at every pull (pulls are rare, a read is cheap), so a new `docker login` counts without a
 * restart of the agent.
 */
import type { RegistryAuth } from "../docker/engine.ts";
import { LauncherError } from "../errors.ts";
import { type DockerConfig, DockerConfigError, parseDockerConfig } from "./docker_config.ts";

/** The registry name the Docker CLI gives Docker Hub; images without a registry come from it. */
export const DOCKER_HUB = "docker.io";

/** The key `docker login` writes for Docker Hub. */
const HUB_KEY = "https://index.docker.io/v1/";

/** Host names that all mean Docker Hub in an `auths` key. */
const HUB_HOSTS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** What goes with one pull. */
export interface PullCredentials {
  /** The credentials for the image's registry, when the config holds some. */
  auth?: RegistryAuth;
  /**
   * Why there are none although the config names a credential helper for the registry: added
   * to the pull's error, should the registry refuse an anonymous pull.
   */
  helperNote?: string;
}

/** Finds the credentials for an image's pull. */
export type CredentialLookup = (image: string) => Promise<PullCredentials>;

/**
 * A pull that failed while the config names a credential helper launcher does not run: the
 * engine's message, then the note saying so.
 */
export class CredentialHelperError extends LauncherError {
  constructor(cause: unknown, note: string) {
    super(
      cause instanceof LauncherError ? cause.code : "engine_error",
      `${cause instanceof Error ? cause.message : String(cause)}; ${note}`,
    );
  }
}

/**
 * The registry of an image reference, as the Docker CLI decides: the first part of the path
 * names a registry when there is more than one part and it holds a '.' or ':', is `localhost`,
 * or has capitals; otherwise the image is on Docker Hub.
 */
export function registryOf(image: string): string {
  const slash = image.indexOf("/");
  if (slash < 0) return DOCKER_HUB;
  const first = image.slice(0, slash);
  const isRegistry = /[.:]/.test(first) || first === "localhost" ||
    first !== first.toLowerCase();
  if (!isRegistry || first === "index.docker.io") return DOCKER_HUB;
  return first;
}

/**
 * The host of an `auths` key: `https://registry.example.com/v1/` and `registry.example.com`
 * both give `registry.example.com` (the Docker CLI's `ConvertToHostname`).
 */
export function keyHost(key: string): string {
  const stripped = key.replace(/^https?:\/\//, "");
  const slash = stripped.indexOf("/");
  return slash < 0 ? stripped : stripped.slice(0, slash);
}

/** Whether an `auths` key names `registry`: the key as written first, then its host. */
function keyMatches(key: string, registry: string): boolean {
  if (registry === DOCKER_HUB) return HUB_HOSTS.has(keyHost(key));
  return key === registry || keyHost(key) === registry;
}

/** The credentials of `config` for an image's pull, or why there are none. */
export function credentialsFor(config: DockerConfig, image: string): PullCredentials {
  const registry = registryOf(image);
  const keys = [...config.auths.keys()];
  // An exact key first, as the Docker CLI looks one up before it compares hosts.
  const exact = registry === DOCKER_HUB ? HUB_KEY : registry;
  const key = keys.find((k) => k === exact) ?? keys.find((k) => keyMatches(k, registry));
  const stored = key === undefined ? undefined : config.auths.get(key);
  if (key !== undefined && stored !== undefined) {
    return { auth: { ...stored, serveraddress: key } };
  }
  const helperKey = Object.keys(config.credHelpers).find((k) => keyMatches(k, registry));
  const helper = helperKey === undefined
    ? config.credsStore === undefined ? undefined : `credential store "${config.credsStore}"`
    : `credential helper "${config.credHelpers[helperKey]}"`;
  if (helper === undefined) return {};
  return {
    helperNote: `${config.path} names ${helper} for ${registry}, and launcher does not use ` +
      `credential helpers: give ${registry} an "auths" entry with its credentials instead`,
  };
}

/** The config file in a Docker config folder (`--docker-config`, `DOCKER_CONFIG`). */
export function configPath(dir: string): string {
  return `${dir.replace(/\/+$/, "")}/config.json`;
}

/**
 * Reads the config file of `dir`; undefined when there is none (pulls go without credentials).
 * Throws {@link DockerConfigError} when it cannot be read or understood.
 */
export async function readDockerConfig(dir: string): Promise<DockerConfig | undefined> {
  const path = configPath(dir);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new DockerConfigError(
      `Cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseDockerConfig(text, path);
}

/** The lookup an agent uses: the config of `dir`, read again at every pull. */
export function dockerConfigCredentials(dir: string): CredentialLookup {
  return async (image) => {
    const config = await readDockerConfig(dir);
    return config === undefined ? {} : credentialsFor(config, image);
  };
}
