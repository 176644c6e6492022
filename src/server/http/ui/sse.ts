/**
 * Server-sent events for the web UI: a response whose body a function writes event by event,
 * ended when the function returns or the browser leaves (which aborts the function's signal).
 */

/**
 * Writes one event (`event` names it; without it, a comment that keeps the connection open). It
 * resolves once the event is queued for a browser that keeps up: a writer that awaits it never
 * piles up more than a few events for a slow or hidden tab. It rejects once the browser left.
 */
export type SendEvent = (event: string | undefined, data: string) => Promise<void>;

/** How many events may wait for the browser before `send` waits (each a batch of lines at most). */
const QUEUED_EVENTS = 16;

/** One event in the wire format: every line of `data` is a `data:` line. */
export function eventText(event: string | undefined, data: string): string {
  if (event === undefined) return `: ${data.replace(/\n/g, " ")}\n\n`;
  return `event: ${event}\n${data.split("\n").map((line) => `data: ${line}`).join("\n")}\n\n`;
}

/**
 * A `text/event-stream` response written by `run`. `run`'s signal aborts when the browser
 * disconnects or `request` is aborted; errors end the stream (the browser sees it close).
 */
export function sseResponse(
  request: AbortSignal,
  run: (send: SendEvent, signal: AbortSignal) => Promise<void>,
): Response {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  request.addEventListener("abort", onAbort, { once: true });
  const stream = new TransformStream<string, string>(
    undefined,
    { highWaterMark: 1 },
    { highWaterMark: QUEUED_EVENTS },
  );
  const writer = stream.writable.getWriter();
  // The browser left: the readable side was cancelled, which errors the writer.
  writer.closed.catch(onAbort);
  const send: SendEvent = async (event, data) => {
    // Rejects once the browser left, so that a writer's loop ends there.
    stop.signal.throwIfAborted();
    await writer.ready;
    await writer.write(eventText(event, data));
  };
  run(send, stop.signal)
    .catch(() => {}) // The stream just ends; the page says so.
    .finally(() => {
      request.removeEventListener("abort", onAbort);
      stop.abort();
      writer.close().catch(() => {}); // Cancelled by the browser already.
    });
  return new Response(stream.readable.pipeThrough(new TextEncoderStream()), {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}
