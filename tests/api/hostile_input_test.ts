/**
 * The hostile-request battery (issue 7): for every route that takes a body or a query, a list
 * where an object is required, an unknown field, a wrong type, a body that is not JSON and holds a
 * secret, a deep nesting and the wrong method. Each answer has the error shape and a message in
 * the API's words (none of the libraries'), quotes nothing of a body, and nothing stored changes.
 * Issue 12 adds requests past the limits of reading one: headers, query string, a stalled body.
 */
import assert from "node:assert/strict";
import { API_PREFIX } from "../../src/server/http/access.ts";
import { MAX_HEADER_BYTES, MAX_QUERY_BYTES } from "../../src/server/http/request_limits.ts";
import {
  assertError,
  BLOG_YAML,
  type Harness,
  openHarness,
  PASSWORD,
  registration,
  SHOP_YAML,
} from "./harness.ts";

/** Wording of valibot, of V8's JSON.parse, or of a stringified object: never in an answer. */
const LEAK = /Expected|Received|Invalid key|Invalid type|valibot|JSON at position.*"|\[object/;
/** What a client might send in the wrong format; it must never come back. */
const SECRET = "hunter2-Sekr1t-0xC0FFEE";
const DEEP = 100_000;

/** Everything a bad request must leave alone. */
async function snapshot(h: Harness) {
  const read = async (method: string, path: string, body?: unknown) => {
    const res = await h.call(method, path, body);
    assert.equal(res.status, 200);
    return await res.json();
  };
  return {
    ps: await read("POST", "/manifest/ps", {}),
    hosts: await read("GET", "/hosts"),
    tokens: await read("GET", "/tokens"),
    events: await h.planner.store.lastEventId(),
    indexes: await Promise.all(
      ["host-a", "host-b", "host-c"].map((host) => h.planner.hostIndex(host)),
    ),
  };
}

/** A harness with two manifests, a registered host and a second token. */
async function seeded(options: { bodyTimeoutMs?: number } = {}): Promise<Harness> {
  const h = await openHarness(options);
  await h.up(SHOP_YAML);
  await h.up(BLOG_YAML);
  const res = await h.call("POST", "/hosts/register", registration("host-a"));
  assert.equal(res.status, 200, await res.text());
  const token = await h.call("POST", "/tokens", { role: "read" });
  assert.equal(token.status, 201);
  await token.body?.cancel();
  return h;
}

/** One hostile request and what its answer must be. */
interface Attack {
  name: string;
  method: string;
  /** Under /api/v1, with its query. */
  path: string;
  body?: string;
  type?: string;
  /** Sent without a token (routes anyone may call). */
  anonymous?: boolean;
  status: number;
  code: string;
  message?: RegExp;
  /** The `Allow` header a 405 must carry. */
  allow?: string;
}

/** A JSON-body route, a body it accepts, and how to make it wrong in each way. */
interface BodyRoute {
  path: string;
  valid: Record<string, unknown>;
  /** A field set to a value of the wrong type, and the message that must say so. */
  wrongType: [string, unknown, RegExp];
  /** The route takes a list too (of objects): the list case is a list of lists. */
  takesList?: boolean;
  anonymous?: boolean;
  /** A method the route does not take, and the `Allow` it answers (default GET and POST). */
  wrongMethod?: [string, string];
  /** A field the route does not know (default `force`). */
  unknown?: string;
}

const BODY_ROUTES: BodyRoute[] = [
  {
    path: "/token",
    valid: { password: PASSWORD },
    wrongType: ["password", 12345, /^request body is invalid: password: must be a string$/],
    anonymous: true,
  },
  {
    path: "/tokens",
    valid: { role: "read" },
    wrongMethod: ["DELETE", "GET, HEAD, POST"],
    wrongType: ["role", 3, /role: must be one of "admin", "agent", "read", not the number 3/],
  },
  {
    path: "/tokens/revoke",
    valid: { id: "a41d07e9c3b5" },
    wrongType: ["id", true, /id: must be a string, not true/],
  },
  {
    path: "/manifest/down",
    valid: { manifest: "shop" },
    wrongType: ["manifest", 3, /manifest: must be a string, not the number 3/],
  },
  {
    path: "/manifest/ps",
    valid: { manifest: "shop" },
    wrongType: ["manifest", ["shop"], /manifest: must be a string, not a list/],
  },
  {
    path: "/container/action",
    valid: { action: "stop", host: "host-a", container: "web", manifest: "shop" },
    wrongType: ["host", 3, /host: must be a string, not the number 3/],
  },
  {
    path: "/state",
    valid: { host: "host-a", name: "web", manifest: "shop", state: "running" },
    wrongType: ["exitCode", "1", /exitCode: must be a number, not the string "1"/],
    takesList: true,
  },
  {
    path: "/hosts/register",
    valid: registration("host-a"),
    wrongType: ["labels", ["zone=eu-1"], /labels: must be an object, not a list/],
  },
  {
    path: "/hosts/drain",
    valid: { host: "host-a" },
    wrongType: ["host", 3, /^request body is invalid: host: must be a string, not the number 3$/],
  },
  {
    path: "/hosts/remove",
    valid: { host: "host-a" },
    unknown: "now",
    wrongType: ["force", "yes", /force: must be true or false, not the string "yes"/],
  },
];

