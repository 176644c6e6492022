/**
 * Secrets with several servers on one PostgreSQL store: a server without `--secret-key-file` keeps
 * none until a key is used; from then on every server needs that same key, and a server with
 * another key or none does not start; a value set through one server reaches an agent through the
 * other.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { LauncherClient } from "../../src/client/client.ts";
import { ApiError } from "../../src/client/errors.ts";
import { type RunningServer, startServer } from "../../src/server/http/serve.ts";
import { startPostgres } from "../pg_cluster.ts";

const SHOP = `name: shop
containers:
  - name: api
    host: host-a
    image: busybox:1.36
    environment: { DB_PASSWORD: { secret: db-password } }
`;

function serve(store: string, secretKeyFile?: string): Promise<RunningServer> {
  return startServer({
    hostname: "127.0.0.1",
    port: 0,
    store,
    password: "pw",
    ...(secretKeyFile === undefined ? {} : { secretKeyFile }),
  });
}

async function admin(server: RunningServer): Promise<LauncherClient> {
  return new LauncherClient(server.url, await new LauncherClient(server.url).createToken("pw"));
}

async function keyFile(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  await Deno.writeTextFile(path, `${key}\n`, { mode: 0o600 });
  return path;
}

Deno.test("postgres: every server of a store needs the same secret key", async () => {
  const pg = await startPostgres();
  const dir = await Deno.makeTempDir({ prefix: "launcher-pg-secrets-" });
  const servers: RunningServer[] = [];
  try {
    const store = await pg.createDatabase();
    const [keyA, keyB] = [await keyFile(dir, "a.key"), await keyFile(dir, "b.key")];

    const plain = await serve(store);
    servers.push(plain);
    await assert.rejects((await admin(plain)).setSecret("db-password", "v1"), (error) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, 503);
      assert.match(error.message, /--secret-key-file/);
      return true;
    });
    await plain.close();
    servers.pop();

    const one = await serve(store, keyA);
    servers.push(one);
    const two = await serve(store, keyA);
    servers.push(two);
    await assert.rejects(serve(store, keyB), /is not the key of the store/);
    await assert.rejects(serve(store), /keeps secrets, and this server has no key for them/);

    await (await admin(one)).setSecret("db-password", "value-through-one");
    const viaTwo = await admin(two);
    await viaTwo.up(SHOP);
    const [api] = (await viaTwo.desired("host-a", 0, 0)).containers;
    assert.equal(api.normalized.environment.DB_PASSWORD, "value-through-one");
  } finally {
    for (const server of servers) await server.close();
    await pg.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
