/**
 * Secrets' parts on their own: the encryption round trip and what it refuses, the key file, the
 * store's key check, the manifest's `{ secret: NAME }` form with its errors, and how the CLI
 * shows a reference.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { SecretBox, SecretDecryptError } from "../../src/server/secret_box.ts";
import {
  openSecretBox,
  readKeyFile,
  SecretKeyFileError,
  SecretKeyMismatchError,
  SecretKeyMissingError,
} from "../../src/server/secret_key.ts";
import { openStore } from "../../src/server/store/store.ts";
import { ManifestError, parseManifest } from "../../src/manifest/parse.ts";
import { specHash } from "../../src/manifest/hash.ts";
import { valueText } from "../../src/cli/manifest_output.ts";
import { setText } from "../../src/cli/secret.ts";

const randomKey = () => crypto.getRandomValues(new Uint8Array(32));

Deno.test("a sealed value opens with its key and name, under a new IV each time", async () => {
  const box = await SecretBox.fromKey(randomKey());
  const one = await box.seal("db-password", "hunter2");
  const two = await box.seal("db-password", "hunter2");
  assert.notEqual(one.iv, two.iv);
  assert.notEqual(one.ciphertext, two.ciphertext);
  assert.equal(atob(one.iv).length, 12, "a 96-bit IV");
  assert.ok(!atob(one.ciphertext).includes("hunter2"));
  assert.equal(await box.unseal("db-password", one), "hunter2");
  assert.equal(await box.unseal("db-password", two), "hunter2");
  const unicode = await box.seal("greeting", "grüße 🎉");
  assert.equal(await box.unseal("greeting", unicode), "grüße 🎉");
});

Deno.test("another key, another name or a changed byte do not decrypt: a clear error", async () => {
  const box = await SecretBox.fromKey(randomKey());
  const other = await SecretBox.fromKey(randomKey());
  const sealed = await box.seal("db-password", "hunter2");
  const refused = (error: unknown) => {
    assert.ok(error instanceof SecretDecryptError);
    assert.match(error.message, /cannot be decrypted with this server's secret key/);
    assert.ok(!error.message.includes("hunter2"));
    return true;
  };
  await assert.rejects(other.unseal("db-password", sealed), refused);
  await assert.rejects(box.unseal("api-key", sealed), refused, "the name is bound to it");
  const bytes = Uint8Array.from(atob(sealed.ciphertext), (c) => c.charCodeAt(0));
  bytes[0] ^= 1;
  const altered = { ...sealed, ciphertext: btoa(String.fromCharCode(...bytes)) };
  await assert.rejects(box.unseal("db-password", altered), refused);
});

Deno.test("digests change with the value and the name, and only with the key's holder", async () => {
  const key = randomKey();
  const box = await SecretBox.fromKey(key);
  const again = await SecretBox.fromKey(key);
  const other = await SecretBox.fromKey(randomKey());
  const digest = await box.digest("db-password", "hunter2");
  assert.match(digest, /^[0-9a-f]{64}$/);
  assert.equal(await again.digest("db-password", "hunter2"), digest);
  assert.notEqual(await box.digest("db-password", "hunter3"), digest);
  assert.notEqual(await box.digest("api-key", "hunter2"), digest);
  assert.notEqual(await other.digest("db-password", "hunter2"), digest);
  assert.equal(again.check, box.check);
  assert.notEqual(other.check, box.check);
});

Deno.test("a key file is made once with mode 0600, read as base64 or raw, refused when short", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "secret.key");
    const made = await readKeyFile(path, { create: true });
    assert.equal(made.length, 32);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.match(await Deno.readTextFile(path), /^[A-Za-z0-9+/]{43}=\n$/);
    assert.deepEqual(await readKeyFile(path, { create: true }), made, "never replaced");

    const raw = join(dir, "raw.key");
    const key = randomKey();
    await Deno.writeFile(raw, key, { mode: 0o644 });
    const warnings: string[] = [];
    assert.deepEqual(await readKeyFile(raw, { warn: (line) => warnings.push(line) }), key);
    assert.deepEqual(warnings, [
      `warning: secret key file ${raw} is readable by others (mode 644): chmod 600 it`,
    ]);

    const short = join(dir, "short.key");
    await Deno.writeTextFile(short, `${btoa("sixteen bytes!!!")}\n`);
    await assert.rejects(readKeyFile(short), (error: Error) => {
      assert.ok(error instanceof SecretKeyFileError);
      assert.match(error.message, /must hold 32 random bytes, as base64 .* it holds 25 bytes/);
      return true;
    });
    await assert.rejects(readKeyFile(join(dir, "missing.key")), /cannot be read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a store keeps the check of its first key and refuses another key, or none", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await openStore(dir);
    const box = await openSecretBox(first, { dataDir: dir });
    assert.ok(box);
    assert.equal(await first.secretKeyCheck(), box.check);
    const sealed = await box.seal("db-password", "hunter2");
    await first.close();

    const again = await openStore(dir);
    try {
      const same = await openSecretBox(again, { dataDir: dir });
      assert.equal(await same?.unseal("db-password", sealed), "hunter2", "the file is kept");
      const otherFile = join(dir, "other.key");
      await Deno.writeTextFile(otherFile, btoa(String.fromCharCode(...randomKey())));
      await assert.rejects(
        openSecretBox(again, { keyFile: otherFile }),
        (error: Error) => {
          assert.ok(error instanceof SecretKeyMismatchError);
          assert.match(error.message, /is not the key of the store/);
          return true;
        },
      );
      await assert.rejects(openSecretBox(again, {}), SecretKeyMissingError);
      const missing = join(dir, "none.key");
      await assert.rejects(openSecretBox(again, { keyFile: missing }), SecretKeyFileError);
    } finally {
      await again.close();
    }
    const fresh = await Deno.makeTempDir();
    const store = await openStore(fresh);
    try {
      assert.equal(await openSecretBox(store, {}), undefined, "no key, no secrets, no error");
    } finally {
      await store.close();
      await Deno.remove(fresh, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A manifest with one variable whose value is `value`, as YAML. */