function bodyAttacks(route: BodyRoute): Attack[] {
  const base = { method: "POST", path: route.path, anonymous: route.anonymous };
  const invalid = { status: 400, code: "invalid_body" };
  const [field, value, message] = route.wrongType;
  const [wrongMethod, allow] = route.wrongMethod ?? ["GET", "POST"];
  const unknown = route.unknown ?? "force";
  return [
    {
      ...base,
      ...invalid,
      name: "a list where an object is required",
      body: JSON.stringify(route.takesList ? [[route.valid]] : [route.valid]),
      message: route.takesList
        ? /^request body is invalid: \[0\]: must be an object, not a list$/
        : /^request body is invalid: must be an object, not a list$/,
    },
    {
      ...base,
      ...invalid,
      name: "an unknown field",
      body: JSON.stringify({ ...route.valid, [unknown]: true }),
      message: new RegExp(
        `^request body is invalid: unknown field "${unknown}" \\(expected [a-zA-Z, ]+\\)$`,
      ),
    },
    {
      ...base,
      ...invalid,
      name: "a missing field",
      body: JSON.stringify(Object.fromEntries(Object.entries(route.valid).slice(1))),
      message: route.path === "/manifest/ps" || route.path === "/tokens"
        ? undefined
        : /^request body is invalid: missing required field "\w+"$/,
      ...(route.path === "/manifest/ps" || route.path === "/tokens"
        ? { status: route.path === "/tokens" ? 201 : 200, code: "" }
        : {}),
    },
    {
      ...base,
      ...invalid,
      name: "a wrong type",
      body: JSON.stringify({ ...route.valid, [field]: value }),
      message,
    },
    {
      ...base,
      ...invalid,
      name: "a form body holding a secret",
      body: `password=${SECRET}&host=host-a`,
      type: "application/x-www-form-urlencoded",
      message: /^request body is not valid JSON: a value must come here \(line 1, column 1\)$/,
    },
    {
      ...base,
      ...invalid,
      name: "broken JSON holding a secret",
      body: `{\n  "host": "host-a",\n  "password": ${SECRET}\n}`,
      message: /^request body is not valid JSON: a value must come here \(line 3, column 15\)$/,
    },
    {
      ...base,
      ...invalid,
      name: "an unclosed string holding a secret",
      body: `{"password": "${SECRET}`,
      message: /^request body is not valid JSON: a string is not closed \(line 1, column 14\)$/,
    },
    {
      ...base,
      ...invalid,
      name: "100,000 nested lists",
      body: "[".repeat(DEEP) + "]".repeat(DEEP),
      message: /^request body is nested too deeply: it nests more than 64 levels deep/,
    },
    {
      ...base,
      ...invalid,
      name: "100,000 nested objects in a field",
      body: `{"host": ${'{"a":'.repeat(DEEP)}1${"}".repeat(DEEP)}}`,
      message: /^request body is nested too deeply/,
    },
    {
      ...base,
      name: "the wrong method",
      method: wrongMethod,
      body: undefined,
      status: 405,
      code: "method_not_allowed",
      message: new RegExp(
        `^${route.path.replaceAll("/", "\\/")} does not take ${wrongMethod}: use ${allow}$`,
      ),
      allow,
    },
  ];
}

