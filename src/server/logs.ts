/**
 * The log relay. The server never connects to a host: a client's log request waits here until the
 * agent of the container's host takes it with its own long-poll (`GET /agent/logs/requests`),
 * then the agent uploads the engine's output as a streaming request body
 * (`POST /agent/logs/{id}`), which is piped to the client's answer as it arrives. When the client
 * leaves, the upload is answered at once, which tells the agent to close the engine's stream.
 */
import * as v from "valibot";
import { type LogRequest, LogUploadStartSchema } from "../api/schemas.ts";
import {
  AgentError,
  AgentTimeoutError,
  HostOfflineError,
  NotFoundError,
  OverloadedError,
  ShuttingDownError,
} from "../api/errors.ts";
import type { HostRegistry } from "./hosts.ts";
import type { Store } from "./store/store.ts";

/** Limits and timings of a relay. */
export interface LogRelayOptions {
  /** How long a request waits for its agent to take it and start sending (default 10 s). */
  pickupMs?: number;
  /** How many log requests may be open at once (default 1000). */
  maxSessions?: number;
  /** How many agent polls may be held at once (default 10000). */
  maxPolls?: number;
  /** How often a followed container is checked for still being known (default 1 s). */
  checkMs?: number;
  /** How long after its last poll ended an agent still counts as connected (default 1 s). */
  graceMs?: number;
}

/** What a client asks the relay for. */
export interface LogOpenRequest {
  host: string;
  request: Omit<LogRequest, "id">;
  /** Whether the container is still known; a followed stream ends once it is not. */
  exists: () => boolean;
  /** The client's request signal: it leaving ends everything. */
  signal: AbortSignal;
}

/** One client's log request, from queued to piped. */
interface Session {
  id: string;
  host: string;
  request: LogRequest;
  exists: () => boolean;
  attached: boolean;
  timer?: ReturnType<typeof setTimeout>;
  /** Hands the stream to the client (until then the client waits for headers). */
  resolve: (stream: ReadableStream<Uint8Array>) => void;
  /** Answers the client with an error (only before `resolve`). */
  fail: (error: Error) => void;
  /** Ends a piped session, optionally with a last line for the client. */
  end?: (last?: Uint8Array) => void;
  /** Stops listening to the client's signal. */
  release: () => void;
  /** Stops reading the agent's upload, once it has attached. */
  detach?: () => void;
}

const NEWLINE = new Uint8Array([10]);
/** The longest first line an agent may send (its ready or error line). */
const MAX_FIRST_LINE = 64 * 1024;