function withVariable(value: string): string {
  return `name: shop
containers:
  - name: api
    host: a
    image: busybox
    environment:
      MODE: prod
      DB_PASSWORD: ${value}
`;
}

/** The details of a refused manifest. */
function details(text: string, missing?: (name: string) => string | undefined) {
  try {
    parseManifest(text, "yaml", missing ? { secretMissing: missing } : {});
  } catch (error) {
    assert.ok(error instanceof ManifestError);
    return error.details;
  }
  assert.fail("the manifest was accepted");
}

Deno.test("a variable may name a secret: kept as a reference, hashed by its name", () => {
  const [entry] = parseManifest(withVariable("{ secret: db-password }"), "yaml").containers;
  assert.deepEqual(entry.spec.environment, {
    MODE: "prod",
    DB_PASSWORD: { secret: "db-password" },
  });
  assert.deepEqual(entry.normalized.environment, {
    MODE: "prod",
    DB_PASSWORD: { secret: "db-password" },
  });
  const [other] = parseManifest(withVariable("{ secret: api-key }"), "yaml").containers;
  const [plain] = parseManifest(withVariable("db-password"), "yaml").containers;
  assert.notEqual(entry.hash, other.hash, "another secret, another hash");
  assert.notEqual(entry.hash, plain.hash, "a secret is not its name as a string");
  assert.equal(specHash(entry.spec), entry.hash);
});

Deno.test("a bad secret reference is refused with its path, line and column", () => {
  const at = (path: string, message: string, column: number) => [{
    path: `containers[0].environment.DB_PASSWORD${path}`,
    message,
    line: 8,
    column,
  }];
  assert.deepEqual(
    details(withVariable("{ secret: 5 }")),
    at(".secret", "must be a secret name such as db-password, not the number 5", 30),
  );
  assert.deepEqual(
    details(withVariable("{ secret: Db_Password }")),
    at(".secret", "must be a secret name: [a-z0-9][a-z0-9-]{0,62}", 30),
  );
  assert.deepEqual(
    details(withVariable("{ secrt: db-password }")),
    at(".secrt", 'unknown key "secrt" (a secret reference has only the key "secret")', 29),
  );
  assert.deepEqual(
    details(withVariable("{}")),
    at(".secret", 'key "secret" is required: write { secret: NAME }', 20),
  );
  assert.deepEqual(
    details(withVariable("[db-password]")),
    at("", "must be a string, number, boolean or { secret: NAME }", 20),
  );
  assert.deepEqual(
    details(withVariable("{ secret: db-password }"), (name) => `secret ${name} does not exist`),
    at(".secret", "secret db-password does not exist", 30),
  );
  assert.doesNotThrow(() =>
    parseManifest(withVariable("{ secret: db-password }"), "yaml", {
      secretMissing: () => undefined,
    })
  );
});

Deno.test("the CLI shows a secret as (secret NAME), and what setting one did", () => {
  assert.equal(valueText({ secret: "db-password" }), "(secret db-password)");
  assert.equal(valueText({ secret: "x", other: 1 }), '{"secret":"x","other":1}');
  const result = { name: "db-password", created: false, changed: true, recreated: ["shop/api"] };
  assert.equal(setText(result), "secret db-password updated; recreating 1 container: shop/api");
  assert.equal(setText({ ...result, created: true, recreated: [] }), "secret db-password created");
  assert.equal(
    setText({ ...result, changed: false, recreated: [] }),
    "secret db-password unchanged (same value)",
  );
});
