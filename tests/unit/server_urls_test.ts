/** The list of server URLs of `--url` and `--master`, and which of them is current. */
import assert from "node:assert/strict";
import { parseServerUrls, ServerList } from "../../src/client/servers.ts";
import { ServerUrlError } from "../../src/client/errors.ts";
import { run } from "../../src/cli/main.ts";

Deno.test("a comma-separated list parses to base URLs, in order, without trailing slashes", () => {
  assert.deepEqual(parseServerUrls("http://a:8080", "--url"), ["http://a:8080"]);
  assert.deepEqual(
    parseServerUrls("http://a:8080/, https://b ,http://c/launcher/", "--url"),
    ["http://a:8080", "https://b", "http://c/launcher"],
  );
});

Deno.test("an empty or invalid entry is refused, naming the flag", () => {
  const refused: [string, string][] = [
    ["ftp://x", '--url: "ftp://x" is not an http(s) URL'],
    ["http://a,ctl:8080", '--url: "ctl:8080" is not an http(s) URL'],
    ["a b", '--url: "a b" is not an http(s) URL'],
    ["", "--url: a server URL in the list is empty"],
    ["http://a,,http://b", "--url: a server URL in the list is empty"],
    ["http://a,", "--url: a server URL in the list is empty"],
    ["http://a,http://a/", '--url: "http://a" is listed twice'],
    ["http://a/?x=1", '--url: "http://a/?x=1" has a query or fragment'],
  ];
  for (const [text, message] of refused) {
    assert.throws(() => parseServerUrls(text, "--url"), { name: "ServerUrlError", message }, text);
  }
  assert.throws(() => parseServerUrls("x", "--master"), ServerUrlError);
  assert.throws(() => parseServerUrls("x", "--master"), /--master: "x"/);
});

Deno.test("the server that answered stays current; a failed current one hands over to the next", () => {
  const servers = new ServerList(["http://a", "http://b", "http://c"]);
  assert.deepEqual(servers.order(), ["http://a", "http://b", "http://c"]);
  assert.equal(servers.failed("http://a"), true);
  assert.equal(servers.current, "http://b");
  assert.deepEqual(servers.order(), ["http://b", "http://c", "http://a"]);
  // A request that started on a before the move fails there too: b stays current.
  assert.equal(servers.failed("http://a"), false);
  assert.equal(servers.current, "http://b");
  servers.answered("http://c");
  assert.deepEqual(servers.order(), ["http://c", "http://a", "http://b"]);
  assert.equal(servers.failed("http://c"), true);
  assert.equal(servers.current, "http://a");
});

Deno.test("one server stays current whatever happens", () => {
  const servers = new ServerList(["http://a/"]);
  assert.equal(servers.failed("http://a"), false);
  assert.deepEqual(servers.order(), ["http://a"]);
});

Deno.test("the CLI refuses a bad --url, LAUNCHER_URL or --master as a usage error", async () => {
  const errors: string[] = [];
  const original = console.error;
  const env = Deno.env.get("LAUNCHER_URL");
  console.error = (line: string) => errors.push(line);
  try {
    assert.equal(await run(["manifest", "ps", "--url", "http://a,ftp://x"]), 2);
    Deno.env.set("LAUNCHER_URL", "http://a,,http://b");
    assert.equal(await run(["hosts"]), 2);
    assert.equal(await run(["agent", "--master", "http://a,"]), 2);
  } finally {
    console.error = original;
    if (env === undefined) Deno.env.delete("LAUNCHER_URL");
    else Deno.env.set("LAUNCHER_URL", env);
  }
  assert.deepEqual(errors, [
    'error: --url: "ftp://x" is not an http(s) URL',
    "error: --url: a server URL in the list is empty",
    "error: --master: a server URL in the list is empty",
  ]);
});
