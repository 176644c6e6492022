/**
 * The web UI's pure parts: relative times, a spec shown without secrets, log output cut into
 * whole lines per stream, and the order of what fails on the overview.
 */
import assert from "node:assert/strict";
import { agoText, exactTime } from "../../src/server/http/ui/components.tsx";
import { specText } from "../../src/server/http/ui/container_page.tsx";
import { logBatches, type OutputLine } from "../../src/server/http/ui/log_lines.ts";
import { type ContainerLine, failingOf } from "../../src/server/http/ui/overview_data.ts";
import { restartCounts } from "../../src/server/http/ui/manifest_page.tsx";

Deno.test("times read as '12 s ago', exact on hover", () => {
  assert.equal(agoText(12_400), "12 s ago");
  assert.equal(agoText(-5), "0 s ago");
  assert.equal(agoText(3 * 60_000 + 5), "3 min ago");
  assert.equal(agoText(5 * 3_600_000), "5 h ago");
  assert.equal(agoText(3 * 86_400_000), "3 d ago");
  assert.equal(exactTime("2026-12-01T17:20:34.512Z"), "2026-12-01 17:20:34 UTC");
});

Deno.test("a spec shows environment values that are not strings as (secret)", () => {
  const text = specText({
    name: "api",
    image: "shop/api:2",
    environment: { MODE: "prod", DB_PASSWORD: { secret: "db-password" } },
  });
  assert.match(text, /MODE: prod/);
  assert.match(text, /DB_PASSWORD: \(secret\)/);
  assert.doesNotMatch(text, /db-password/);
});

/** NDJSON log frames as `GET /logs` sends them, in the chunks given. */
function frames(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(chunks.map((chunk) => encoder.encode(chunk)));
}

async function linesOf(
  body: ReadableStream<Uint8Array>,
  only?: "stdout" | "stderr",
): Promise<(OutputLine | string)[]> {
  const out: (OutputLine | string)[] = [];
  for await (const batch of logBatches(body, only)) {
    if ("error" in batch) out.push(batch.error);
    else out.push(...batch.lines);
  }
  return out;
}

Deno.test("log output becomes whole lines, per stream, across frames and chunks", async () => {
  const out = JSON.stringify({ stream: "stdout", data: "one\ntw" });
  const err = JSON.stringify({ stream: "stderr", data: "oops\r\n" });
  const rest = JSON.stringify({ stream: "stdout", data: "o\nthree" });
  assert.deepEqual(
    await linesOf(frames(`${out}\n${err.slice(0, 10)}`, `${err.slice(10)}\n`, rest)),
    [["stdout", "one"], ["stderr", "oops"], ["stdout", "two"], ["stdout", "three"]],
  );
  assert.deepEqual(await linesOf(frames(`${out}\n${err}\n${rest}\n`), "stderr"), [
    ["stderr", "oops"],
  ]);
  const failed = JSON.stringify({ error: { code: "engine", message: "no such container" } });
  assert.deepEqual(await linesOf(frames(`${out}\n${failed}\n${rest}\n`)), [
    ["stdout", "one"],
    "no such container",
  ]);
  const many = Array.from({ length: 2500 }, (_, i) => `${i}\n`).join("");
  const batches: number[] = [];
  for await (const batch of logBatches(frames(JSON.stringify({ stream: "stdout", data: many })))) {
    batches.push("lines" in batch ? batch.lines.length : 0);
  }
  assert.deepEqual(batches, [1000, 1000, 500], "batches of at most 1,000 lines");
});

Deno.test("the overview lists failed, then unhealthy, then pending with a reason, then unknown", () => {
  const c = (name: string, state: string, extra: Partial<ContainerLine> = {}): ContainerLine => ({
    manifest: "shop",
    name,
    host: "host-a",
    desired: "running",
    state,
    updatedAt: "2026-12-01T00:00:00Z",
    ...extra,
  });
  const list = [
    c("lost", "unknown"),
    c("waiting", "pending", { error: "no host has 4 CPUs free" }),
    c("new", "pending"),
    c("sick", "running", { health: "unhealthy" }),
    c("fine", "running", { health: "healthy" }),
    c("crashed", "failed", { exitCode: 3 }),
    c("gone", "failed", { desired: "removed" }),
  ];
  assert.deepEqual(
    failingOf(list).map((f) => `${f.kind}:${f.container.name}`),
    ["failed:crashed", "unhealthy:sick", "pending:waiting", "unknown:lost"],
  );
});

Deno.test("restarts count returns to running after a stop, exit or restart", () => {
  const e = (container: string, from: string, to: string) => ({
    id: 1,
    time: "",
    kind: "state" as const,
    actor: "agent",
    container,
    from,
    to,
  });
  const counts = restartCounts([
    e("web", "pending", "created"),
    e("web", "created", "running"),
    e("web", "running", "completed"),
    e("web", "completed", "running"),
    e("web", "running (starting)", "running (healthy)"),
    e("web", "unknown", "running"),
    e("db", "exited (137)", "running"),
  ]);
  assert.deepEqual([...counts], [["web", 1], ["db", 1]]);
});