/** An error line of `GET /logs`. */
export function logErrorLine(code: string, message: string): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify({ error: { code, message } })}\n`);
}

/** Hands log requests to agents and pipes their uploads to the clients that asked. */
export class LogRelay {
  readonly #pickupMs: number;
  readonly #maxSessions: number;
  readonly #maxPolls: number;
  readonly #checkMs: number;
  readonly #graceMs: number;
  readonly #queued = new Map<string, Session[]>();
  readonly #polls = new Map<string, Set<(take: boolean) => void>>();
  readonly #pollEnded = new Map<string, number>();
  readonly #sessions = new Map<string, Session>();
  #heldPolls = 0;
  #closed = false;

  constructor(options: LogRelayOptions = {}) {
    this.#pickupMs = options.pickupMs ?? 10_000;
    this.#maxSessions = options.maxSessions ?? 1000;
    this.#maxPolls = options.maxPolls ?? 10_000;
    this.#checkMs = options.checkMs ?? 1000;
    this.#graceMs = options.graceMs ?? 1000;
  }

  /** How many log requests are open (queued, handed out, or piping). */
  get openSessions(): number {
    return this.#sessions.size;
  }

  /** Whether the relay was closed (the server is shutting down). */
  get closed(): boolean {
    return this.#closed;
  }

  /** How many agent polls are held right now. */
  get heldPolls(): number {
    return this.#heldPolls;
  }

  /** Whether the host's agent is holding a poll, or ended one within the grace period. */
  connected(host: string): boolean {
    if ((this.#polls.get(host)?.size ?? 0) > 0) return true;
    const ended = this.#pollEnded.get(host);
    return ended !== undefined && Date.now() - ended < this.#graceMs;
  }

  /**
   * An agent's poll: the host's queued requests at once, or the first ones queued within
   * `waitMs`, or none when the wait runs out, the agent leaves or the relay closes.
   */
  poll(host: string, waitMs: number, signal: AbortSignal): Promise<LogRequest[]> {
    const ready = this.#closed || signal.aborted ? [] : this.#take(host, signal);
    if (ready.length > 0 || waitMs <= 0 || this.#closed || signal.aborted) {
      this.#pollEnded.set(host, Date.now());
      return Promise.resolve(ready);
    }
    if (this.#heldPolls >= this.#maxPolls) {
      return Promise.reject(new OverloadedError(this.#maxPolls));
    }
    return new Promise((resolve) => {
      let set = this.#polls.get(host);
      if (set === undefined) {
        set = new Set();
        this.#polls.set(host, set);
      }
      const polls = set;
      // A poll whose agent left takes nothing: its answer would be lost.
      const wake = (take: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        if (!polls.delete(wake)) return;
        this.#heldPolls--;
        if (polls.size === 0 && this.#polls.get(host) === polls) this.#polls.delete(host);
        if (take) this.#pollEnded.set(host, Date.now());
        resolve(take && !this.#closed ? this.#take(host, signal) : []);
      };
      const onAbort = () => {
        wake(false);
        if (this.#polls.has(host)) return;
        // The agent is gone: it is not about to poll again, and nobody takes what waits for it.
        this.#pollEnded.delete(host);
        for (const session of this.#queued.get(host) ?? []) {
          session.fail(new HostOfflineError(`the agent of host ${host} disconnected`));
        }
      };
      const timer = setTimeout(() => wake(true), waitMs);
      signal.addEventListener("abort", onAbort, { once: true });
      polls.add(wake);
      this.#heldPolls++;
    });
  }

  /**
   * Queues a request for the host's agent and resolves with the NDJSON stream once the agent
   * starts sending. Rejects with the agent's own error (`NotFoundError` when its engine does not
   * have the container), `AgentTimeoutError` when no agent takes it in time, or when the client
   * leaves first.
   */
  open(o: LogOpenRequest): Promise<ReadableStream<Uint8Array>> {
    if (this.#closed) return Promise.reject(new ShuttingDownError());
    if (this.#sessions.size >= this.#maxSessions) {
      return Promise.reject(new OverloadedError(this.#maxSessions));
    }
    return new Promise((resolve, reject) => {
      const id = crypto.randomUUID();
      const onAbort = () => {
        if (session.end) session.end();
        else session.fail(new Error("the client left"));
      };
      const session: Session = {
        id,
        host: o.host,
        request: { id, ...o.request },
        exists: o.exists,
        attached: false,
        resolve,
        fail: (error) => {
          this.#drop(session);
          reject(error);
        },
        release: () => o.signal.removeEventListener("abort", onAbort),
      };
      session.timer = setTimeout(() => {
        session.fail(
          new AgentTimeoutError(
            `the agent of ${o.host} did not start sending logs within ` +
              `${Math.round(this.#pickupMs / 1000)}s`,
          ),
        );
      }, this.#pickupMs);
      o.signal.addEventListener("abort", onAbort, { once: true });
      this.#sessions.set(id, session);
      const queue = this.#queued.get(o.host) ?? [];
      queue.push(session);
      this.#queued.set(o.host, queue);
      for (const wake of [...this.#polls.get(o.host) ?? []]) wake(true);
      if (o.signal.aborted) onAbort();
    });
  }

  /**
   * Takes an agent's upload for request `id` of `host` and pipes it to the client; resolves when
   * the session ends (the upload ended, the client left, the container was forgotten, or the
   * relay closed). Throws `NotFoundError` for a request that is not waiting for this host.
   */
  async attach(
    host: string,
    id: string,
    body: ReadableStream<Uint8Array> | null,
    signal: AbortSignal,
  ): Promise<void> {
    const session = this.#sessions.get(id);
    if (session === undefined || session.host !== host || session.attached) {
      throw new NotFoundError(`log request ${id} is not waiting for host ${host}`);
    }
    session.attached = true;
    if (body === null) {
      session.fail(new AgentError(`the agent of ${host} sent no logs`));
      return;
    }
    const reader = body.getReader();
    // Until its first line, the pickup timer still runs: an agent that attaches and says nothing
    // is cut off with it.
    session.detach = () => void reader.cancel().catch(() => {});
    let first: { line: string; rest: Uint8Array };
    try {
      first = await readFirstLine(reader);
      clearTimeout(session.timer);
    } catch (error) {
      reader.cancel().catch(() => {});
      session.fail(new AgentError(`the agent of ${host} sent no logs: ${message(error)}`));
      return;
    }
    if (!this.#sessions.has(id)) {
      // The client left while the agent was starting.
      await reader.cancel().catch(() => {});
      return;
    }
    const start = parseStart(first.line);
    if (start === undefined) {
      await reader.cancel().catch(() => {});
      session.fail(new AgentError(`the agent of ${host} sent an unreadable first line`));
      return;
    }
    if ("error" in start) {
      await reader.cancel().catch(() => {});
      const { code, message } = start.error;
      session.fail(code === "not_found" ? new NotFoundError(message) : new AgentError(message));
      return;
    }
    await this.#pipe(session, reader, first.rest, signal);
  }

  /** Answers every held poll and open request: the server is shutting down. */
  close(): void {
    this.#closed = true;
    for (const polls of [...this.#polls.values()]) {
      for (const wake of [...polls]) wake(false);
    }
    for (const session of [...this.#sessions.values()]) {
      if (session.end) session.end(logErrorLine("shutting_down", "the server is shutting down"));
      else session.fail(new ShuttingDownError());
    }
  }

  /** Pipes an upload to a new client stream; resolves when the session ends. */
  #pipe(
    session: Session,
    reader: ReadableStreamDefaultReader<Uint8Array>,
    head: Uint8Array,
    signal: AbortSignal,
  ): Promise<void> {
    const host = session.host;
    return new Promise((done) => {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      let ended = false;
      let atLineStart = true;
      const forward = (chunk: Uint8Array) => {
        if (chunk.length === 0) return;
        atLineStart = chunk[chunk.length - 1] === 10;
        controller.enqueue(chunk);
      };
      const end = (last?: Uint8Array) => {
        if (ended) return;
        ended = true;
        clearInterval(check);
        signal.removeEventListener("abort", onAgentLeft);
        try {
          if (!atLineStart) controller.enqueue(NEWLINE);
          if (last) controller.enqueue(last);
          controller.close();
        } catch {
          // The client already cancelled its stream.
        }
        reader.cancel().catch(() => {});
        this.#drop(session);
        done();
      };
      const agentLost = () =>
        logErrorLine("agent_lost", `the agent of ${host} stopped sending logs`);
      const onAgentLeft = () => end(agentLost());
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          controller = c;
          forward(head);
        },
        async pull() {
          try {
            const { value, done: finished } = await reader.read();
            if (ended) return;
            if (finished) end();
            else forward(value);
          } catch {
            end(agentLost());
          }
        },
        cancel() {
          end();
        },
      });
      const check = session.request.follow
        ? setInterval(() => {
          if (!session.exists()) end();
        }, this.#checkMs)
        : undefined;
      session.end = end;
      signal.addEventListener("abort", onAgentLeft, { once: true });
      session.resolve(stream);
      if (signal.aborted) onAgentLeft();
    });
  }

  /**
   * The host's queued requests, now handed to its agent. Should the agent's connection break
   * before the answer is out (`signal` fires only then), they are failed at once rather than
   * left to time out.
   */
  #take(host: string, signal: AbortSignal): LogRequest[] {
    const taken = this.#queued.get(host) ?? [];
    this.#queued.delete(host);
    if (taken.length > 0) {
      signal.addEventListener("abort", () => {
        for (const session of taken) {
          if (this.#sessions.get(session.id) !== session || session.attached) continue;
          session.fail(new HostOfflineError(`the agent of host ${host} disconnected`));
        }
      }, { once: true });
    }
    return taken.map((session) => session.request);
  }

  /** Forgets a session: its timer, its place in the queue, its client's signal. */
  #drop(session: Session): void {
    clearTimeout(session.timer);
    session.release();
    session.detach?.();
    this.#sessions.delete(session.id);
    const queue = this.#queued.get(session.host);
    if (queue === undefined) return;
    const rest = queue.filter((s) => s !== session);
    if (rest.length > 0) this.#queued.set(session.host, rest);
    else this.#queued.delete(session.host);
  }
}

