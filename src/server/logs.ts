/**
 * The log relay. The server never connects to a host: a client's log request waits here until the
 * agent of the container's host takes it with its own long-poll (`GET /agent/logs/requests`),
 * then the agent uploads the engine's output as a streaming request body
 * (`POST /agent/logs/{id}`), which is piped to the client's answer as it arrives (log_pipe.ts).
 * When the client leaves, the upload is answered at once, which tells the agent to close the
 * engine's stream.
 *
 * Several servers on one store (`share`): a request for a host whose agent polls another server
 * is published to every server (wakeups.ts `publishLog`) with this server's URL as its `origin`,
 * and again every second until the agent's upload arrives; the server holding the agent's log
 * poll hands it out (`offer`), and the agent uploads to the origin, where it is piped as above.
 */
import type { LogRequest } from "../api/schemas.ts";
import {
  AgentError,
  AgentTimeoutError,
  HostOfflineError,
  NotFoundError,
  OverloadedError,
  ShuttingDownError,
} from "../api/errors.ts";
import { type Clock, systemClock, type TimerHandle } from "../clock.ts";
import { logErrorLine, parseStart, pipeUpload, readFirstLine } from "./log_pipe.ts";
import { Waiters } from "./waiters.ts";
import type { SharedLogRequest } from "./wakeups.ts";
import { errorMessage } from "../errors.ts";

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
  /** The time and timers of polls, pickups and follow checks (default the system clock). */
  clock?: Clock;
  /** How often a request for an agent polling another server is published again (default 1 s). */
  republishMs?: number;
}

/** How a relay reaches the relays of the other servers of its store. */
export interface LogShare {
  /** This server's URL as agents reach it: the uploads of the requests asked here come to it. */
  origin: string;
  /** Tells the other servers about a request asked here. */
  publish(shared: SharedLogRequest): void;
}

/** What a client asks the relay for. */
export interface LogOpenRequest {
  host: string;
  request: Omit<LogRequest, "id">;
  /** Whether the container is still known; a followed stream ends once it is not. */
  exists: () => Promise<boolean>;
  /** The client's request signal: it leaving ends everything. */
  signal: AbortSignal;
}

/** One client's log request, from queued to piped. */
interface Session {
  id: string;
  host: string;
  request: LogRequest;
  exists: () => Promise<boolean>;
  attached: boolean;
  timer?: TimerHandle;
  /** The next publishing to the other servers, while the agent polls another server. */
  republish?: TimerHandle;
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

/** Hands log requests to agents and pipes their uploads to the clients that asked. */
export class LogRelay {
  readonly #pickupMs: number;
  readonly #maxSessions: number;
  readonly #checkMs: number;
  readonly #graceMs: number;
  readonly #clock: Clock;
  readonly #queued = new Map<string, Session[]>();
  /** The agents' held polls, by host. */
  readonly #polls: Waiters<string>;
  readonly #pollEnded = new Map<string, number>();
  readonly #sessions = new Map<string, Session>();
  readonly #republishMs: number;
  #share: LogShare | undefined;
  /** Requests asked on other servers, waiting for this server's poll of their host's agent. */
  readonly #offered = new Map<string, { request: LogRequest; until: number }[]>();
  /** The ids of the requests offered here, until when they are remembered: each is handed out once. */
  readonly #offeredIds = new Map<string, number>();
  #closed = false;

  constructor(options: LogRelayOptions = {}) {
    this.#pickupMs = options.pickupMs ?? 10_000;
    this.#maxSessions = options.maxSessions ?? 1000;
    this.#checkMs = options.checkMs ?? 1000;
    this.#graceMs = options.graceMs ?? 1000;
    this.#clock = options.clock ?? systemClock;
    this.#republishMs = options.republishMs ?? 1000;
    this.#polls = new Waiters({ max: options.maxPolls ?? 10_000, clock: this.#clock });
  }

  /** How many log requests are open (queued, handed out, or piping). */
  get openSessions(): number {
    return this.#sessions.size;
  }

  /** Whether the relay was closed (the server is shutting down). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether requests for agents polling other servers are published to them (`share`). */
  get shared(): boolean {
    return this.#share !== undefined;
  }

  /**
   * Shares the log requests with the other servers of the store: those for an agent not polling
   * here are published to them, with `share.origin` for the upload.
   */
  share(share: LogShare): void {
    this.#share = share;
  }

