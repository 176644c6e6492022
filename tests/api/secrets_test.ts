/**
 * Secrets through the API, in process: set, list and remove; references refused at the door when
 * the secret is missing; the value only in the desired list of the host that runs the container,
 * and nowhere a reader looks; admin only; a new value changes the hash agents see, the same value
 * does not; the value never in the SQLite file or its WAL.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as v from "valibot";
import {
  type ContainerStatus,
  ContainerStatusSchema,
  type SecretSetResult,
  SecretSetResultSchema,
  type TokenScope,
} from "../../src/api/schemas.ts";
import { API_PREFIX } from "../../src/server/http/access.ts";
import { SecretBox } from "../../src/server/secret_box.ts";
import { parseManifest } from "../../src/manifest/parse.ts";
import { assertError, find, type Harness, openHarness, sqliteDataDir } from "./harness.ts";

const VALUE = "correct-horse-battery-staple";
const NEW_VALUE = "tr0ub4dor&3-rotated";

const SHOP = `name: shop
containers:
  - name: api
    host: host-a
    image: busybox:1.36
    environment:
      MODE: prod
      DB_PASSWORD: { secret: db-password }
  - name: db
    host: host-b
    image: busybox:1.36
    environment: { POSTGRES_PASSWORD: plain }
`;

/** A harness whose server has a secret key; on a SQLite data dir when `dataDir` is given. */
async function harness(dataDir?: string): Promise<Harness> {
  const secretBox = await SecretBox.fromKey(crypto.getRandomValues(new Uint8Array(32)));
  return await openHarness({ secretBox, ...(dataDir === undefined ? {} : { dataDir }) });
}

async function setSecret(h: Harness, name: string, value: string): Promise<SecretSetResult> {
  const res = await h.call("POST", "/secrets", { name, value });
  const body = await res.json();
  assert.ok(res.status === 200 || res.status === 201, JSON.stringify(body));
  return v.parse(SecretSetResultSchema, body);
}

/** A host's desired list as its agent (or `token`) reads it. */
async function desired(h: Harness, host: string, token = h.token): Promise<ContainerStatus[]> {
  const res = await send(h, token, "GET", `/container?host=${host}`);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return v.parse(v.array(ContainerStatusSchema), body);
}

