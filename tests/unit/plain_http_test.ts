/** The warning before a secret goes unencrypted to another machine. */
import assert from "node:assert/strict";
import { clientFor } from "../../src/cli/context.ts";
import { plainHttpWarning } from "../../src/cli/plain_http.ts";

Deno.test("a token over plain HTTP to another machine is warned about, in one line", () => {
  const warning = plainHttpWarning(["http://10.0.0.5:8080", "https://ctl-2:8080"], "the token");
  assert.ok(warning);
  assert.match(
    warning,
    /^warning: sending the token over plain HTTP to http:\/\/10\.0\.0\.5:8080:/,
  );
  assert.ok(!warning.includes("ctl-2"), "only the plain HTTP server is named");
  assert.ok(!warning.includes("\n"));
});

Deno.test("HTTPS and this machine's loopback get no warning", () => {
  for (
    const url of [
      "https://ctl.example.com:8443",
      "http://127.0.0.1:8080",
      "http://127.3.2.1:8080",
      "http://localhost:8080",
      "http://[::1]:8080",
    ]
  ) {
    assert.equal(plainHttpWarning([url], "the token"), undefined, url);
  }
});

/** What `fn` wrote to stderr through console.error. */
function stderrOf(fn: () => void): string[] {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    fn();
  } finally {
    console.error = original;
  }
  return lines;
}

Deno.test("a client command warns once before its token would go over plain HTTP", () => {
  const far = stderrOf(() => clientFor({ url: ["http://10.0.0.5:8080"], token: "t" }));
  assert.equal(far.length, 1);
  assert.match(far[0], /^warning: sending the token over plain HTTP to http:\/\/10\.0\.0\.5:8080/);
  assert.deepEqual(stderrOf(() => clientFor({ url: ["http://10.0.0.5:8080"] })), [], "no token");
  assert.deepEqual(stderrOf(() => clientFor({ url: ["http://127.0.0.1:8080"], token: "t" })), []);
});
