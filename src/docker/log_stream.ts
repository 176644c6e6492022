/**
 * The engine's log stream format. Without a TTY the engine multiplexes stdout and stderr into
 * frames, each behind an 8-byte header (stream type, three zero bytes, payload size as a 32-bit
 * big-endian number), one frame per log message. With a TTY it sends raw bytes, all stdout.
 * With timestamps, every message starts with its RFC 3339 time and a space.
 */

/** Which stream a piece of output came from. */
export type LogStreamName = "stdout" | "stderr";

/** One log message (or, from a TTY, one line) as the engine sent it. */
export interface LogChunk {
  stream: LogStreamName;
  data: Uint8Array;
  /** The engine's time of the message (RFC 3339, nanoseconds), when timestamps were asked. */
  time?: string;
}

const HEADER_BYTES = 8;
/** Stream types of a frame header: 0 is stdin (echoed for some TTY-less attaches), 1, 2. */
const STREAMS: Record<number, LogStreamName> = { 0: "stdout", 1: "stdout", 2: "stderr" };
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;
/** The longest timestamp prefix looked for (with nanoseconds and an offset). */
const MAX_TIMESTAMP_BYTES = 35;

/** Splits a multiplexed stream into frames; feed it chunks as they arrive. */
export class FrameDecoder {
  #buffer: Uint8Array = new Uint8Array(0);

  /** The whole frames completed by `chunk`; a partial frame waits for the next chunk. */
  push(chunk: Uint8Array): { stream: LogStreamName; payload: Uint8Array }[] {
    this.#buffer = concat(this.#buffer, chunk);
    const frames: { stream: LogStreamName; payload: Uint8Array }[] = [];
    let offset = 0;
    while (this.#buffer.length - offset >= HEADER_BYTES) {
      const view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset + offset);
      const size = view.getUint32(4);
      if (this.#buffer.length - offset - HEADER_BYTES < size) break;
      const start = offset + HEADER_BYTES;
      frames.push({
        stream: STREAMS[this.#buffer[offset]] ?? "stdout",
        payload: this.#buffer.slice(start, start + size),
      });
      offset = start + size;
    }
    this.#buffer = this.#buffer.slice(offset);
    return frames;
  }

  /** How many bytes wait for the rest of their frame. */
  get pending(): number {
    return this.#buffer.length;
  }
}

/** Splits a raw (TTY) stream into lines, each with its newline; feed it chunks as they arrive. */
export class LineDecoder {
  #buffer: Uint8Array = new Uint8Array(0);

  /** The whole lines completed by `chunk`. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#buffer = concat(this.#buffer, chunk);
    const lines: Uint8Array[] = [];
    let start = 0;
    let newline: number;
    while ((newline = this.#buffer.indexOf(10, start)) !== -1) {
      lines.push(this.#buffer.slice(start, newline + 1));
      start = newline + 1;
    }
    this.#buffer = this.#buffer.slice(start);
    return lines;
  }

  /** The last line when the stream ended without a newline. */
  flush(): Uint8Array | undefined {
    const rest = this.#buffer;
    this.#buffer = new Uint8Array(0);
    return rest.length > 0 ? rest : undefined;
  }
}

/** Splits a message's leading `TIME ` off; a message without one is returned whole. */
export function splitTimestamp(message: Uint8Array): { time?: string; data: Uint8Array } {
  const space = message.subarray(0, MAX_TIMESTAMP_BYTES + 1).indexOf(32);
  if (space === -1) return { data: message };
  const time = new TextDecoder().decode(message.subarray(0, space));
  return TIMESTAMP.test(time) ? { time, data: message.subarray(space + 1) } : { data: message };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