  /**
   * A request asked on another server (`request.origin`): queued for the host's agent when its
   * log poll is held here, else ignored. Each id is handed out once, however often it comes.
   */
  offer(host: string, request: LogRequest): void {
    if (this.#closed || this.#sessions.has(request.id) || !this.connected(host)) return;
    const now = this.#clock.now();
    for (const [id, until] of this.#offeredIds) if (until <= now) this.#offeredIds.delete(id);
    if (this.#offeredIds.has(request.id)) return;
    const until = now + this.#pickupMs;
    this.#offeredIds.set(request.id, until + this.#pickupMs);
    const offered = this.#offered.get(host) ?? [];
    offered.push({ request, until });
    this.#offered.set(host, offered);
    this.#polls.wake(host);
  }

  /** How many agent polls are held right now. */
  get heldPolls(): number {
    return this.#polls.held;
  }

  /** Whether the host's agent is holding a poll, or ended one within the grace period. */
  connected(host: string): boolean {
    if (this.#polls.count(host) > 0) return true;
    const ended = this.#pollEnded.get(host);
    return ended !== undefined && this.#clock.now() - ended < this.#graceMs;
  }

  /**
   * An agent's poll: the host's queued requests at once, or the first ones queued within
   * `waitMs`, or none when the wait runs out, the agent leaves or the relay closes.
   */
  async poll(host: string, waitMs: number, signal: AbortSignal): Promise<LogRequest[]> {
    const ready = this.#closed || signal.aborted ? [] : this.#take(host, signal);
    if (ready.length > 0 || waitMs <= 0 || this.#closed || signal.aborted) {
      this.#pollEnded.set(host, this.#clock.now());
      return ready;
    }
    const end = await this.#polls.wait(host, waitMs, signal);
    if (end === "closed") return [];
    // A poll whose agent left takes nothing: its answer would be lost.
    if (end === "aborted") {
      this.#agentLeft(host);
      return [];
    }
    this.#pollEnded.set(host, this.#clock.now());
    return this.#closed ? [] : this.#take(host, signal);
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
      const share = this.#share !== undefined && !this.connected(o.host) ? this.#share : undefined;
      const within = `${Math.round(this.#pickupMs / 1000)}s`;
      session.timer = this.#clock.setTimeout(() => {
        session.fail(
          new AgentTimeoutError(
            share === undefined
              ? `the agent of ${o.host} did not start sending logs within ${within}`
              : `no agent of ${o.host} took the log request within ${within}: its agent polls ` +
                "none of the servers of this store for log requests, or cannot reach this " +
                `server at ${share.origin} (see serve --advertise-url)`,
          ),
        );
      }, this.#pickupMs);
      o.signal.addEventListener("abort", onAbort, { once: true });
      this.#sessions.set(id, session);
      const queue = this.#queued.get(o.host) ?? [];
      queue.push(session);
      this.#queued.set(o.host, queue);
      this.#polls.wake(o.host);
      if (share !== undefined) {
        session.request.origin = share.origin;
        this.#publish(share, session);
      }
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
    // Taken: neither handed out again here nor published again.
    this.#clock.clearTimeout(session.republish);
    this.#unqueue(session);
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
      this.#clock.clearTimeout(session.timer);
    } catch (error) {
      reader.cancel().catch(() => {});
      session.fail(new AgentError(`the agent of ${host} sent no logs: ${errorMessage(error)}`));
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
    const pipe = pipeUpload(
      {
        host,
        follow: session.request.follow,
        exists: session.exists,
        resolve: session.resolve,
        ended: () => this.#drop(session),
      },
      reader,
      first.rest,
      signal,
      { clock: this.#clock, checkMs: this.#checkMs },
    );
    session.end = pipe.end;
    await pipe.done;
  }

  /** Answers every held poll and open request: the server is shutting down. */
  close(): void {
    this.#closed = true;
    this.#offered.clear();
    this.#polls.close();
    for (const session of [...this.#sessions.values()]) {
      if (session.end) session.end(logErrorLine("shutting_down", "the server is shutting down"));
      else session.fail(new ShuttingDownError());
    }
  }

  /** An agent hung up its poll: unless another one polls, what waits for it fails at once. */
  #agentLeft(host: string): void {
    if (this.#polls.count(host) > 0) return;
    // The agent is gone: it is not about to poll again, and nobody takes what waits for it.
    this.#pollEnded.delete(host);
    // The origins of the requests offered here time out by themselves (or another server's poll
    // takes them, should the agent poll there now: it will hear them again within a second).
    this.#offered.delete(host);
    for (const session of this.#queued.get(host) ?? []) {
      session.fail(new HostOfflineError(`the agent of host ${host} disconnected`));
    }
  }

  /**
   * The host's queued requests, now handed to its agent. Should the agent's connection break
   * before the answer is out (`signal` fires only then), they are failed at once rather than
   * left to time out.
   */
  #take(host: string, signal: AbortSignal): LogRequest[] {
    const taken = this.#queued.get(host) ?? [];
    this.#queued.delete(host);
    const now = this.#clock.now();
    const offered = (this.#offered.get(host) ?? []).filter((o) => o.until > now);
    this.#offered.delete(host);
    if (taken.length > 0) {
      signal.addEventListener("abort", () => {
        for (const session of taken) {
          if (this.#sessions.get(session.id) !== session || session.attached) continue;
          session.fail(new HostOfflineError(`the agent of host ${host} disconnected`));
        }
      }, { once: true });
    }
    return [...taken.map((session) => session.request), ...offered.map((o) => o.request)];
  }

  /** Publishes a session's request to the other servers now and every second until it is taken. */
  #publish(share: LogShare, session: Session): void {
    if (this.#sessions.get(session.id) !== session || session.attached) return;
    share.publish({ host: session.host, request: session.request });
    session.republish = this.#clock.setTimeout(
      () => this.#publish(share, session),
      this.#republishMs,
    );
  }

  /** Forgets a session: its timers, its place in the queue, its client's signal. */
  #drop(session: Session): void {
    this.#clock.clearTimeout(session.timer);
    this.#clock.clearTimeout(session.republish);
    session.release();
    session.detach?.();
    this.#sessions.delete(session.id);
    this.#unqueue(session);
  }

  /** Takes a session out of its host's queue. */
  #unqueue(session: Session): void {
    const queue = this.#queued.get(session.host);
    if (queue === undefined) return;
    const rest = queue.filter((s) => s !== session);
    if (rest.length > 0) this.#queued.set(session.host, rest);
    else this.#queued.delete(session.host);
  }
}
