import assert from "node:assert/strict";
import { startServer } from "../../src/server/http/serve.ts";
import { generateCa, signServer } from "../../src/server/tls/generate.ts";

/** What the test reads of a socket through libc: its two ends and its TCP_NODELAY. */
const libc = {
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
} as const;

/** The port of a socket's end (IPv4), or undefined when it has none (a listener's peer). */
function port(call: (fd: number, a: Uint8Array, l: Uint8Array) => number, fd: number) {
  const address = new Uint8Array(128);
  const length = new Uint8Array(new Uint32Array([address.length]).buffer);
  if (call(fd, address, length) !== 0) return undefined;
  return new DataView(address.buffer).getUint16(2);
}

// Deno.serve turns Nagle's algorithm off on plain TCP connections but not on TLS ones, where an
// answer over about 1 KB then waits some 40 ms for the client's delayed ACK.
Deno.test("a TLS server's accepted connections have Nagle's algorithm off (TCP_NODELAY)", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-nodelay-test-" });
  const ca = await generateCa();
  const tls = await signServer(ca, { names: ["localhost"], ips: ["127.0.0.1"] });
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    store: dataDir,
    password: "pw",
    tls: { cert: tls.cert, key: tls.key },
  });
  const lib = Deno.dlopen("libc.so.6", libc);
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.port,
    caCerts: [ca.pem.cert],
  });
  try {
    // A kept-alive request, answered: the server has accepted the connection and still holds it.
    await conn.write(new TextEncoder().encode("GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const answer = new Uint8Array(1024);
    assert.match(new TextDecoder().decode(answer.subarray(0, await conn.read(answer) ?? 0)), /200/);
    const accepted = [...Deno.readDirSync("/proc/self/fd")].map((e) => Number(e.name)).filter(
      (fd) =>
        port(lib.symbols.getsockname, fd) === server.port &&
        port(lib.symbols.getpeername, fd) === conn.localAddr.port,
    );
    assert.equal(accepted.length, 1, "the server's end of the test's connection");
    const value = new Uint8Array(4);
    const length = new Uint8Array(new Uint32Array([4]).buffer);
    assert.equal(lib.symbols.getsockopt(accepted[0], 6, 1, value, length), 0); // IPPROTO_TCP, TCP_NODELAY
    assert.equal(new DataView(value.buffer).getInt32(0, true), 1);
  } finally {
    conn.close();
    lib.close();
    await server.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
