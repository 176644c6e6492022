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

/** Whole lines per stream from log frames, keeping each stream's unfinished line. */
class LineSplitter {
  readonly #partial = { stdout: "", stderr: "" };

  constructor(readonly only?: "stdout" | "stderr") {}

  /** The whole lines one frame completes, or the error it ends the output with. */
  frame(text: string): OutputLine[] | { error: string } {
    const frame = JSON.parse(text) as Frame;
    if (frame.error !== undefined) return { error: frame.error.message ?? "the log stream failed" };
    const stream = frame.stream === "stderr" ? "stderr" : "stdout";
    const pieces = (this.#partial[stream] + (frame.data ?? "")).split("\n");
    this.#partial[stream] = pieces.pop() ?? "";
    if (this.only !== undefined && stream !== this.only) return [];
    return pieces.map((piece) => [stream, piece.endsWith("\r") ? piece.slice(0, -1) : piece]);
  }

  /** The unfinished lines, once the output has ended. */
  rest(): OutputLine[] {
    return (["stdout", "stderr"] as const)
      .filter((stream) => this.#partial[stream] !== "" && (this.only ?? stream) === stream)
      .map((stream) => [stream, this.#partial[stream]]);
  }
}

/**
 * Reads NDJSON log frames and yields whole lines in batches of at most `MAX_BATCH`, keeping a
 * partial line of each stream until its end arrives (or the output ends). `only` keeps one stream.
 */
export async function* logBatches(
  body: ReadableStream<Uint8Array>,
  only?: "stdout" | "stderr",
): AsyncGenerator<LogBatch> {
  const splitter = new LineSplitter(only);
  let pending = "";
  let lines: OutputLine[] = [];
  /** Takes a batch's worth of lines out of `lines`. */
  const take = (): LogBatch => {
    const batch = lines.slice(0, MAX_BATCH);
    lines = lines.slice(MAX_BATCH);
    return { lines: batch };
  };
  for await (const text of body.pipeThrough(new TextDecoderStream())) {
    const frames = (pending + text).split("\n");
    pending = frames.pop() ?? "";
    for (const frame of frames) {
      if (frame.trim() === "") continue;
      const result = splitter.frame(frame);
      if ("error" in result) {
        while (lines.length > 0) yield take();
        yield result;
        return;
      }
      lines.push(...result);
      while (lines.length >= MAX_BATCH) yield take();
    }
    while (lines.length > 0) yield take();
  }
  if (pending.trim() !== "") {
    const result = splitter.frame(pending);
    if ("error" in result) {
      yield result;
      return;
    }
    lines.push(...result);
  }
  lines.push(...splitter.rest());
  while (lines.length > 0) yield take();
}

/** What an error that ended a log request says, for the viewer. */
export function logProblem(error: unknown): string {
  return error instanceof LauncherError ? error.message : "the log stream failed";
}
