/**
 * The agent's side of `launcher logs`. The agent long-polls the server for log requests for its
 * host and answers each with an upload it opens itself: a streaming request body of NDJSON lines
 * read from the engine. The server answers the upload once it needs no more (the client left),
 * and the agent then closes the engine's stream at once. A followed container that stops is
 * watched until it runs again and read on from just after the last line sent (docker/compose#1115).
 */
import type { LogLine, LogRequest } from "../api/schemas.ts";
import type { LauncherClient } from "../client/client.ts";
import { ApiError } from "../client/errors.ts";
import type { ContainerDetails, Engine, LogStreamName } from "../docker/engine.ts";
import { errorMessage, LauncherError } from "../errors.ts";
import { Backoff } from "./backoff.ts";
import { type Clock, systemClock } from "../clock.ts";
import { DEFAULT_ENGINE_TIMEOUT_MS, withDeadline } from "./deadline.ts";
import { engineName } from "./labels.ts";
import { nanoseconds } from "../log_time.ts";

/** What the log side of an agent needs. */
export interface AgentLogsOptions {
  client: Pick<LauncherClient, "logRequests" | "uploadLogs">;
  engine: Engine;
  host: string;
  /** How long one poll for log requests may be held by the server (default 30 s). */
  waitMs?: number;
  /** The clock the agent's waits go through (default the system's). */
  clock?: Clock;
  /** The deadline of an engine call that is not a stream (default 30 s). */
  engineTimeoutMs?: number;
  /** How often a stopped, followed container is looked at (default 250 ms). */
  restartPollMs?: number;
  log: (line: string) => void;
}

const READY_LINE = `${JSON.stringify({ ready: true })}\n`;
/** How often an agent asks a server that hands out no log requests (an older one) again. */
const UNSUPPORTED_RETRY_MS = 60_000;

function errorLine(code: string, message: string): string {
  return `${JSON.stringify({ error: { code, message } })}\n`;
}

/** Serves the log requests of one host. */
export class AgentLogs {
  #open = 0;

  constructor(private readonly opts: AgentLogsOptions) {}

  /** How many engine log streams are open right now. */
  get openStreams(): number {
    return this.#open;
  }

  /** Polls for log requests until `signal` aborts; every request is served on its own. */
  async run(signal: AbortSignal): Promise<void> {
    const { client, host, log } = this.opts;
    const backoff = new Backoff(250, 5000);
    let unsupported = false;
    while (!signal.aborted) {
      try {
        const batch = await client.logRequests(host, this.opts.waitMs ?? 30_000, signal);
        backoff.reset();
        unsupported = false;
        // A request asked on another server of the store goes back there (its `origin`).
        for (const request of batch.requests) {
          void this.#serve(request.origin ?? batch.server, request, signal);
        }
      } catch (error) {
        if (signal.aborted) break;
        // The pull loop already says when the server is unreachable; this says what only logs
        // lack.
        const missing = error instanceof ApiError && error.status === 404;
        if (missing && !unsupported) {
          log(`the server hands out no log requests (older than this agent?): ${error.message}`);
        }
        unsupported = missing;
        await (this.opts.clock ?? systemClock).sleep(
          missing ? UNSUPPORTED_RETRY_MS : backoff.next(),
          signal,
        );
      }
    }
  }

