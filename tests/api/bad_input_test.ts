import assert from "node:assert/strict";
import { MAX_BODY_BYTES } from "../../src/server/http/app.ts";
import { SecretBox } from "../../src/server/secret_box.ts";
import { assertError, BLOG_YAML, type Harness, openHarness, SHOP_YAML } from "./harness.ts";

/** What a bad request must leave untouched: every container, secret and host's index. */
async function snapshot(h: Harness) {
  return {
    ps: await h.ps(),
    secrets: await h.planner.secrets.list(),
    indexes: await Promise.all(
      ["host-a", "host-b", "host-c"].map((host) => h.planner.hostIndex(host)),
    ),
  };
}

/** One bad request and the error it must get. */
interface Case {
  name: string;
  method?: string;
  path: string;
  /** Bytes go out without a Content-Type (a string body would get `text/plain`). */
  body?: string | Uint8Array<ArrayBuffer>;
  type?: string;
  status: number;
  code: string;
  message?: RegExp;
  /** Whether the answer must carry per-field details. */
  details?: boolean;
}

const yaml = (body: string): Pick<Case, "path" | "body" | "type"> => ({
  path: "/manifest/up",
  body,
  type: "application/x-yaml",
});

const MANIFEST_CASES: Case[] = [
  {
    name: "malformed YAML",
    ...yaml("name: shop\ncontainers:\n  - name: web\n    host: [unclosed\n"),
    status: 400,
    code: "invalid_manifest",
    details: true,
  },
  {
    name: "an unknown key",
    ...yaml(SHOP_YAML.replace("image: nginx:1.27", "image: nginx:1.27\n    imagee: typo")),
    status: 400,
    code: "invalid_manifest",
    details: true,
  },
  {
    name: "an unknown top-level key",
    ...yaml(`version: 2\n${SHOP_YAML}`),
    status: 400,
    code: "invalid_manifest",
    details: true,
  },
  {
    name: "duplicate container names",
    ...yaml(SHOP_YAML.replace("name: db", "name: web")),
    status: 400,
    code: "invalid_manifest",
    details: true,
  },
  {
    name: "a bad port",
    ...yaml(SHOP_YAML.replace('"8080:80"', '"80800:80"')),
    status: 400,
    code: "invalid_manifest",
    details: true,
  },
  {
    name: "a bad option",
    ...yaml(
      SHOP_YAML.replace("image: postgres:16", 'image: postgres:16\n    options: ["--bogus"]'),
    ),
    status: 400,
    code: "invalid_manifest",
    details: true,
  },
  {
    name: "a bad manifest name",
    ...yaml(SHOP_YAML.replace("name: shop", "name: Shop_1")),
    status: 400,
    code: "invalid_manifest",
    details: true,
  },
  {
    name: "a wrong type",
    ...yaml(SHOP_YAML.replace("image: nginx:1.27", "image: 42")),
    status: 400,
    code: "invalid_manifest",
    details: true,
  },
  {
    name: "YAML sent as JSON",
    path: "/manifest/up",
    body: SHOP_YAML,
    type: "application/json",
    status: 400,
    code: "invalid_manifest",
    details: true,
  },
  {
    name: "JSON sent as YAML",
    ...yaml(JSON.stringify({ name: "shop", containers: [] })),
    status: 400,
    code: "invalid_manifest",
    message: /application\/json/,
    details: true,
  },
  { name: "an empty YAML body", ...yaml(""), status: 400, code: "invalid_body", message: /empty/ },
  {
    name: "a blank JSON body",
    path: "/manifest/up",
    body: "  \n",
    type: "application/json",
    status: 400,
    code: "invalid_body",
    message: /empty/,
  },
  {
    name: "a secret that does not exist",
    ...yaml(SHOP_YAML.replace("POSTGRES_PASSWORD: x", "POSTGRES_PASSWORD: { secret: nope }")),
    status: 400,
    code: "invalid_manifest",
    message:
      /^containers\[1\]\.environment\.POSTGRES_PASSWORD\.secret \(line 10, column \d+\): secret nope does not exist/,
    details: true,
  },
  {
    name: "a secret reference with another key",
    ...yaml(
      SHOP_YAML.replace("POSTGRES_PASSWORD: x", "POSTGRES_PASSWORD: { secret: pw, from: x }"),
    ),
    status: 400,
    code: "invalid_manifest",
    message: /POSTGRES_PASSWORD\.from .*unknown key "from"/,
    details: true,
  },
  {
    name: "a secret reference with a bad name",
    ...yaml(SHOP_YAML.replace("POSTGRES_PASSWORD: x", "POSTGRES_PASSWORD: { secret: Not_Ok }")),
    status: 400,
    code: "invalid_manifest",
    message: /POSTGRES_PASSWORD\.secret .*must be a secret name/,
    details: true,
  },
  {
    name: "a variable given a list",
    ...yaml(SHOP_YAML.replace("POSTGRES_PASSWORD: x", "POSTGRES_PASSWORD: [pw]")),
    status: 400,
    code: "invalid_manifest",
    message: /must be a string, number, boolean or \{ secret: NAME \}/,
    details: true,
  },
  {
    name: "a manifest as text/plain",
    path: "/manifest/up",
    body: SHOP_YAML,
    type: "text/plain",
    status: 415,
    code: "unsupported_media_type",
    message: /text\/plain/,
  },
  {
    name: "a manifest without a content type",
    path: "/manifest/up",
    body: new TextEncoder().encode(SHOP_YAML),
    status: 415,
    code: "unsupported_media_type",
    message: /\(none\)/,
  },
  {
    name: "a manifest over 1 MiB",
    ...yaml(`${SHOP_YAML}# ${"x".repeat(MAX_BODY_BYTES)}\n`),
    status: 413,
    code: "payload_too_large",
  },
];