/** What `GET /logs` asks for. */
export interface LogQuery {
  manifest: string;
  container: string;
  follow: boolean;
  timestamps: boolean;
  tail?: number;
  /** Unix seconds. */
  since?: number;
}

/** What opening a container's logs needs from the server. */
export interface LogDeps {
  store: Store;
  hosts: HostRegistry;
  relay: LogRelay;
}

/**
 * Opens a container's logs through its host's agent. Throws `NotFoundError` for an unknown
 * manifest or container and `HostOfflineError` at once when the host's agent is not connected.
 */
export function openContainerLogs(
  deps: LogDeps,
  query: LogQuery,
  signal: AbortSignal,
): Promise<ReadableStream<Uint8Array>> {
  const { store, hosts, relay } = deps;
  if (relay.closed) throw new ShuttingDownError();
  const { manifest, container } = query;
  const row = store.container(manifest, container);
  if (row === undefined) {
    throw new NotFoundError(
      store.hasManifest(manifest)
        ? `container ${container} not found in manifest ${manifest}`
        : `manifest ${manifest} not found`,
    );
  }
  const host = row.host;
  if (!hosts.isOnline(host)) {
    const seen = hosts.lastSeen(host);
    throw new HostOfflineError(
      seen === undefined
        ? `host ${host} is offline: no agent has connected for it`
        : `host ${host} is offline (last seen ${ago(hosts.now() - seen)} ago): its agent ` +
          "cannot send logs",
    );
  }
  if (!relay.connected(host)) {
    throw new HostOfflineError(
      `the agent of host ${host} is not taking log requests (not connected, or older than the ` +
        "server)",
    );
  }
  const { tail, since, follow, timestamps } = query;
  return relay.open({
    host,
    request: {
      manifest,
      container,
      follow,
      timestamps,
      ...(tail === undefined ? {} : { tail }),
      ...(since === undefined ? {} : { since }),
    },
    exists: () => store.container(manifest, container) !== undefined,
    signal,
  });
}

/** Reads up to the first newline; the bytes after it are returned as they came. */
async function readFirstLine(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<{ line: string; rest: Uint8Array }> {
  let buffer = new Uint8Array(0);
  while (true) {
    const newline = buffer.indexOf(10);
    if (newline !== -1) {
      return {
        line: new TextDecoder().decode(buffer.subarray(0, newline)),
        rest: buffer.slice(newline + 1),
      };
    }
    if (buffer.length > MAX_FIRST_LINE) throw new Error("its first line is too long");
    const { value, done } = await reader.read();
    if (done) throw new Error("the upload ended before its first line");
    const grown = new Uint8Array(buffer.length + value.length);
    grown.set(buffer);
    grown.set(value, buffer.length);
    buffer = grown;
  }
}

function parseStart(line: string): v.InferOutput<typeof LogUploadStartSchema> | undefined {
  try {
    const parsed = v.safeParse(LogUploadStartSchema, JSON.parse(line));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}

/** A time span as `45s`, `3m`, `2h` or `5d`. */
function ago(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
