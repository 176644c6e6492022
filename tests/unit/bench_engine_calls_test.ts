import assert from "node:assert/strict";
import { callBreakdown, callKind, countCalls, sumCalls } from "../../bench/engine_calls.ts";

const call = (method: string, path: string, time = 10) => ({ method, path, time });

Deno.test("engine calls are sorted into kinds by method and path", () => {
  const kinds = [
    call("POST", "/v1.41/containers/create?name=m_c0"),
    call("POST", "/v1.41/containers/abc/start"),
    call("POST", "/containers/abc/stop?t=10"),
    call("POST", "/containers/abc/kill?signal=KILL"),
    call("POST", "/containers/abc/restart?t=1"),
    call("DELETE", "/v1.41/containers/abc?force=true"),
    call("GET", "/v1.41/containers/json?all=true&filters=%7B%7D"),
    call("GET", "/v1.41/containers/abc/json"),
    call("GET", "/v1.41/images/launcher-test:1/json"),
    call("POST", "/v1.41/images/create?fromImage=x"),
    call("GET", "/v1.41/events?filters=%7B%7D"),
    call("GET", "/_ping"),
    call("GET", "/v1.41/containers/abc/logs?follow=1"),
  ].map(callKind);
  assert.deepEqual(kinds, [
    "create",
    "start",
    "stop",
    "kill",
    "restart",
    "remove",
    "list",
    "inspect",
    "image",
    "pull",
    "events",
    "ping",
    "GET /containers/{id}/logs",
  ]);
});

Deno.test("only calls in the window count, and a useful call made again is overhead", () => {
  const count = countCalls(
    {
      "host-a": [
        call("GET", "/containers/json", 5),
        call("POST", "/containers/create?name=m_c0"),
        call("POST", "/containers/a1/start"),
        call("POST", "/containers/a1/start"),
        call("GET", "/containers/a1/json"),
      ],
      "host-b": [
        call("POST", "/containers/create?name=m_c1"),
        call("POST", "/containers/b1/start"),
      ],
    },
    10,
    20,
  );
  assert.equal(count.total, 6);
  assert.equal(count.useful, 4);
  assert.deepEqual(count.byHost, { "host-a": 4, "host-b": 2 });
  assert.equal(callBreakdown(count), "create 2, start 2, inspect 1, start again 1");
  const both = sumCalls([count, count]);
  assert.equal(both.total, 12);
  assert.equal(both.useful, 8);
  assert.equal(callBreakdown(both), "create 4, start 4, inspect 2, start again 2");
});
