/**
 * A container's log output (the NDJSON lines of `GET /logs`) cut into whole lines per stream, in
 * batches as they arrive: what the container page's viewer appends.
 */
import { LauncherError } from "../../../errors.ts";

/** One line of output: its stream and its text, without the newline. */
export type OutputLine = ["stdout" | "stderr", string];

/** What the reader hands on: a batch of lines, or the error that ended the output. */
export type LogBatch = { lines: OutputLine[] } | { error: string };

/** The most lines one batch holds: the viewer appends a batch at once. */
const MAX_BATCH = 1000;

/** The log frames of `GET /logs`: a piece of output, or an error that ends it. */
interface Frame {
  stream?: string;
  data?: string;
  error?: { message?: string };
}

/**
 * Reads NDJSON log frames and yields whole lines in batches, keeping a partial line of each stream
 * until its end arrives (or the output ends). `only` keeps one stream.
 */
export async function* logBatches(
  body: ReadableStream<Uint8Array>,
  only?: "stdout" | "stderr",
): AsyncGenerator<LogBatch> {
  const partial = { stdout: "", stderr: "" };
  let pending = "";
  for await (const text of body.pipeThrough(new TextDecoderStream())) {
    pending += text;
    const frames = pending.split("\n");
    pending = frames.pop() ?? "";
    let lines: OutputLine[] = [];
    for (const frameText of frames) {
      if (frameText.trim() === "") continue;
      const frame = JSON.parse(frameText) as Frame;
      if (frame.error !== undefined) {
        if (lines.length > 0) yield { lines };
        yield { error: frame.error.message ?? "the log stream failed" };
        return;
      }
      const stream = frame.stream === "stderr" ? "stderr" : "stdout";
      const pieces = (partial[stream] + (frame.data ?? "")).split("\n");
      partial[stream] = pieces.pop() ?? "";
      if (only !== undefined && stream !== only) continue;
      for (const piece of pieces) {
        lines.push([stream, piece.endsWith("\r") ? piece.slice(0, -1) : piece]);
        if (lines.length >= MAX_BATCH) {
          yield { lines };
          lines = [];
        }
      }
    }
    if (lines.length > 0) yield { lines };
  }
  const rest: OutputLine[] = [];
  for (const stream of ["stdout", "stderr"] as const) {
    if (partial[stream] !== "" && (only === undefined || only === stream)) {
      rest.push([stream, partial[stream]]);
    }
  }
  if (rest.length > 0) yield { lines: rest };
}

/** What an error that ended a log request says, for the viewer. */
export function logProblem(error: unknown): string {
  return error instanceof LauncherError ? error.message : "the log stream failed";
}
