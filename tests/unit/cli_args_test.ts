/**
 * How the command line is read: the root's own options (`-V`, `-h`) only before a command, so
 * that an option's value that looks like one (a base64url token starting with `-V`) stays a value.
 */
import assert from "node:assert/strict";
import { EXIT, run } from "../../src/cli/main.ts";

Deno.test("a token that starts with -V is the token, not the version flag", async () => {
  // With the token taken as a token, the command tries the server (port 1: refused at once) and
  // fails; read as the version flag it would print the version and succeed.
  const code = await run(["token", "ls", "--url", "http://127.0.0.1:1", "--token", "-Vabc"]);
  assert.equal(code, EXIT.failed);
});

Deno.test("-V before a command still prints the version", async () => {
  assert.equal(await run(["-V"]), EXIT.ok);
});
