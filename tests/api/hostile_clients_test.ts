/**
 * Hostile clients against a real server, over raw TCP sockets (issue 12): a body announced and
 * never sent gets 408 and the connection closes; oversized headers and query strings get 431 and
 * 414 in the API's error shape; connections that send nothing, or headers that never end, are
 * closed after the idle timeout while held long-polls are not; the server raises its open-file
 * limit, closes silent connections sooner near it, and a flood of connections past it neither ends
 * the process nor stops it for good.
 */
import assert from "node:assert/strict";
import { startServer } from "../../src/server/http/serve.ts";
import { MAX_HEADER_BYTES, MAX_QUERY_BYTES } from "../../src/server/http/request_limits.ts";
import { ErrorBodySchema } from "../../src/api/errors.ts";
import * as v from "valibot";
import { pollUntil } from "../poll_until.ts";
import { freePort, isAlive, run } from "../processes.ts";

const PASSWORD = "pw";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One HTTP/1.1 answer read off a socket. */
interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** Reads one answer (its head, then `Content-Length` bytes of body) from `conn`. */
async function readResponse(conn: Deno.Conn): Promise<RawResponse> {
  let bytes = new Uint8Array(0);
  const buffer = new Uint8Array(64 * 1024);
  const more = async () => {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`connection closed after ${JSON.stringify(text())}`);
    const grown = new Uint8Array(bytes.length + n);
    grown.set(bytes);
    grown.set(buffer.subarray(0, n), bytes.length);
    bytes = grown;
  };
  const text = () => decoder.decode(bytes);
  while (!text().includes("\r\n\r\n")) await more();
  const [head] = text().split("\r\n\r\n", 1);
  const [statusLine, ...lines] = head.split("\r\n");
  const headers = new Headers(
    lines.map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)]),
  );
  const length = Number(headers.get("content-length") ?? "0");
  while (bytes.length < head.length + 4 + length) await more();
  return {
    status: Number(statusLine.split(" ")[1]),
    headers,
    body: decoder.decode(bytes.subarray(head.length + 4, head.length + 4 + length)),
  };
}

/**
 * Resolves once the server closes `conn` (end of stream or reset); rejects when it is still open
 * after `boundMs`, far beyond the timeout under test: a bound on the wait, not a measurement.
 */
async function closedByServer(conn: Deno.Conn, boundMs = 10_000): Promise<void> {
  const buffer = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still open after ${boundMs} ms`)), boundMs);
  });
  const drained = (async () => {
    try {
      while (await conn.read(buffer) !== null) { /* what the server says before closing */ }
    } catch {
      // Reset by the server: closed too.
    }
  })();
  try {
    await Promise.race([drained, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** An error answer's code, checked against the API's error shape. */
function errorCode(response: RawResponse): string {
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  return v.parse(ErrorBodySchema, JSON.parse(response.body)).error.code;
}

/** A real server on a free port with short timeouts, the raw sockets a test opens, and a token. */
async function serve(opts: { bodyTimeoutMs?: number; idleTimeoutMs?: number } = {}) {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-hostile-" });
  const lines: string[] = [];
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    store: dataDir,
    password: PASSWORD,
    log: (line) => lines.push(line),
    ...opts,
  });
  const conns: Deno.Conn[] = [];
  return {
    server,
    lines,
    async connect(): Promise<Deno.Conn> {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      conns.push(conn);
      return conn;
    },
    async token(): Promise<string> {
      const res = await fetch(`${server.url}/api/v1/token`, {
        method: "POST",
        body: JSON.stringify({ password: PASSWORD }),
      });
      assert.equal(res.status, 201);
      return (await res.json()).token;
    },
    async close() {
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Closed already.
        }
      }
      await server.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** Writes `text`; a write the server refuses (it closed) is no failure here. */
async function send(conn: Deno.Conn, text: string): Promise<void> {
  try {
    await conn.write(encoder.encode(text));
  } catch {
    // The server has closed the connection; what it answered is still to be read.
  }
}

Deno.test("a body announced and never sent gets 408 request_timeout and the connection closes", async () => {
  const s = await serve({ bodyTimeoutMs: 300, idleTimeoutMs: 60_000 });
  try {
    const conn = await s.connect();
    await send(
      conn,
      "POST /api/v1/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        'Content-Length: 1000\r\n\r\n{"password"',
    );
    const response = await readResponse(conn);
    assert.equal(response.status, 408);
    assert.equal(errorCode(response), "request_timeout");
    assert.equal(response.headers.get("connection"), "close");
    await closedByServer(conn);

    // The server goes on answering.
    const health = await fetch(`${s.server.url}/api/v1/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await s.close();
  }
});

