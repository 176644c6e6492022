/**
 * The UI's server-sent events: the wire format, a writer held back while the browser does not
 * read (so a chatty container never piles up in the server), and a browser that leaves ending it.
 */
import assert from "node:assert/strict";
import { eventText, sseResponse } from "../../src/server/http/ui/sse.ts";
import { pollUntil } from "../poll_until.ts";

Deno.test("events are named data lines; comments keep the connection", () => {
  assert.equal(eventText("lines", '[["stdout","a"]]'), 'event: lines\ndata: [["stdout","a"]]\n\n');
  assert.equal(eventText("problem", "one\ntwo"), "event: problem\ndata: one\ndata: two\n\n");
  assert.equal(eventText(undefined, "keep\nalive"), ": keep alive\n\n");
});

Deno.test("a browser that does not read holds the writer back; leaving aborts it", async () => {
  let sent = 0;
  let aborted = false;
  let ended!: () => void;
  const done = new Promise<void>((resolve) => ended = resolve);
  const res = sseResponse(new AbortController().signal, async (send, signal) => {
    signal.addEventListener("abort", () => aborted = true);
    try {
      for (let i = 0; i < 10_000; i++) {
        await send("lines", `[${i}]`);
        sent++;
      }
    } finally {
      ended();
    }
  });
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(sent < 40, `${sent} events sent to a browser that read none`);
  const reader = res.body!.getReader();
  await reader.read();
  await pollUntil("more events once the browser reads", () => sent > 0);
  await reader.cancel();
  await done;
  assert.equal(aborted, true, "the writer's signal aborts when the browser leaves");
  assert.ok(sent < 10_000, "the writer stopped");
});
