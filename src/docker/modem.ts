/** docker-modem's side of the adapter: where the engine is, and its errors in our terms. */
import type Modem from "docker-modem";
import type { IncomingMessage } from "node:http";
import { textLines } from "../ndjson.ts";
import { DockerError } from "./errors.ts";

/** Connection errors that mean the engine is not there (as opposed to answering badly). */
const UNREACHABLE = new Set([
  "ENOENT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EACCES",
]);

/** docker-modem options for a Docker host string; set explicitly so `DOCKER_HOST` cannot win. */
export function modemOptions(dockerHost: string): Modem.ConstructorOptions {
  if (dockerHost.startsWith("/")) {
    return { socketPath: dockerHost, host: undefined, protocol: "http" };
  }
  let url: URL;
  try {
    url = new URL(dockerHost);
  } catch {
    throw unsupportedHost(dockerHost);
  }
  if (url.protocol === "unix:" && url.pathname !== "") {
    return { socketPath: decodeURIComponent(url.pathname), host: undefined, protocol: "http" };
  }
  if ((url.protocol === "tcp:" || url.protocol === "http:") && url.hostname !== "") {
    return {
      socketPath: undefined,
      host: url.hostname,
      port: url.port === "" ? 2375 : Number(url.port),
      protocol: "http",
    };
  }
  throw unsupportedHost(dockerHost);
}

function unsupportedHost(dockerHost: string): DockerError {
  return new DockerError(
    "engine_unreachable",
    `Unsupported Docker host "${dockerHost}": use unix:///path, a socket path or tcp://host:port`,
  );
}

/** The engine's own message from a docker-modem error, with a code that says what went wrong. */
export function toDockerError(error: unknown, dockerHost: string): DockerError {
  if (error instanceof DockerError) return error;
  if (!(error instanceof Error)) return new DockerError("engine_error", String(error));
  const { statusCode, json, code } = error as Error & {
    statusCode?: unknown;
    json?: unknown;
    code?: unknown;
  };
  if (typeof statusCode === "number") {
    const message = engineMessage(json) ?? modemCause(error.message);
    const kind = statusCode === 404
      ? "not_found"
      : statusCode === 409
      ? "conflict"
      : "engine_error";
    return new DockerError(kind, message, statusCode);
  }
  if (typeof code === "string" && UNREACHABLE.has(code)) {
    return new DockerError(
      "engine_unreachable",
      `Cannot reach the Docker engine at ${dockerHost}: ${error.message}`,
    );
  }
  return new DockerError("engine_error", error.message);
}

function engineMessage(json: unknown): string | undefined {
  if (typeof json === "object" && json !== null && "message" in json) {
    const { message } = json;
    if (typeof message === "string") return message;
  }
  return undefined;
}

/** Stream errors carry the engine's text only inside docker-modem's own wording. */
function modemCause(message: string): string {
  const match = /^\(HTTP code \d+\) .*? - ([\s\S]*?) ?$/.exec(message);
  return match ? match[1] : message;
}

/** Newline-delimited JSON values from a response body (pull progress, events). */
export async function* jsonLines(res: IncomingMessage): AsyncGenerator<unknown, void, undefined> {
  for await (const line of textLines(res as AsyncIterable<Uint8Array>)) {
    try {
      yield JSON.parse(line);
    } catch {
      throw new DockerError("engine_error", `Unexpected line from the Docker engine: ${line}`);
    }
  }
}
