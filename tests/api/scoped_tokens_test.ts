import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import * as v from "valibot";
import { API_PREFIX, ROUTE_ACCESS, ruleFor } from "../../src/server/http/access.ts";
import {
  type TokenCreated,
  TokenCreatedSchema,
  TokenInfoSchema,
  type TokenScope,
} from "../../src/api/schemas.ts";
import { assertError, find, type Harness, openHarness, PASSWORD, SHOP_YAML } from "./harness.ts";

/** Sends a request with `token` (none when undefined), from `address` when given. */
function send(
  h: Harness,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  address?: string,
): Promise<Response> {
  const headers = new Headers();
  if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
  let payload: string | undefined;
  if (typeof body === "string") payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers.set("content-type", "application/json");
  }
  const env = address === undefined
    ? undefined
    : { remoteAddr: { hostname: address, port: 40000, transport: "tcp" } };
  return Promise.resolve(
    h.app.request(`${API_PREFIX}${path}`, { method, headers, body: payload }, env),
  );
}

/** Creates a token with the harness's admin token. */
async function issue(h: Harness, scope: TokenScope): Promise<TokenCreated> {
  const res = await h.call("POST", "/tokens", scope);
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return v.parse(TokenCreatedSchema, body);
}

/** A request path for a table pattern: a `:name` segment becomes a sample segment. */
function samplePath(pattern: string): string {
  return pattern.replace(/:[^/]+/g, "sample");
}

/** A body the route would accept from its rightful caller, so only access can refuse it. */
function sampleBody(method: string, path: string): string | undefined {
  if (method === "GET" || method === "HEAD") return undefined;
  if (path === "/manifest/up") return SHOP_YAML;
  return JSON.stringify({ host: "host-a", manifest: "shop", name: "web", state: "running" });
}

/**
 * Every route the app serves (from Hono's own route list) and every route of the access table,
 * as method and path under /api/v1: a route added without a table row is still enumerated.
 */
function everyRoute(h: Harness): { method: string; path: string }[] {
  const seen = new Map<string, { method: string; path: string }>();
  const add = (method: string, path: string) => seen.set(`${method} ${path}`, { method, path });
  for (const route of h.app.routes) {
    if (route.method === "ALL" || !route.path.startsWith(`${API_PREFIX}/`)) continue;
    add(route.method, route.path.slice(API_PREFIX.length));
  }
  for (const rule of ROUTE_ACCESS) add(rule.method, rule.path);
  return [...seen.values()];
}

Deno.test("a read token gets 403 on every route that is not a read, and changes nothing", async (t) => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const before = await h.ps();
    const { token } = await issue(h, { role: "read" });
    let refused = 0;
    for (const route of everyRoute(h)) {
      const rule = ruleFor(route.method, route.path);
      if (rule.need === "read" || rule.need === "none") continue;
      await t.step(`${route.method} ${route.path}`, async () => {
        const path = samplePath(route.path) + (rule.host === "query" ? "?host=host-a" : "");
        const res = await send(h, token, route.method, path, sampleBody(route.method, path));
        const body = await assertError(res, 403, "forbidden");
        assert.match(body.error.message, /role read/);
        assert.match(body.error.message, rule.need === "admin" ? /needs role admin/ : /agent/);
      });
      refused++;
    }
    assert.ok(refused >= 10, `the table and the app hold the mutating routes (${refused})`);
    assert.deepEqual(await h.ps(), before, "nothing changed");
  } finally {
    await h.close();
  }
});

Deno.test("a read token reads: ps answers 200 and no read route refuses it", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const { token } = await issue(h, { role: "read" });
    const ps = await send(h, token, "POST", "/manifest/ps", {});
    assert.equal(ps.status, 200);
    assert.deepEqual(await ps.json(), await h.ps());
    for (const rule of ROUTE_ACCESS.filter((r) => r.need === "read")) {
      const res = await send(h, token, rule.method, rule.path, sampleBody(rule.method, rule.path));
      assert.ok(![401, 403].includes(res.status), `${rule.method} ${rule.path}: ${res.status}`);
      await res.body?.cancel();
    }
    const unknown = await send(h, token, "GET", "/nope");
    await assertError(unknown, 403, "forbidden", /needs role admin/);
  } finally {
    await h.close();
  }
});