  /**
   * Uploads one request's lines to `server`, which holds its client (the one that handed it out,
   * or the one it was asked on), until the server answers or the agent stops.
   */
  async #serve(server: string, request: LogRequest, parent: AbortSignal): Promise<void> {
    const { client, host, log } = this.opts;
    const controller = new AbortController();
    const stop = () => controller.abort();
    parent.addEventListener("abort", stop, { once: true });
    const lines = this.#lines(request, controller.signal);
    const encoder = new TextEncoder();
    let ended = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        try {
          const next = await lines.next();
          if (!next.done) return c.enqueue(encoder.encode(next.value));
        } catch (error) {
          if (!controller.signal.aborted) {
            c.enqueue(encoder.encode(errorLine(codeOf(error), errorMessage(error))));
          }
        }
        ended = true;
        c.close();
      },
      cancel() {
        controller.abort();
      },
    });
    let outcome = "";
    try {
      await client.uploadLogs(server, host, request.id, body, controller.signal);
      outcome = ended ? "the output ended" : "the client left";
    } catch (error) {
      if (!controller.signal.aborted) outcome = `the upload failed: ${errorMessage(error)}`;
      else outcome = "the agent is stopping";
    } finally {
      controller.abort();
      parent.removeEventListener("abort", stop);
      // Waits for the engine's stream to be closed, so the count below is true.
      await lines.return(undefined).catch(() => {});
    }
    const what = `${request.manifest}/${request.container}`;
    log(`closed the log stream of ${what} (${outcome}); ${this.#open} open`);
  }

  /**
   * The upload's lines: ready (or an error when the engine has no such container), then the
   * output. With `follow`, a container that stops is waited for and read on after it restarts.
   */
  async *#lines(request: LogRequest, signal: AbortSignal): AsyncGenerator<string, void, undefined> {
    const { engine, host } = this.opts;
    const name = engineName(request.manifest, request.container);
    let current = await this.#inspect(name);
    if (current === null) {
      yield errorLine(
        "not_found",
        `container ${request.container} of manifest ${request.manifest} is not on the engine of ` +
          host,
      );
      return;
    }
    yield READY_LINE;
    const decoders: Record<LogStreamName, TextDecoder> = {
      stdout: new TextDecoder(),
      stderr: new TextDecoder(),
    };
    // Lines before the first attach were either sent or left out on purpose (tail, since).
    const firstAttach = BigInt(Date.now()) * 1_000_000n;
    let since = request.since === undefined ? undefined : request.since.toFixed(3);
    let tail = request.tail;
    let last: bigint | undefined;
    while (!signal.aborted) {
      this.#open++;
      // A re-attach must not repeat what was sent. Within one stream nothing is skipped: the parts
      // of a long line share their timestamp.
      const sent = last;
      try {
        const options = { follow: request.follow, timestamps: true, tail, since };
        for await (const chunk of engine.logs(current.id, options, signal)) {
          const at = chunk.time === undefined ? undefined : nanoseconds(chunk.time);
          if (at !== undefined && sent !== undefined && at <= sent) continue;
          if (at !== undefined) last = at;
          const line: LogLine = {
            stream: chunk.stream,
            data: decoders[chunk.stream].decode(chunk.data, { stream: true }),
          };
          if (request.timestamps && chunk.time !== undefined) line.time = chunk.time;
          yield `${JSON.stringify(line)}\n`;
        }
      } catch (error) {
        // A container removed under a follow may come back (recreated): wait for it below. (The
        // engine's errors are matched by code: the Docker adapter is loaded lazily.)
        if (!(request.follow && error instanceof LauncherError && error.code === "not_found")) {
          throw error;
        }
      } finally {
        this.#open--;
      }
      if (!request.follow || signal.aborted) return;
      const next = await this.#nextRun(name, signal);
      if (next === undefined) return;
      current = next;
      since = unixSeconds((last ?? firstAttach) + 1n);
      tail = undefined;
    }
  }

  /** One container by name, under the engine call deadline. */
  #inspect(name: string): Promise<ContainerDetails | null> {
    const { clock = systemClock, engine, engineTimeoutMs = DEFAULT_ENGINE_TIMEOUT_MS } = this.opts;
    return withDeadline(clock, engineTimeoutMs, "inspect", (s) => engine.inspectContainer(name, s));
  }

  /** Waits until the container runs again; undefined when `signal` aborts first. */
  async #nextRun(name: string, signal: AbortSignal): Promise<ContainerDetails | undefined> {
    while (!signal.aborted) {
      await (this.opts.clock ?? systemClock).sleep(this.opts.restartPollMs ?? 250, signal);
      if (signal.aborted) return undefined;
      const details = await this.#inspect(name).catch(() => null);
      if (details?.state.running) return details;
    }
    return undefined;
  }
}

/** Nanoseconds since the epoch as the engine's `since` takes them: `seconds.nanoseconds`. */
export function unixSeconds(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  return `${seconds}.${String(ns - seconds * 1_000_000_000n).padStart(9, "0")}`;
}

function codeOf(error: unknown): string {
  return error instanceof LauncherError ? error.code : "engine_error";
}