function send(h: Harness, token: string, method: string, path: string, body?: unknown) {
  const headers = new Headers({ authorization: `Bearer ${token}` });
  if (body !== undefined) headers.set("content-type", "application/json");
  return Promise.resolve(h.app.request(`${API_PREFIX}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  }));
}

async function issue(h: Harness, scope: TokenScope): Promise<string> {
  const res = await h.call("POST", "/tokens", scope);
  assert.equal(res.status, 201);
  return ((await res.json()) as { token: string }).token;
}

/** Every answer a reader gets about the manifest, as text. */
async function readerTexts(h: Harness): Promise<string> {
  const answers = [
    await h.call("POST", "/manifest/ps", {}),
    await h.call("GET", "/manifests"),
    await h.call("GET", "/events?limit=1000"),
    await h.call("GET", "/secrets"),
    await h.call("GET", "/hosts"),
    await h.call("POST", "/manifest/history", { manifest: "shop" }),
    await h.call("POST", "/manifest/diff", SHOP, { "content-type": "application/x-yaml" }),
  ];
  const texts = [];
  for (const res of answers) {
    const text = await res.text();
    assert.equal(res.status, 200, text);
    texts.push(text);
  }
  return texts.join("\n");
}

Deno.test("secrets are set, listed without their values, and removed once unused", async () => {
  const h = await harness();
  try {
    assert.deepEqual(await setSecret(h, "db-password", VALUE), {
      name: "db-password",
      created: true,
      changed: true,
      recreated: [],
    });
    await h.up(SHOP);
    const res = await h.call("GET", "/secrets");
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.ok(!text.includes(VALUE));
    const [info] = JSON.parse(text);
    assert.equal(info.name, "db-password");
    assert.deepEqual(info.manifests, ["shop"]);
    assert.deepEqual(info.containers, ["shop/api"]);

    await assertError(
      await h.call("POST", "/secrets/remove", { name: "db-password" }),
      409,
      "conflict",
      /secret db-password is used by manifest shop/,
    );
    await h.call("POST", "/manifest/down", { manifest: "shop" });
    // Still referred to by containers being removed: their agents have not said they are gone.
    await assertError(
      await h.call("POST", "/secrets/remove", { name: "db-password" }),
      409,
      "conflict",
    );
    for (const host of ["host-a", "host-b"]) {
      for (const c of await h.ps()) {
        if (c.host !== host) continue;
        const report = { host, name: c.config.name, manifest: "shop", state: "removed" };
        assert.equal((await h.call("POST", "/state", report)).status, 204);
      }
    }
    assert.equal((await h.call("POST", "/secrets/remove", { name: "db-password" })).status, 204);
    assert.deepEqual(await (await h.call("GET", "/secrets")).json(), []);
    const events = (await (await h.call("GET", "/events")).json()).events
      .filter((e: { kind: string }) => e.kind === "secret")
      .map((e: { action: string; secret: string }) => `${e.action} ${e.secret}`);
    assert.deepEqual(events, ["set db-password", "remove db-password"]);
  } finally {
    await h.close();
  }
});

Deno.test("a manifest naming a missing secret is refused at the door, nothing stored", async () => {
  const h = await harness();
  try {
    for (const path of ["/manifest/up", "/manifest/diff"]) {
      const body = await assertError(
        await h.call("POST", path, SHOP, { "content-type": "application/x-yaml" }),
        400,
        "invalid_manifest",
        /^containers\[0\]\.environment\.DB_PASSWORD\.secret \(line 8, column 30\): secret db-password does not exist/,
      );
      assert.deepEqual(body.error.details?.[0], {
        path: "containers[0].environment.DB_PASSWORD.secret",
        message: "secret db-password does not exist: set it first with launcher secret set " +
          "db-password",
        line: 8,
        column: 30,
      });
    }
    // Checked again in the transaction that would store it (a secret removed meanwhile).
    await assert.rejects(h.planner.up(parseManifest(SHOP, "yaml")), (error: Error) => {
      assert.equal(
        error.message,
        "containers[0].environment.DB_PASSWORD.secret: secret db-password does not exist: set " +
          "it first with launcher secret set db-password",
      );
      return true;
    });
    assert.deepEqual(await h.ps(), []);
    assert.equal(await h.planner.hostIndex("host-a"), 0);
  } finally {
    await h.close();
  }
});

Deno.test("a server without a secret key refuses secrets and references to them", async () => {
  const h = await openHarness();
  try {
    await assertError(
      await h.call("POST", "/secrets", { name: "db-password", value: VALUE }),
      503,
      "secrets_disabled",
      /--secret-key-file/,
    );
    await assertError(
      await h.call("POST", "/manifest/up", SHOP, { "content-type": "application/x-yaml" }),
      400,
      "invalid_manifest",
      /DB_PASSWORD\.secret \(line 8, column 30\): this server keeps no secrets/,
    );
  } finally {
    await h.close();
  }
});

Deno.test("the value is only in the desired list of the container's host", async () => {
  const h = await harness();
  try {
    await setSecret(h, "db-password", VALUE);
    await h.up(SHOP);
    const agentA = await issue(h, { role: "agent", host: "host-a" });
    const [api] = await desired(h, "host-a", agentA);
    assert.deepEqual(api.normalized.environment, { MODE: "prod", DB_PASSWORD: VALUE });
    assert.deepEqual(api.config.environment, {
      MODE: "prod",
      DB_PASSWORD: { secret: "db-password" },
    });
    // An admin may read any host's list, as an agent would.
    assert.equal((await desired(h, "host-a"))[0].normalized.environment.DB_PASSWORD, VALUE);
    assert.ok(!JSON.stringify(await desired(h, "host-b")).includes(VALUE));

    // Another host's agent and a read token get no list of host-a at all.
    const agentB = await issue(h, { role: "agent", host: "host-b" });
    const reader = await issue(h, { role: "read" });
    await assertError(await send(h, agentB, "GET", "/container?host=host-a"), 403, "forbidden");
    await assertError(await send(h, reader, "GET", "/container?host=host-a"), 403, "forbidden");

    const texts = await readerTexts(h);
    assert.ok(!texts.includes(VALUE), "no reader's answer holds the value");
    assert.ok(texts.includes('"DB_PASSWORD":{"secret":"db-password"}'), "they hold the reference");
    assert.deepEqual(find(await h.ps(), "shop", "api").normalized.environment.DB_PASSWORD, {
      secret: "db-password",
    });
  } finally {
    await h.close();
  }
});

Deno.test("only admin tokens set, list and remove secrets", async () => {
  const h = await harness();
  try {
    const reader = await issue(h, { role: "read" });
    const agent = await issue(h, { role: "agent", host: "host-a" });
    for (const token of [reader, agent]) {
      await assertError(
        await send(h, token, "POST", "/secrets", { name: "x", value: VALUE }),
        403,
        "forbidden",
      );
      await assertError(await send(h, token, "GET", "/secrets"), 403, "forbidden");
      await assertError(
        await send(h, token, "POST", "/secrets/remove", { name: "x" }),
        403,
        "forbidden",
      );
    }
    assert.deepEqual(await h.planner.secrets.list(), []);
  } finally {
    await h.close();
  }
});

Deno.test("a new value changes the hash agents see and wakes them; the same value does not", async () => {
  const h = await harness();
  try {
    await setSecret(h, "db-password", VALUE);
    await h.up(SHOP);
    const [before] = await desired(h, "host-a");
    const stored = find(await h.ps(), "shop", "api").specHash;
    assert.notEqual(before.specHash, stored, "the handed-out hash mixes in the value's digest");
    const [db] = await desired(h, "host-b");
    assert.equal(db.specHash, find(await h.ps(), "shop", "db").specHash, "no secret, no change");
    const indexA = await h.planner.hostIndex("host-a");
    const indexB = await h.planner.hostIndex("host-b");

    assert.deepEqual(await setSecret(h, "db-password", VALUE), {
      name: "db-password",
      created: false,
      changed: false,
      recreated: [],
    });
    assert.equal((await desired(h, "host-a"))[0].specHash, before.specHash);
    assert.equal(await h.planner.hostIndex("host-a"), indexA);

    assert.deepEqual(await setSecret(h, "db-password", NEW_VALUE), {
      name: "db-password",
      created: false,
      changed: true,
      recreated: ["shop/api"],
    });
    const [after] = await desired(h, "host-a");
    assert.notEqual(after.specHash, before.specHash);
    assert.equal(after.normalized.environment.DB_PASSWORD, NEW_VALUE);
    assert.ok(await h.planner.hostIndex("host-a") > indexA, "host-a's agent is woken");
    assert.equal(await h.planner.hostIndex("host-b"), indexB, "host-b's is not");
    assert.equal(find(await h.ps(), "shop", "api").specHash, stored, "the stored hash stays");

    // Reports name the hash their agent had: the old one is stale now, the new one counts.
    const report = (specHash: string) => ({
      host: "host-a",
      manifest: "shop",
      name: "api",
      state: "running",
      specHash,
    });
    assert.equal((await h.call("POST", "/state", report(before.specHash))).status, 204);
    assert.equal(find(await h.ps(), "shop", "api").state, "pending", "a stale report is dropped");
    assert.equal((await h.call("POST", "/state", report(after.specHash))).status, 204);
    assert.equal(find(await h.ps(), "shop", "api").state, "running");

    // Re-applying the manifest changes nothing: the spec did not change, only the value.
    const again = await h.up(SHOP);
    assert.deepEqual(again.unchanged, ["api", "db"]);
  } finally {
    await h.close();
  }
});

Deno.test("the value is in neither the SQLite file nor its WAL", async () => {
  const h = await harness(await sqliteDataDir());
  try {
    await setSecret(h, "db-password", VALUE);
    await h.up(SHOP);
    await desired(h, "host-a");
    await setSecret(h, "db-password", NEW_VALUE);
    await desired(h, "host-a");
    let both = "";
    for (const file of ["launcher.db", "launcher.db-wal"]) {
      const bytes = new TextDecoder("latin1").decode(await Deno.readFile(join(h.dataDir, file)));
      for (const value of [VALUE, NEW_VALUE]) {
        assert.ok(!bytes.includes(value), `${file} does not hold a value in clear`);
      }
      both += bytes;
    }
    assert.ok(both.includes("db-password"), "the files read hold the secret's name");
  } finally {
    await h.close();
  }
});