const JSON_CASES: Case[] = [
  {
    name: "down with invalid JSON",
    path: "/manifest/down",
    body: '{"manifest": ',
    status: 400,
    code: "invalid_body",
    message: /not valid JSON/,
  },
  {
    name: "down with an empty body",
    path: "/manifest/down",
    body: "",
    status: 400,
    code: "invalid_body",
    message: /empty/,
  },
  {
    name: "down without a manifest",
    path: "/manifest/down",
    body: "{}",
    status: 400,
    code: "invalid_body",
    details: true,
  },
  {
    name: "down with an unknown key",
    path: "/manifest/down",
    body: '{"manifest": "shop", "force": true}',
    status: 400,
    code: "invalid_body",
    message: /force/,
    details: true,
  },
  {
    name: "down with a bad name",
    path: "/manifest/down",
    body: '{"manifest": "Shop!"}',
    status: 400,
    code: "invalid_body",
    message: /^request body is invalid: manifest: /,
    details: true,
  },
  {
    name: "down with an array",
    path: "/manifest/down",
    body: '["shop"]',
    status: 400,
    code: "invalid_body",
  },
  {
    name: "down as a form",
    path: "/manifest/down",
    body: "manifest=shop",
    type: "application/x-www-form-urlencoded",
    status: 400,
    code: "invalid_body",
    message: /not valid JSON/,
  },
  {
    name: "down of an unknown manifest",
    path: "/manifest/down",
    body: '{"manifest": "nope"}',
    status: 404,
    code: "not_found",
    message: /manifest nope not found/,
  },
  {
    name: "ps with a bad name",
    path: "/manifest/ps",
    body: '{"manifest": 3}',
    status: 400,
    code: "invalid_body",
    details: true,
  },
  {
    name: "ps with invalid JSON",
    path: "/manifest/ps",
    body: "{",
    status: 400,
    code: "invalid_body",
  },
  {
    name: "an unknown action",
    path: "/container/action",
    body: '{"action": "pause", "host": "host-a", "container": "web"}',
    status: 400,
    code: "invalid_body",
    message: /action/,
    details: true,
  },
  {
    name: "an action without a host",
    path: "/container/action",
    body: '{"action": "stop", "container": "web"}',
    status: 400,
    code: "invalid_body",
    details: true,
  },
  {
    name: "an action with an empty body",
    path: "/container/action",
    body: "",
    status: 400,
    code: "invalid_body",
  },
  {
    name: "an action on an unknown container",
    path: "/container/action",
    body: '{"action": "stop", "host": "host-a", "container": "nope"}',
    status: 404,
    code: "not_found",
  },
  {
    name: "an action on an unknown host",
    path: "/container/action",
    body: '{"action": "stop", "host": "host-z", "container": "web"}',
    status: 404,
    code: "not_found",
  },
  {
    name: "an action on an ambiguous name",
    path: "/container/action",
    body: '{"action": "rm", "host": "host-a", "container": "web"}',
    status: 409,
    code: "conflict",
  },
  {
    name: "a report with an unknown state",
    path: "/state",
    body: '{"host": "host-a", "name": "web", "manifest": "shop", "state": "sleeping"}',
    status: 400,
    code: "invalid_body",
    message: /state/,
    details: true,
  },
  {
    name: "a batch with one bad report",
    path: "/state",
    body: JSON.stringify([
      { host: "host-b", name: "db", state: "running" },
      { host: "host-b", name: "db", state: "running", exitCode: 1.5 },
    ]),
    status: 400,
    code: "invalid_body",
    message: /^request body is invalid: \[1\]\.exitCode: /,
    details: true,
  },
  {
    name: "an empty batch",
    path: "/state",
    body: "[]",
    status: 400,
    code: "invalid_body",
    message: /at least one report/,
  },
  {
    name: "a report with an empty body",
    path: "/state",
    body: "",
    status: 400,
    code: "invalid_body",
  },
  {
    name: "a report for an unknown container",
    path: "/state",
    body: '{"host": "host-a", "name": "nope", "state": "running"}',
    status: 404,
    code: "not_found",
  },
  {
    name: "a report for an ambiguous name",
    path: "/state",
    body: '{"host": "host-a", "name": "web", "state": "running"}',
    status: 409,
    code: "conflict",
  },
  {
    name: "a batch over 1 MiB",
    path: "/state",
    body: JSON.stringify(
      Array.from(
        { length: 20_000 },
        () => ({ host: "host-b", name: "db", state: "running", error: "x".repeat(50) }),
      ),
    ),
    status: 413,
    code: "payload_too_large",
  },
];