Deno.test("a body that trickles in within the body timeout is read, however slowly", async () => {
  const s = await serve({ bodyTimeoutMs: 5_000, idleTimeoutMs: 200 });
  try {
    const conn = await s.connect();
    const body = JSON.stringify({ password: PASSWORD });
    await send(
      conn,
      `POST /api/v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    // Longer in all than the idle timeout: a request being read is not idle.
    for (const char of body) {
      await send(conn, char);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const response = await readResponse(conn);
    assert.equal(response.status, 201, response.body);
  } finally {
    await s.close();
  }
});

Deno.test("oversized headers get 431 headers_too_large and a long query 414 uri_too_long", async () => {
  const s = await serve();
  try {
    const big = await s.connect();
    await send(
      big,
      `GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(MAX_HEADER_BYTES)}\r\n\r\n`,
    );
    const headers = await readResponse(big);
    assert.equal(headers.status, 431);
    assert.equal(errorCode(headers), "headers_too_large");

    const many = await s.connect();
    const lines = Array.from({ length: 100 }, (_, i) => `X-H${i}: ${"b".repeat(200)}\r\n`);
    await send(many, `GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\n${lines.join("")}\r\n`);
    const summed = await readResponse(many);
    assert.equal(summed.status, 431, "the sum of all headers counts");

    const long = await s.connect();
    await send(
      long,
      `GET /api/v1/events?after=0&x=${"c".repeat(MAX_QUERY_BYTES)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    const query = await readResponse(long);
    assert.equal(query.status, 414);
    assert.equal(errorCode(query), "uri_too_long");

    // Past about 64 KiB of request head, Deno.serve answers before the app sees anything.
    const huge = await s.connect();
    await send(huge, `GET /api/v1/healthz HTTP/1.1\r\nX-Big: ${"d".repeat(70_000)}\r\n\r\n`);
    assert.equal((await readResponse(huge)).status, 400);
    await closedByServer(huge);

    // Just under the limits: answered.
    const fits = await s.connect();
    const room = MAX_HEADER_BYTES - 200;
    await send(
      fits,
      `GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"e".repeat(room)}\r\n\r\n`,
    );
    assert.equal((await readResponse(fits)).status, 200);
  } finally {
    await s.close();
  }
});

Deno.test("connections that send nothing, or headers that never end, are closed when idle", async () => {
  const s = await serve({ idleTimeoutMs: 300 });
  try {
    const silent = await s.connect();
    await closedByServer(silent);

    const slow = await s.connect();
    await send(slow, "GET /api/v1/healthz HTTP/1.1\r\n");
    let line = 0;
    // A header line every 50 ms, each well within the idle timeout, never the end of them.
    const drip = setInterval(() => void send(slow, `X-Drip-${line++}: 1\r\n`), 50);
    try {
      await closedByServer(slow);
    } finally {
      clearInterval(drip);
    }

    const kept = await s.connect();
    await send(kept, "GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal((await readResponse(kept)).status, 200);
    await closedByServer(kept);
  } finally {
    await s.close();
  }
});

Deno.test("a long-poll held longer than the idle timeout is answered, not cut", async () => {
  const s = await serve({ idleTimeoutMs: 200 });
  try {
    const token = await s.token();
    const conn = await s.connect();
    await send(
      conn,
      `GET /api/v1/container?host=host-a&index=0&wait=1500ms HTTP/1.1\r\nHost: x\r\n` +
        `Authorization: Bearer ${token}\r\n\r\n`,
    );
    await pollUntil("the poll to be held", () => s.server.planner.heldWaiters === 1);
    const response = await readResponse(conn);
    assert.equal(response.status, 200, response.body);
    assert.equal(JSON.parse(response.body).index, 0);
  } finally {
    await s.close();
  }
});

/** The soft and hard open-file limits of a process, from /proc. */
function openFileLimits(pid: number | "self"): { soft: number; hard: number } {
  const line = Deno.readTextFileSync(`/proc/${pid}/limits`).split("\n")
    .find((l) => l.startsWith("Max open files")) as string;
  const [soft, hard] = line.split(/\s+/).slice(3, 5).map(Number);
  return { soft, hard };
}

Deno.test("the server raises its soft open-file limit to the hard limit at start, and says so", async () => {
  const before = openFileLimits("self");
  // Deno raises the limit of `deno run` itself; a compiled binary starts with the low one.
  await run("prlimit", ["--pid", String(Deno.pid), `--nofile=256:${before.hard}`]);
  let s: Awaited<ReturnType<typeof serve>> | undefined;
  try {
    assert.equal(openFileLimits("self").soft, 256);
    s = await serve();
    assert.equal(openFileLimits("self").soft, before.hard);
    assert.ok(
      s.lines.includes(`open-file limit raised from 256 to ${before.hard} (the hard limit)`),
      s.lines.join("\n"),
    );
  } finally {
    await run("prlimit", ["--pid", String(Deno.pid), `--nofile=${before.soft}:${before.hard}`]);
    await s?.close();
  }
});

/** A `launcher serve` of its own, in a child process, with its output collected. */
async function childServer(idleTimeout: string) {
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-hostile-" });
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "-A", main, "serve"],
      ...["--ip", "127.0.0.1", "--port", String(port), "--data-dir", dataDir],
      ...["--idle-timeout", idleTimeout],
    ],
    env: { LAUNCHER_TOKEN_PASS: PASSWORD },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const server = {
    port,
    child,
    output: "",
    healthy: async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/healthz`, {
        signal: AbortSignal.timeout(2_000),
      });
      await res.body?.cancel();
      return res.ok;
    },
    /** Ends the server and removes its data dir. */
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await collecting;
      await Deno.remove(dataDir, { recursive: true });
    },
  };
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) server.output += chunk;
  };
  const collecting = Promise.all([collect(child.stdout), collect(child.stderr)]);
  await pollUntil("the server to answer", server.healthy);
  return server;
}

Deno.test("a flood of connections past the open-file limit neither ends the server nor stops it for good", async () => {
  // Long enough for the whole flood to arrive before any of it is closed.
  const server = await childServer("5s");
  const { port, child, healthy } = server;
  const flood: Deno.Conn[] = [];
  try {
    // Few descriptors left to the running server: 256, of which it uses about 20.
    await run("prlimit", ["--pid", String(child.pid), "--nofile=256:"]);
    for (let i = 0; i < 400; i++) {
      try {
        flood.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch {
        // Refused while the server listens again: the flood goes on.
      }
    }
    await pollUntil(
      () => `the server to stop accepting, in:\n${server.output}`,
      () =>
        server.output.includes("the server stopped accepting connections") &&
        server.output.includes("Too many open files"),
    );
    // The flood still holds its end of every connection.
    await pollUntil(() => `the server to answer again, in:\n${server.output}`, healthy, {
      timeoutMs: 30_000,
    });
    assert.ok(isAlive(child.pid));
  } finally {
    for (const conn of flood) conn.close();
    await server.stop();
  }
});

Deno.test("near the open-file limit, silent connections are closed long before the idle timeout", async () => {
  const server = await childServer("60s");
  const { port, child, healthy } = server;
  const silent: Deno.Conn[] = [];
  try {
    await run("prlimit", ["--pid", String(child.pid), "--nofile=256:"]);
    // Up to 240 of the 256 descriptors in use: past nine tenths, short of the limit.
    const used = [...Deno.readDirSync(`/proc/${child.pid}/fd`)].length;
    for (let i = used; i < 240; i++) {
      silent.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    }
    // Far less than the 60 s idle timeout: only the shortage closes them this soon.
    await Promise.all(silent.map((conn) => closedByServer(conn, 20_000)));
    assert.match(server.output, /open files near the limit: closing connections idle for 1000 ms/);
    await pollUntil("the server to answer again", healthy);
  } finally {
    for (const conn of silent) conn.close();
    await server.stop();
  }
});