function manifestAttacks(path: string): Attack[] {
  const base = { method: "POST", path };
  const json = { ...base, type: "application/json", status: 400, code: "invalid_manifest" };
  const manifest = { name: "shop", containers: [{ name: "web", host: "host-a", image: "nginx" }] };
  return [
    { ...json, name: "a list where a manifest is required", body: JSON.stringify([manifest]) },
    {
      ...json,
      name: "an unknown field",
      body: JSON.stringify({ ...manifest, force: true }),
      message: /force/,
    },
    {
      ...json,
      name: "a wrong type",
      body: JSON.stringify({ ...manifest, name: 3 }),
      message: /name/,
    },
    {
      ...json,
      name: "a form body holding a secret",
      body: `password=${SECRET}`,
    },
    {
      ...json,
      name: "broken JSON holding a secret",
      body: `{"name": "shop", "password": ${SECRET}}`,
    },
    {
      ...json,
      code: "invalid_manifest",
      name: "100,000 nested lists as JSON",
      body: `{"name": "shop", "containers": ${"[".repeat(DEEP)}${"]".repeat(DEEP)}}`,
      message: /manifest is nested too deeply: lists and mappings nest at most 64 levels/,
    },
    {
      ...base,
      type: "application/x-yaml",
      status: 400,
      code: "invalid_manifest",
      name: "100,000 nested flow lists as YAML",
      body: `name: shop\ncontainers: ${"[".repeat(DEEP)}${"]".repeat(DEEP)}\n`,
      message: /manifest is nested too deeply: lists and mappings nest at most 64 levels/,
    },
    {
      ...base,
      type: "application/x-yaml",
      status: 400,
      code: "invalid_manifest",
      name: "100,000 nested block lists as YAML",
      body: `name: shop\ncontainers:\n  ${"- ".repeat(DEEP)}x\n`,
      message: /manifest is nested too deeply: lists and mappings nest at most 64 levels/,
    },
    {
      ...base,
      name: "the wrong method",
      method: "GET",
      status: 405,
      code: "method_not_allowed",
      allow: "POST",
    },
  ];
}

/** The query attacks: for each route, wrong queries (whole), an unknown one, the wrong method. */
const QUERY_ATTACKS: Attack[] = [
  ...queryAttacks("GET", "/container", "host=host-a&index=0&wait=0", [
    ["host=host-a&host=host-b", /^query is invalid: host: must be given once, not 2 times$/],
    [
      "host=host-a&index=x",
      /^query is invalid: index: must be a whole number of 0 or more, not the string "x"$/,
    ],
    ["host=host-a&index=0&wait=soon", /^query is invalid: wait: "soon" is not a duration/],
    ["index=0", /^query is invalid: missing required query parameter "host"$/],
  ], "GET, HEAD"),
  ...queryAttacks("GET", "/events", "after=0", [
    ["after=1&after=2", /^query is invalid: after: must be given once, not 2 times$/],
    ["limit=many", /^query is invalid: limit: must be a whole number from 1 to 10000/],
    ["since=yesterday", /^query is invalid: since: must be a duration such as 10m or a time/],
    ["wait=1s", /^query is invalid: wait: needs after/],
  ], "GET, HEAD"),
  ...queryAttacks("GET", "/logs", "manifest=shop&container=web", [
    [
      "manifest=shop&manifest=blog&container=web",
      /^query is invalid: manifest: must be given once, not 2 times$/,
    ],
    ["manifest=shop&container=web&tail=x", /^query is invalid: tail: must be a whole number/],
    [
      "manifest=shop&container=web&follow=maybe",
      /^query is invalid: follow: must be true or false, not the string "maybe"$/,
    ],
  ], "GET, HEAD"),
  ...queryAttacks(
    "GET",
    "/agent/logs/requests",
    "host=host-a&wait=0",
    [
      ["host=host-a&host=host-a", /^query is invalid: host: must be given once, not 2 times$/],
      ["host=host-a&wait=-1s", /^query is invalid: wait: "-1s" is not a duration/],
    ],
    "GET, HEAD, POST",
    "PUT",
  ),
  ...queryAttacks(
    "POST",
    "/agent/logs/some-id",
    "host=host-a",
    [
      ["host=host-a&host=host-a", /^query is invalid: host: must be given once, not 2 times$/],
    ],
    "POST",
    "GET",
  ),
];

/**
 * The query attacks on one route: each `[query, message]` in `wrongs`, then `valid` with an
 * unknown parameter, then `valid` with the wrong method (`wrong`).
 */
function queryAttacks(
  method: string,
  path: string,
  valid: string,
  wrongs: [string, RegExp][],
  allow: string,
  wrong = method === "GET" ? "POST" : "GET",
): Attack[] {
  const invalid = { method, status: 400, code: "invalid_query" };
  const escaped = path.replaceAll("/", "\\/");
  return [
    ...wrongs.map(([query, message]): Attack => ({
      ...invalid,
      name: `${method} ${path}?${query}`,
      path: `${path}?${query}`,
      message,
    })),
    {
      ...invalid,
      name: `${method} ${path} with an unknown parameter`,
      path: `${path}?${valid}&force=1`,
      message: /^query is invalid: unknown query parameter "force" \(expected [a-z, ]+\)$/,
    },
    {
      name: `${wrong} ${path}`,
      method: wrong,
      path: `${path}?${valid}`,
      status: 405,
      code: "method_not_allowed",
      message: new RegExp(`^${escaped} does not take ${wrong}: use ${allow}$`),
      allow,
    },
  ];
}

