/**
 * One agent upload piped to its client: the upload's first line decides the client's answer
 * (ready, or the agent's error), then the rest flows through with back-pressure until one side
 * ends. The relay (logs.ts) decides who meets whom; this file moves the bytes.
 */
import * as v from "valibot";
import { LogUploadStartSchema } from "../api/schemas.ts";
import type { Clock, TimerHandle } from "../clock.ts";

const NEWLINE = new Uint8Array([10]);
/** The longest first line an agent may send (its ready or error line). */
const MAX_FIRST_LINE = 64 * 1024;

/** An error line of `GET /logs`. */
export function logErrorLine(code: string, message: string): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify({ error: { code, message } })}\n`);
}

/** The first line of an upload: ready, or the agent's error. */
export type UploadStart = v.InferOutput<typeof LogUploadStartSchema>;

/** Reads up to the first newline; the bytes after it are returned as they came. */
export async function readFirstLine(
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

/** The upload's first line, or undefined when it is neither ready nor an error. */
export function parseStart(line: string): UploadStart | undefined {
  try {
    const parsed = v.safeParse(LogUploadStartSchema, JSON.parse(line));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}

/** What a pipe needs to know about the session it serves. */
export interface PipeTarget {
  host: string;
  follow: boolean;
  /** Whether the container is still known; a followed stream ends once it is not. */
  exists: () => Promise<boolean>;
  /** Hands the stream to the client. */
  resolve: (stream: ReadableStream<Uint8Array>) => void;
  /** Called once when the pipe ends. */
  ended: () => void;
}

/** How a pipe watches a followed container. */
export interface PipeTiming {
  clock: Clock;
  /** How often a followed container is checked for still being known. */
  checkMs: number;
}

/** A running pipe: `done` resolves when it ends; `end` ends it, with a last line for the client. */
export interface Pipe {
  done: Promise<void>;
  end: (last?: Uint8Array) => void;
}

/**
 * Pipes an upload (`head`, then the rest of `reader`) to a new client stream. It ends when the
 * upload ends, the client cancels, the agent's connection breaks (`signal`: an `agent_lost` line
 * for the client), a followed container is forgotten, or `end` is called.
 */
export function pipeUpload(
  target: PipeTarget,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  head: Uint8Array,
  signal: AbortSignal,
  timing: PipeTiming,
): Pipe {
  const { clock, checkMs } = timing;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => finish = resolve);
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  let atLineStart = true;
  let check: TimerHandle | undefined;
  const forward = (chunk: Uint8Array) => {
    if (chunk.length === 0) return;
    atLineStart = chunk[chunk.length - 1] === 10;
    controller.enqueue(chunk);
  };
  const end = (last?: Uint8Array) => {
    if (ended) return;
    ended = true;
    clock.clearTimeout(check);
    signal.removeEventListener("abort", onAgentLeft);
    try {
      if (!atLineStart) controller.enqueue(NEWLINE);
      if (last) controller.enqueue(last);
      controller.close();
    } catch {
      // The client already cancelled its stream.
    }
    reader.cancel().catch(() => {});
    target.ended();
    finish();
  };
  const agentLost = () =>
    logErrorLine("agent_lost", `the agent of ${target.host} stopped sending logs`);
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
  const watch = () => {
    check = clock.setTimeout(async () => {
      if (ended) return;
      // A store that cannot answer (the server is closing) does not end the follow.
      const known = await target.exists().catch(() => true);
      if (ended) return;
      if (known) watch();
      else end();
    }, checkMs);
  };
  if (target.follow) watch();
  signal.addEventListener("abort", onAgentLeft, { once: true });
  target.resolve(stream);
  if (signal.aborted) onAgentLeft();
  return { done, end };
}
