/** The engine's log stream format: frames, TTY lines, timestamps, and log positions. */
import assert from "node:assert/strict";
import { FrameDecoder, LineDecoder, splitTimestamp } from "../../src/docker/log_stream.ts";
import { unixSeconds } from "../../src/agent/logs.ts";
import { nanoseconds } from "../../src/log_time.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** One multiplexed frame as the engine writes it. */
function frame(stream: number, payload: string): Uint8Array {
  const body = new TextEncoder().encode(payload);
  const bytes = new Uint8Array(8 + body.length);
  bytes[0] = stream;
  new DataView(bytes.buffer).setUint32(4, body.length);
  bytes.set(body, 8);
  return bytes;
}

Deno.test("frames are split by their headers, whatever the chunking", () => {
  const all = new Uint8Array([
    ...frame(1, "out one\n"),
    ...frame(2, "err one\n"),
    ...frame(1, ""),
    ...frame(1, "out two"),
  ]);
  for (const size of [1, 3, 8, 9, all.length]) {
    const decoder = new FrameDecoder();
    const got: string[] = [];
    for (let i = 0; i < all.length; i += size) {
      for (const f of decoder.push(all.subarray(i, i + size))) {
        got.push(`${f.stream}:${text(f.payload)}`);
      }
    }
    assert.deepEqual(got, ["stdout:out one\n", "stderr:err one\n", "stdout:", "stdout:out two"]);
    assert.equal(decoder.pending, 0);
  }
});

Deno.test("a partial frame waits for the rest", () => {
  const decoder = new FrameDecoder();
  const bytes = frame(2, "hello\n");
  assert.deepEqual(decoder.push(bytes.subarray(0, 10)), []);
  assert.equal(decoder.pending, 10);
  const [f] = decoder.push(bytes.subarray(10));
  assert.equal(f.stream, "stderr");
  assert.equal(text(f.payload), "hello\n");
});

Deno.test("a TTY stream is split into lines, with the last one flushed", () => {
  const decoder = new LineDecoder();
  const enc = new TextEncoder();
  const got = [
    ...decoder.push(enc.encode("a\nb")),
    ...decoder.push(enc.encode("c\r\nd")),
  ].map(text);
  assert.deepEqual(got, ["a\n", "bc\r\n"]);
  assert.equal(text(decoder.flush()!), "d");
  assert.equal(decoder.flush(), undefined);
});

Deno.test("a leading timestamp is split off; other text is left whole", () => {
  const enc = new TextEncoder();
  const stamped = splitTimestamp(enc.encode("2024-05-06T07:08:09.123456789Z hello world\n"));
  assert.equal(stamped.time, "2024-05-06T07:08:09.123456789Z");
  assert.equal(text(stamped.data), "hello world\n");
  const plain = splitTimestamp(enc.encode("hello world\n"));
  assert.equal(plain.time, undefined);
  assert.equal(text(plain.data), "hello world\n");
  const empty = splitTimestamp(enc.encode("2024-05-06T07:08:09Z \n"));
  assert.equal(empty.time, "2024-05-06T07:08:09Z");
  assert.equal(text(empty.data), "\n");
});

Deno.test("log positions keep nanoseconds and turn into the engine's since", () => {
  const ns = nanoseconds("2024-05-06T07:08:09.000000001Z");
  assert.equal(ns, BigInt(Date.parse("2024-05-06T07:08:09Z")) * 1_000_000n + 1n);
  assert.ok(nanoseconds("2024-05-06T07:08:09.5Z")! > ns!);
  assert.equal(nanoseconds("2024-05-06T09:08:09.5+02:00"), nanoseconds("2024-05-06T07:08:09.5Z"));
  assert.equal(nanoseconds("not a time"), undefined);
  assert.equal(unixSeconds(1_700_000_000_000_000_001n), "1700000000.000000001");
  assert.equal(unixSeconds(5n), "0.000000005");
});