Deno.test("an agent token reads and reports for its own host only", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const agent = await issue(h, { role: "agent", host: "host-a" });
    assert.equal(agent.role, "agent");
    assert.equal(agent.host, "host-a");
    const { token } = agent;

    const own = await send(h, token, "GET", "/container?host=host-a");
    assert.equal(own.status, 200);
    assert.deepEqual((await own.json() as { host: string }[]).map((c) => c.host), ["host-a"]);
    const poll = await send(h, token, "GET", "/container?host=host-a&index=0&wait=0s");
    assert.equal(poll.status, 200);
    await poll.body?.cancel();

    for (const path of ["/container?host=host-b", "/container?host=host-b&index=0&wait=0s"]) {
      await assertError(
        await send(h, token, "GET", path),
        403,
        "forbidden",
        /role agent for host host-a, but GET \/container is for host host-b/,
      );
    }
    await assertError(await send(h, token, "GET", "/container"), 403, "forbidden", /no host/);
    await assertError(
      await send(h, token, "GET", "/container?host=host-a&host=host-b"),
      403,
      "forbidden",
    );

    const forB = { host: "host-b", manifest: "shop", name: "db", state: "running" };
    const forA = { host: "host-a", manifest: "shop", name: "web", state: "running" };
    await assertError(await send(h, token, "POST", "/state", forB), 403, "forbidden", /host-b/);
    const batch = await assertError(
      await send(h, token, "POST", "/state", [forA, forB]),
      403,
      "forbidden",
      /host-b/,
    );
    assert.deepEqual(batch.error.details, [{ path: "[1].host", message: "is host-b, not host-a" }]);
    assert.equal(
      find(await h.ps(), "shop", "web").state,
      "pending",
      "nothing of the batch applied",
    );
    await assertError(await send(h, token, "POST", "/state", "{"), 403, "forbidden", /no host/);

    const single = await send(h, token, "POST", "/state", forA);
    assert.equal(single.status, 204);
    const many = await send(h, token, "POST", "/state", [{ ...forA, state: "exited" }]);
    assert.equal(many.status, 200);
    assert.deepEqual(await many.json(), { applied: 1, unknown: [], stale: 0 });
    assert.equal(find(await h.ps(), "shop", "web").state, "exited");

    const agentRoutes = (host: string) =>
      [
        ["POST", "/hosts/register", { host }],
        ["GET", `/agent/logs/requests?host=${host}&wait=0s`, undefined],
        ["POST", `/agent/logs/sample?host=${host}`, "lines"],
      ] as const;
    for (const [method, path, body] of agentRoutes("host-b")) {
      await assertError(await send(h, token, method, path, body), 403, "forbidden", /host-b/);
    }
    for (const [method, path, body] of agentRoutes("host-a")) {
      const allowed = await send(h, token, method, path, body);
      assert.ok(![401, 403].includes(allowed.status), `${method} ${path}: ${allowed.status}`);
      await allowed.body?.cancel();
    }

    await assertError(
      await send(h, token, "POST", "/manifest/ps", {}),
      403,
      "forbidden",
      /role agent, but POST \/manifest\/ps needs role read or admin/,
    );
    await assertError(
      await send(h, token, "POST", "/manifest/up", SHOP_YAML),
      403,
      "forbidden",
      /needs role admin/,
    );
    const admin = await h.call("GET", "/container?host=host-b");
    assert.equal(admin.status, 200, "an admin token acts for every host");
    await admin.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("a token past its ttl answers 401 token expired", async () => {
  const h = await openHarness();
  try {
    const short = await issue(h, { role: "read", ttl: "1h" });
    assert.equal(short.expiresAt, new Date(h.clock.now() + 3_600_000).toISOString());
    const lasting = await issue(h, { role: "read", ttl: "30d" });
    assert.equal(lasting.expiresAt, new Date(h.clock.now() + 30 * 86_400_000).toISOString());
    h.clock.advance(3_600_000 - 1);
    const first = await send(h, short.token, "POST", "/manifest/ps", {});
    assert.equal(first.status, 200, "valid until its last millisecond");
    await first.body?.cancel();
    h.clock.advance(1);
    const res = await send(h, short.token, "POST", "/manifest/ps", {});
    await assertError(res, 401, "unauthorized", /^token expired$/);
    assert.equal(res.headers.get("www-authenticate"), "Bearer");
    const still = await send(h, lasting.token, "POST", "/manifest/ps", {});
    assert.equal(still.status, 200);
    await still.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("a revoked token answers 401 at once; revoke needs admin and a known id", async () => {
  const h = await openHarness();
  try {
    const read = await issue(h, { role: "read" });
    const agent = await issue(h, { role: "agent", host: "host-a" });
    await assertError(
      await send(h, read.token, "POST", "/tokens/revoke", { id: agent.id }),
      403,
      "forbidden",
    );
    const revoke = await h.call("POST", "/tokens/revoke", { id: agent.id });
    assert.equal(revoke.status, 204);
    assert.equal(await revoke.text(), "");
    await assertError(
      await send(h, agent.token, "GET", "/container?host=host-a"),
      401,
      "unauthorized",
      /^token revoked$/,
    );
    const again = await h.call("POST", "/tokens/revoke", { id: agent.id });
    assert.equal(again.status, 204, "revoking twice is fine");
    await assertError(
      await h.call("POST", "/tokens/revoke", { id: "nope" }),
      404,
      "not_found",
      /no token with id nope/,
    );
    await assertError(await h.call("POST", "/tokens/revoke", {}), 400, "invalid_body");
    const ps = await send(h, read.token, "POST", "/manifest/ps", {});
    assert.equal(ps.status, 200, "other tokens keep working");
    await ps.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("GET /tokens lists every token with its scope and never a secret", async () => {
  const h = await openHarness();
  try {
    const read = await issue(h, { role: "read", ttl: "1h" });
    const agent = await issue(h, { role: "agent", host: "host-a" });
    const used = await send(h, read.token, "POST", "/manifest/ps", {});
    await used.body?.cancel();
    await h.call("POST", "/tokens/revoke", { id: agent.id });
    await assertError(await send(h, read.token, "GET", "/tokens"), 403, "forbidden");

    const res = await h.call("GET", "/tokens");
    assert.equal(res.status, 200);
    const text = await res.text();
    const list = v.parse(v.array(TokenInfoSchema), JSON.parse(text));
    assert.deepEqual(list.map((t) => [t.id, t.role, t.host, t.revoked]), [
      [list[0].id, "admin", undefined, false],
      [read.id, "read", undefined, false],
      [agent.id, "agent", "host-a", true],
    ]);
    for (const t of list) assert.match(t.id, /^[0-9a-f]{12}$/);
    assert.equal(list[1].expiresAt, read.expiresAt);
    assert.ok(list[1].lastUsedAt !== undefined, "a use is recorded");
    assert.equal(list[2].lastUsedAt, undefined);
    for (const secret of [h.token, read.token, agent.token]) {
      assert.ok(!text.includes(secret), "no token in the list");
      const hash = createHash("sha256").update(secret).digest("hex");
      assert.ok(!text.includes(hash), "no hash in the list");
    }
  } finally {
    await h.close();
  }
});

Deno.test("POST /token gives admin by default and takes a role, host and ttl", async () => {
  const h = await openHarness();
  try {
    const plain = await send(h, undefined, "POST", "/token", { password: PASSWORD });
    assert.equal(plain.status, 201);
    const admin = v.parse(TokenCreatedSchema, await plain.json());
    assert.equal(admin.role, "admin");
    assert.equal(admin.expiresAt, undefined);

    const scoped = await send(h, undefined, "POST", "/token", {
      password: PASSWORD,
      role: "agent",
      host: "host-b",
      ttl: "1h",
    });
    assert.equal(scoped.status, 201);
    const agent = v.parse(TokenCreatedSchema, await scoped.json());
    assert.deepEqual([agent.role, agent.host], ["agent", "host-b"]);
    const own = await send(h, agent.token, "GET", "/container?host=host-b");
    assert.equal(own.status, 200);
    await own.body?.cancel();

    const bad: [unknown, string][] = [
      [{ password: PASSWORD, role: "agent" }, "host"],
      [{ password: PASSWORD, role: "read", host: "host-a" }, "host"],
      [{ password: PASSWORD, host: "host-a" }, "host"],
      [{ password: PASSWORD, role: "root" }, "role"],
      [{ password: PASSWORD, ttl: "soon" }, "ttl"],
      [{ password: PASSWORD, ttl: "0s" }, "ttl"],
      [{ password: PASSWORD, ttl: "3651d" }, "ttl"],
    ];
    for (const [body, path] of bad) {
      const error = await assertError(
        await send(h, undefined, "POST", "/token", body),
        400,
        "invalid_body",
      );
      assert.equal(error.error.details?.[0].path, path, JSON.stringify(body));
    }
    const viaTokens = await assertError(
      await h.call("POST", "/tokens", { role: "agent" }),
      400,
      "invalid_body",
    );
    assert.equal(viaTokens.error.details?.[0].path, "host");
    await assertError(
      await h.call("POST", "/tokens", { password: PASSWORD }),
      400,
      "invalid_body",
      /password/,
    );
  } finally {
    await h.close();
  }
});

Deno.test("five failed passwords in a minute from one address answer 429 with Retry-After", async () => {
  const h = await openHarness();
  try {
    const attempt = (address: string, password: string) =>
      send(h, undefined, "POST", "/token", { password }, address);
    for (let i = 0; i < 5; i++) {
      await assertError(await attempt("10.0.0.1", "wrong"), 401, "unauthorized", /wrong password/);
    }
    for (const password of ["wrong", PASSWORD]) {
      const res = await attempt("10.0.0.1", password);
      await assertError(res, 429, "rate_limited", /too many failed password attempts/);
      const retry = Number(res.headers.get("retry-after"));
      assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    }
    const other = await attempt("10.0.0.2", PASSWORD);
    assert.equal(other.status, 201, "another address is not limited");
    await other.body?.cancel();

    for (let i = 0; i < 4; i++) await (await attempt("10.0.0.3", "wrong")).body?.cancel();
    const success = await attempt("10.0.0.3", PASSWORD);
    assert.equal(success.status, 201);
    await success.body?.cancel();
    for (let i = 0; i < 5; i++) {
      await assertError(await attempt("10.0.0.3", "wrong"), 401, "unauthorized");
    }
    await assertError(await attempt("10.0.0.3", PASSWORD), 429, "rate_limited");

    const malformed = await send(h, undefined, "POST", "/token", "{", "10.0.0.4");
    await assertError(malformed, 400, "invalid_body");
    const afterMalformed = await attempt("10.0.0.4", PASSWORD);
    assert.equal(afterMalformed.status, 201, "a malformed body is not a failed password");
    await afterMalformed.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("a data dir from before scoped tokens keeps its tokens, as admin tokens", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-api-test-" });
  const old = "old-token-from-before-scoped-tokens";
  const db = new DatabaseSync(join(dataDir, "launcher.db"));
  db.exec(
    "CREATE TABLE tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, " +
      "created_at TEXT NOT NULL) STRICT",
  );
  db.prepare("INSERT INTO tokens VALUES (?, ?, ?)").run(
    crypto.randomUUID(),
    createHash("sha256").update(old).digest("hex"),
    "2024-01-01T00:00:00.000Z",
  );
  db.close();
  const h = await openHarness({ dataDir, token: old });
  try {
    await h.up(SHOP_YAML);
    const res = await h.call("GET", "/tokens");
    assert.equal(res.status, 200);
    const list = v.parse(v.array(TokenInfoSchema), await res.json());
    assert.equal(list.length, 1);
    assert.equal(list[0].role, "admin");
    assert.equal(list[0].createdAt, "2024-01-01T00:00:00.000Z");
    assert.match(list[0].id, /^[0-9a-f]{12}$/, "the UUID id became a short one");
  } finally {
    await h.close(true);
  }
  const again = await openHarness({ dataDir, token: old });
  try {
    assert.equal((await again.ps()).length, 2, "reopening a migrated store changes nothing");
  } finally {
    await again.close();
  }
});