async function attack(h: Harness, a: Attack): Promise<void> {
  const headers = new Headers();
  if (!a.anonymous) headers.set("authorization", `Bearer ${h.token}`);
  headers.set("content-type", a.type ?? "application/json");
  const res = await h.app.request(`${API_PREFIX}${a.path}`, {
    method: a.method,
    headers,
    body: a.body,
  });
  if (a.code === "") {
    // A variant the route accepts (an optional field left out): it must not fail.
    assert.equal(res.status, a.status, await res.text());
    return;
  }
  const text = await res.clone().text();
  const body = await assertError(res, a.status, a.code, a.message);
  assert.doesNotMatch(text, LEAK, "in our words");
  assert.ok(!text.includes(SECRET), "the body is never quoted back");
  assert.ok(!text.includes("hunter2"), "not even in part");
  if (a.allow !== undefined) assert.equal(res.headers.get("allow"), a.allow);
  for (const detail of body.error.details ?? []) assert.ok(detail.message.length > 0);
}

const GROUPS: [string, Attack[]][] = [
  ...BODY_ROUTES.map((r): [string, Attack[]] => [`POST ${r.path}`, bodyAttacks(r)]),
  ["POST /manifest/up", manifestAttacks("/manifest/up")],
  ["POST /manifest/diff", manifestAttacks("/manifest/diff")],
  ["queries", QUERY_ATTACKS],
];

for (const [group, attacks] of GROUPS) {
  Deno.test(`${group}: hostile input gets a 4xx in our words, and changes nothing`, async (t) => {
    const h = await seeded();
    try {
      const before = await snapshot(h);
      for (const a of attacks) {
        // A variant the route accepts may change something: it runs last, on its own.
        if (a.code === "") continue;
        await t.step(a.name, async () => {
          await attack(h, a);
          assert.deepEqual(await snapshot(h), before, "nothing stored changed");
        });
      }
      for (const a of attacks.filter((a) => a.code === "")) {
        await t.step(a.name, () => attack(h, a));
      }
    } finally {
      await h.close();
    }
  });
}

/** A body that sends its first bytes (a secret among them) and then nothing, never ending. */
function stalledBody(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(`{"manifest": "shop", "password": "${SECRET}`));
    },
  });
}

Deno.test("request heads and bodies past the limits get 431, 414 and 408 in our words, and change nothing", async (t) => {
  const h = await seeded({ bodyTimeoutMs: 200 });
  try {
    const before = await snapshot(h);
    const request = (path: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${h.token}`);
      return h.app.request(`${API_PREFIX}${path}`, { ...init, headers });
    };

    await t.step("headers over the limit, in one header", async () => {
      const res = await request("/manifest/ps", {
        method: "POST",
        headers: { "x-padding": "a".repeat(MAX_HEADER_BYTES) },
        body: "{}",
      });
      await assertError(
        res,
        431,
        "headers_too_large",
        /^request headers are \d+ bytes, larger than 16384 bytes$/,
      );
    });

    await t.step("headers over the limit, many small ones", async () => {
      const headers = Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [`x-pad-${i}`, "b".repeat(200)]),
      );
      const res = await request("/manifest/down", {
        method: "POST",
        headers,
        body: JSON.stringify({ manifest: "shop" }),
      });
      await assertError(res, 431, "headers_too_large");
    });

    await t.step("a query string over the limit", async () => {
      const res = await request(`/events?after=0&pad=${"c".repeat(MAX_QUERY_BYTES)}`, {
        method: "GET",
      });
      await assertError(
        res,
        414,
        "uri_too_long",
        /^query string is \d+ bytes, longer than 8192 bytes$/,
      );
    });

    await t.step("an anonymous request over the limits gets the same answer", async () => {
      const res = await h.app.request(`${API_PREFIX}/token?pad=${"d".repeat(MAX_QUERY_BYTES)}`, {
        method: "POST",
        body: JSON.stringify({ password: PASSWORD }),
      });
      await assertError(res, 414, "uri_too_long");
    });

    await t.step("a body that stops arriving", async () => {
      const res = await request("/manifest/down", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: stalledBody(),
      });
      assert.equal(res.headers.get("connection"), "close");
      const text = await res.clone().text();
      await assertError(
        res,
        408,
        "request_timeout",
        /^request body did not arrive within 200 ms$/,
      );
      assert.ok(!text.includes(SECRET), "the body is never quoted back");
    });

    await t.step("a manifest that stops arriving", async () => {
      const res = await request("/manifest/up", {
        method: "POST",
        headers: { "content-type": "application/x-yaml" },
        body: stalledBody(),
      });
      await assertError(res, 408, "request_timeout");
    });

    assert.deepEqual(await snapshot(h), before, "nothing stored changed");
  } finally {
    await h.close();
  }
});
