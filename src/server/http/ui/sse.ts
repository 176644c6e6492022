/**
 * Server-sent events for the web UI: a response whose body a function writes event by event,
 * ended when the function returns or the browser leaves (which aborts the function's signal).
 */

/** Writes one event (`event` names it; without it, a comment that keeps the connection open). */
export type SendEvent = (event: string | undefined, data: string) => void;

const encoder = new TextEncoder();

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
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send: SendEvent = (event, data) => {
        if (!stop.signal.aborted) controller.enqueue(encoder.encode(eventText(event, data)));
      };
      run(send, stop.signal)
        .catch(() => {}) // The stream just ends; the page says so.
        .finally(() => {
          request.removeEventListener("abort", onAbort);
          stop.abort();
          try {
            controller.close();
          } catch {
            // The browser cancelled the stream already.
          }
        });
    },
    cancel() {
      stop.abort();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}
