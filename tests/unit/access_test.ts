import assert from "node:assert/strict";
import { matchRoute, ROUTE_ACCESS, ruleFor } from "../../src/server/http/access.ts";

Deno.test("routes match by method and exact path, HEAD as GET, `:name` as one segment", () => {
  assert.equal(ruleFor("POST", "/manifest/up").need, "admin");
  assert.equal(ruleFor("POST", "/manifest/ps").need, "read");
  assert.equal(ruleFor("GET", "/healthz").need, "none");
  assert.equal(ruleFor("HEAD", "/healthz").need, "none");
  assert.equal(ruleFor("GET", "/container").host, "query");
  assert.equal(ruleFor("POST", "/agent/logs/abc").need, "agent");
  assert.equal(ruleFor("POST", "/agent/logs/abc").streamsBody, true);
  assert.equal(ruleFor("GET", "/agent/logs/requests").need, "agent");
  assert.equal(ruleFor("POST", "/agent/logs/a/b").need, "admin", "one segment only");
  assert.equal(ruleFor("POST", "/agent/logs/").need, "admin", "an empty segment is none");
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

Deno.test("a known path asked with another method lists the methods it takes", () => {
  assert.deepEqual(matchRoute("GET", "/manifest/ps"), {
    kind: "method",
    allow: ["POST"],
    open: false,
  });
  assert.deepEqual(matchRoute("DELETE", "/tokens"), {
    kind: "method",
    allow: ["GET", "HEAD", "POST"],
    open: false,
  });
  assert.deepEqual(matchRoute("POST", "/healthz"), {
    kind: "method",
    allow: ["GET", "HEAD"],
    open: true,
  });
  assert.deepEqual(matchRoute("GET", "/agent/logs/abc"), {
    kind: "method",
    allow: ["POST"],
    open: false,
  });
  assert.deepEqual(matchRoute("PUT", "/agent/logs/requests").kind, "method");
  assert.deepEqual(matchRoute("GET", "/nope"), { kind: "unknown" });
});

Deno.test("every agent route says where it names its host", () => {
  for (const rule of ROUTE_ACCESS.filter((r) => r.need === "agent")) {
    assert.ok(rule.host !== undefined, `${rule.method} ${rule.path}`);
  }
});