/** A secret's value as the bad cases send it: no error may carry it back. */
const SECRET_VALUE = "hunter2-bad-input";

const SECRET_CASES: Case[] = [
  {
    name: "a secret without a value",
    path: "/secrets",
    body: '{"name": "pw"}',
    status: 400,
    code: "invalid_body",
    message: /missing required field "value"/,
  },
  {
    name: "a secret with an empty value",
    path: "/secrets",
    body: '{"name": "pw", "value": ""}',
    status: 400,
    code: "invalid_body",
    message: /value: must not be empty/,
  },
  {
    name: "a secret whose value is not a string",
    path: "/secrets",
    body: '{"name": "pw", "value": 31337}',
    status: 400,
    code: "invalid_body",
    message: /value: must be a string$/,
  },
  {
    name: "a secret with a bad name",
    path: "/secrets",
    body: JSON.stringify({ name: "Bad_Name", value: SECRET_VALUE }),
    status: 400,
    code: "invalid_body",
    message: /name: must be a secret name/,
  },
  {
    name: "a secret with an unknown field",
    path: "/secrets",
    body: JSON.stringify({ name: "pw", value: SECRET_VALUE, ttl: "1d" }),
    status: 400,
    code: "invalid_body",
    message: /unknown field "ttl"/,
  },
  {
    name: "a secret over 64 KiB",
    path: "/secrets",
    body: JSON.stringify({ name: "pw", value: SECRET_VALUE.repeat(5000) }),
    status: 400,
    code: "invalid_body",
    message: /value: must be at most 65536 bytes/,
  },
  {
    name: "removing a secret that does not exist",
    path: "/secrets/remove",
    body: '{"name": "nope"}',
    status: 404,
    code: "not_found",
    message: /secret nope not found/,
  },
];

const QUERY_CASES: Case[] = [
  {
    name: "no host",
    method: "GET",
    path: "/container",
    status: 400,
    code: "invalid_query",
    message: /missing required query parameter "host"/,
  },
  {
    name: "an empty host",
    method: "GET",
    path: "/container?host=",
    status: 400,
    code: "invalid_query",
  },
  {
    name: "a bad host",
    method: "GET",
    path: "/container?host=bad%20host",
    status: 400,
    code: "invalid_query",
    details: true,
  },
  {
    name: "a negative index",
    method: "GET",
    path: "/container?host=host-a&index=-1",
    status: 400,
    code: "invalid_query",
    message: /index/,
  },
  {
    name: "a bad wait",
    method: "GET",
    path: "/container?host=host-a&index=0&wait=soon",
    status: 400,
    code: "invalid_query",
    message: /wait/,
  },
];

