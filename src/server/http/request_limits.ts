/**
 * Limits on reading a request, for clients that send too much or too slowly: the size of its
 * headers and query string, and the size of its body and the time it may take to arrive.
 * Deno.serve has no knob for these (docs/operations.md, "Limits and timeouts"), so they are
 * middleware. They bound reading a request only: a response held (long-poll) or streamed is not
 * timed here.
 */
import type { MiddlewareHandler } from "hono";
import {
  HeadersTooLargeError,
  PayloadTooLargeError,
  RequestTimeoutError,
  UriTooLongError,
} from "../../api/errors.ts";
import type { AppEnv } from "./env.ts";

/**
 * The most header bytes a request may send (names, values, `: ` and line ends; 16 KiB). A token
 * header is under 100 bytes. Past about 64 KiB for the whole request head, Deno.serve itself
 * answers a bare `400` and closes before this check can run.
 */
export const MAX_HEADER_BYTES = 16 * 1024;
/** The longest query string a request may send, in bytes as sent (8 KiB). */
export const MAX_QUERY_BYTES = 8 * 1024;
/** How long a request body may take to arrive, by default (30 s, from the end of its headers). */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** The bytes a request's headers take on the wire (HTTP/1.1: `name: value\r\n` each). */
function headerBytes(headers: Headers): number {
  let size = 0;
  for (const [name, value] of headers) size += name.length + value.length + 4;
  return size;
}

/** Answers 431 `headers_too_large` and 414 `uri_too_long` before anything reads the request. */
export function limitRequestHead(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const url = c.req.url;
    const mark = url.indexOf("?");
    const query = mark === -1 ? 0 : url.length - mark - 1;
    if (query > MAX_QUERY_BYTES) throw new UriTooLongError(query, MAX_QUERY_BYTES);
    const size = headerBytes(c.req.raw.headers);
    if (size > MAX_HEADER_BYTES) throw new HeadersTooLargeError(size, MAX_HEADER_BYTES);
    await next();
  };
}

/**
 * Reads a whole stream within one deadline and a size cap: rejects with `RequestTimeoutError` when
 * the deadline passes first (a client that announced more than it sends), and with
 * `PayloadTooLargeError` past `maxBytes`.
 */
async function readWithin(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  timeoutMs: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RequestTimeoutError(timeoutMs)), timeoutMs);
  });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), expired]);
      if (done) break;
      size += value.length;
      if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);
      chunks.push(value);
    }
  } catch (error) {
    // The stalled read settles when the connection closes, after the answer.
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/** How `readRequestBody` bounds a body. */
export interface BodyLimits {
  maxBytes: number;
  /** The whole body must arrive within this long of the middleware's start. */
  timeoutMs: number;
}

/**
 * Reads a request's body in full before its route runs: 413 `payload_too_large` past
 * `maxBytes` (at once when `Content-Length` says so), 408 `request_timeout` when the whole body
 * has not arrived within `timeoutMs`. The route then reads the buffered copy.
 */
export function readRequestBody(limits: BodyLimits): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (body === null) return await next();
    const length = c.req.header("content-length");
    if (
      length !== undefined && c.req.header("transfer-encoding") === undefined &&
      Number(length) > limits.maxBytes
    ) {
      throw new PayloadTooLargeError(limits.maxBytes);
    }
    const bytes = await readWithin(body, limits.maxBytes, limits.timeoutMs);
    c.req.raw = new Request(c.req.raw, { body: bytes });
    await next();
  };
}
