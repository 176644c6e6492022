import assert from "node:assert/strict";
import { ROUTE_ACCESS, ruleFor } from "../../src/server/http/access.ts";

Deno.test("routes match by method and path, HEAD as GET, and subtrees", () => {
  assert.equal(ruleFor("POST", "/manifest/up").need, "admin");
  assert.equal(ruleFor("POST", "/manifest/ps").need, "read");
  assert.equal(ruleFor("GET", "/healthz").need, "none");
  assert.equal(ruleFor("HEAD", "/healthz").need, "none");
  assert.equal(ruleFor("GET", "/container").host, "query");
  assert.equal(ruleFor("PUT", "/agent/logs/a/b").need, "agent");
  assert.equal(ruleFor("GET", "/agent/logs").need, "admin", "a subtree is below its root");
});

Deno.test("anything not in the table needs admin", () => {
  for (
    const [method, path] of [
      ["GET", "/nope"],
      ["GET", "/manifest/ps"],
      ["POST", "/manifest/ps/"],
      ["DELETE", "/tokens"],
      ["GET", "/token"],
      ["GET", "/Container"],
    ]
  ) {
    const rule = ruleFor(method, path);
    assert.equal(rule.need, "admin", `${method} ${path}`);
    assert.ok(!ROUTE_ACCESS.includes(rule));
  }
});

Deno.test("every agent route says where it names its host", () => {
  for (const rule of ROUTE_ACCESS.filter((r) => r.need === "agent")) {
    assert.ok(rule.host !== undefined, `${rule.method} ${rule.path}`);
  }
});