for (
  const [group, cases] of [
    ["manifest up", MANIFEST_CASES],
    ["JSON bodies", JSON_CASES],
    ["secrets", SECRET_CASES],
    ["queries", QUERY_CASES],
  ] as const
) {
  Deno.test(`${group}: bad input answers a 4xx with the error shape and changes nothing`, async (t) => {
    const secretBox = await SecretBox.fromKey(crypto.getRandomValues(new Uint8Array(32)));
    const h = await openHarness({ secretBox });
    try {
      await h.up(SHOP_YAML);
      await h.up(BLOG_YAML);
      const before = await snapshot(h);
      for (const c of cases) {
        await t.step(c.name, async () => {
          const headers: Record<string, string> = {};
          if (c.type) headers["content-type"] = c.type;
          else if (typeof c.body === "string" && c.path !== "/manifest/up") {
            headers["content-type"] = "application/json";
          }
          const res = await h.call(c.method ?? "POST", c.path, c.body, headers);
          const body = await assertError(res, c.status, c.code, c.message);
          assert.ok(!JSON.stringify(body).includes(SECRET_VALUE), "no error carries a value back");
          if (c.details) {
            assert.ok(body.error.details && body.error.details.length > 0, "details are given");
            for (const d of body.error.details) assert.ok(d.message.length > 0);
          }
          assert.deepEqual(await snapshot(h), before);
        });
      }
    } finally {
      await h.close();
    }
  });
}

Deno.test("the 1 MiB limit holds with and without Content-Length", async () => {
  const h = await openHarness();
  try {
    const big = `${SHOP_YAML}# ${"x".repeat(MAX_BODY_BYTES)}\n`;
    const bytes = new TextEncoder().encode(big);
    const withLength = await h.app.request("/api/v1/manifest/up", {
      method: "POST",
      headers: {
        authorization: `Bearer ${h.token}`,
        "content-type": "application/x-yaml",
        "content-length": String(bytes.length),
      },
      body: bytes,
    });
    await assertError(withLength, 413, "payload_too_large");
    const streamed = await h.app.request("/api/v1/manifest/up", {
      method: "POST",
      headers: { authorization: `Bearer ${h.token}`, "content-type": "application/x-yaml" },
      body: new Blob([bytes]).stream(),
    });
    await assertError(streamed, 413, "payload_too_large");
    const exact = `${SHOP_YAML}#`.padEnd(MAX_BODY_BYTES, "x");
    assert.deepEqual((await h.up(exact)).created, ["web", "db"], "1 MiB itself is accepted");
  } finally {
    await h.close();
  }
});

Deno.test("manifest errors carry the parser's path, line and column", async () => {
  const h = await openHarness();
  try {
    const res = await h.call(
      "POST",
      "/manifest/up",
      SHOP_YAML.replace("image: nginx:1.27", "image: nginx:1.27\n    imagee: typo"),
      { "content-type": "application/x-yaml" },
    );
    const body = await assertError(res, 400, "invalid_manifest", /imagee/);
    assert.equal(body.error.details?.length, 1);
    const [detail] = body.error.details ?? [];
    assert.equal(detail.path, "containers[0].imagee");
    assert.equal(detail.line, 6);
    assert.equal(detail.column, 5);
  } finally {
    await h.close();
  }
});

Deno.test("body errors name the field the same way", async () => {
  const h = await openHarness();
  try {
    const res = await h.call("POST", "/state", [
      { host: "host-a", name: "web", state: "running" },
      { host: "host-a", name: "web", state: "running", exitCode: "1" },
    ]);
    const body = await assertError(res, 400, "invalid_body");
    assert.deepEqual(body.error.details?.map((d) => d.path), ["[1].exitCode"]);
  } finally {
    await h.close();
  }
});

Deno.test("an unexpected failure answers 500 internal and is logged", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-api-test-" });
  const { Planner } = await import("../../src/server/planner.ts");
  const { openStore } = await import("../../src/server/store/store.ts");
  const { createApp } = await import("../../src/server/http/app.ts");
  const planner = await Planner.open(await openStore(dataDir));
  const lines: string[] = [];
  const app = createApp({ planner, password: "pw", log: (line) => lines.push(line) });
  try {
    const res = await app.request("/api/v1/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"password":"pw"}',
    });
    const { token } = await res.json() as { token: string };
    await planner.store.close();
    const broken = await app.request("/api/v1/manifest/ps", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    await assertError(broken, 500, "internal", /^internal server error$/);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /internal error on POST \/api\/v1\/manifest\/ps/);
  } finally {
    await planner.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
