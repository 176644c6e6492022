import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { assertError, openHarness, PASSWORD, sqliteDataDir } from "./harness.ts";

function postToken(h: Awaited<ReturnType<typeof openHarness>>, body: string, type?: string) {
  return h.app.request("/api/v1/token", {
    method: "POST",
    headers: { "content-type": type ?? "application/json" },
    body,
  });
}

Deno.test("healthz answers without a token", async () => {
  const h = await openHarness();
  try {
    const res = await h.app.request("/api/v1/healthz");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true });
  } finally {
    await h.close();
  }
});

Deno.test("the password trades for a fresh token that authenticates", async () => {
  const h = await openHarness();
  try {
    const res = await postToken(h, JSON.stringify({ password: PASSWORD }));
    assert.equal(res.status, 201);
    const { token } = await res.json() as { token: string };
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes in base64url");
    assert.notEqual(token, h.token, "every token is new");
    const ps = await h.app.request("/api/v1/manifest/ps", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(ps.status, 200);
    assert.deepEqual(await ps.json(), []);
  } finally {
    await h.close();
  }
});

Deno.test("tokens are stored only as sha256 hashes", async () => {
  // Reads SQLite's files, also when the other tests run on PostgreSQL.
  const h = await openHarness({ dataDir: await sqliteDataDir() });
  try {
    const db = new DatabaseSync(join(h.dataDir, "launcher.db"));
    try {
      const rows = db.prepare("SELECT id, hash FROM tokens").all().map((row) => ({ ...row }));
      assert.equal(rows.length, 1);
      assert.equal(rows[0].hash, createHash("sha256").update(h.token).digest("hex"));
      assert.notEqual(rows[0].id, h.token);
      const raw = await Deno.readFile(join(h.dataDir, "launcher.db"));
      const wal = await Deno.readFile(join(h.dataDir, "launcher.db-wal")).catch(() =>
        new Uint8Array()
      );
      const text = new TextDecoder("latin1").decode(raw) + new TextDecoder("latin1").decode(wal);
      assert.ok(!text.includes(h.token), "the token itself is nowhere in the files");
    } finally {
      db.close();
    }
  } finally {
    await h.close();
  }
});

Deno.test("JSON is read whatever the Content-Type says, as curl -d sends it", async () => {
  const h = await openHarness();
  try {
    const body = JSON.stringify({ password: PASSWORD });
    for (const type of ["application/x-www-form-urlencoded", "text/plain", ""]) {
      const res = await postToken(h, body, type);
      assert.equal(res.status, 201, type);
      await res.body?.cancel();
    }
  } finally {
    await h.close();
  }
});

Deno.test("a wrong or empty password answers 401", async () => {
  const h = await openHarness();
  try {
    await assertError(
      await postToken(h, JSON.stringify({ password: "nope" })),
      401,
      "unauthorized",
      /wrong password/,
    );
    await assertError(await postToken(h, JSON.stringify({ password: "" })), 401, "unauthorized");
    await assertError(
      await postToken(h, JSON.stringify({ password: `${PASSWORD}x` })),
      401,
      "unauthorized",
    );
  } finally {
    await h.close();
  }
});

Deno.test("a malformed token request answers 400 invalid_body", async () => {
  const h = await openHarness();
  try {
    await assertError(await postToken(h, "{"), 400, "invalid_body", /not valid JSON/);
    await assertError(await postToken(h, ""), 400, "invalid_body", /empty/);
    const missing = await assertError(await postToken(h, "{}"), 400, "invalid_body");
    assert.equal(missing.error.details?.[0].path, "password");
    await assertError(
      await postToken(h, JSON.stringify({ password: PASSWORD, extra: 1 })),
      400,
      "invalid_body",
    );
    await assertError(
      await postToken(h, JSON.stringify({ password: 42 })),
      400,
      "invalid_body",
    );
    await assertError(
      await postToken(h, `password=${PASSWORD}`, "application/x-www-form-urlencoded"),
      400,
      "invalid_body",
      /not valid JSON/,
    );
  } finally {
    await h.close();
  }
});
