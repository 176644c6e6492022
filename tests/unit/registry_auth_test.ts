import assert from "node:assert/strict";
import { DockerConfigError, parseDockerConfig } from "../../src/agent/docker_config.ts";
import {
  credentialsFor,
  dockerConfigCredentials,
  readDockerConfig,
  registryOf,
} from "../../src/agent/registry_auth.ts";
import { registryAuthHeader } from "../../src/docker/registry_header.ts";

const PATH = "/etc/docker-conf/config.json";
const SECRET = "s3cr3t:with:colons";

/** An `auths` entry as `docker login` writes it. */
function entry(user: string, password: string): { auth: string } {
  return { auth: btoa(`${user}:${password}`) };
}

function config(json: unknown) {
  return parseDockerConfig(JSON.stringify(json), PATH);
}

Deno.test("registryOf finds the registry as the Docker CLI does", () => {
  const cases: Record<string, string> = {
    "busybox": "docker.io",
    "busybox:1.36": "docker.io",
    "library/busybox": "docker.io",
    "team/app:2": "docker.io",
    "docker.io/library/busybox": "docker.io",
    "index.docker.io/team/app": "docker.io",
    "localhost/app": "localhost",
    "localhost:5000/app:1": "localhost:5000",
    "registry.example.com/shop/api:2.3": "registry.example.com",
    [`10.0.0.1:5000/a/b@sha256:${"0".repeat(64)}`]: "10.0.0.1:5000",
    "Registry/app": "Registry",
  };
  for (const [image, registry] of Object.entries(cases)) {
    assert.equal(registryOf(image), registry, image);
  }
});

Deno.test("Docker Hub images match every key Docker Hub is written as", () => {
  for (const key of ["https://index.docker.io/v1/", "docker.io", "index.docker.io"]) {
    const found = credentialsFor(config({ auths: { [key]: entry("hub", SECRET) } }), "busybox");
    assert.deepEqual(found.auth, { username: "hub", password: SECRET, serveraddress: key }, key);
  }
  // The key docker login writes wins over an older spelling.
  const both = config({
    auths: { "docker.io": entry("old", "x"), "https://index.docker.io/v1/": entry("new", "y") },
  });
  assert.equal(credentialsFor(both, "team/app").auth?.serveraddress, "https://index.docker.io/v1/");
  const other = config({ auths: { "registry.example.com": entry("u", "p") } });
  assert.deepEqual(credentialsFor(other, "busybox"), {});
});

Deno.test("other registries match by host:port, also when the key is written as a URL", () => {
  const auths = config({
    auths: {
      "127.0.0.1:5000": entry("local", "a"),
      "https://registry.example.com/v1/": entry("corp", "b"),
      "http://plain.example.com": { username: "plain", password: "c" },
    },
  });
  assert.equal(
    credentialsFor(auths, "127.0.0.1:5000/test/busybox:1").auth?.serveraddress,
    "127.0.0.1:5000",
  );
  assert.deepEqual(credentialsFor(auths, "registry.example.com/shop/api:2").auth, {
    username: "corp",
    password: "b",
    serveraddress: "https://registry.example.com/v1/",
  });
  assert.equal(
    credentialsFor(auths, "plain.example.com/x").auth?.serveraddress,
    "http://plain.example.com",
  );
  // Another port is another registry.
  assert.deepEqual(credentialsFor(auths, "127.0.0.1:5001/test/busybox:1"), {});
  assert.deepEqual(credentialsFor(auths, "registry.example.com:443/x"), {});
  // An exact key wins over one that only shares the host.
  const exact = config({
    auths: { "https://h.example.com/v2/": entry("url", "x"), "h.example.com": entry("host", "y") },
  });
  assert.equal(credentialsFor(exact, "h.example.com/x").auth?.serveraddress, "h.example.com");
});

Deno.test("an identity token is sent instead of a password", () => {
  const found = credentialsFor(
    config({ auths: { "r.example.com": { auth: btoa("<token>:"), identitytoken: "tok" } } }),
    "r.example.com/x",
  );
  assert.deepEqual(found.auth, { identitytoken: "tok", serveraddress: "r.example.com" });
});

Deno.test("a credential helper for the registry is named in a note, unless an entry matches", () => {
  const store = config({ auths: { "https://index.docker.io/v1/": {} }, credsStore: "desktop" });
  const note = credentialsFor(store, "busybox");
  assert.equal(note.auth, undefined);
  assert.equal(
    note.helperNote,
    `${PATH} names credential store "desktop" for docker.io, and launcher does not use ` +
      `credential helpers: give docker.io an "auths" entry with its credentials instead`,
  );
  const helpers = config({
    auths: { "r.example.com": entry("u", "p") },
    credHelpers: { "ecr.example.com": "ecr-login", "r.example.com": "pass" },
  });
  assert.match(
    credentialsFor(helpers, "ecr.example.com/app").helperNote ?? "",
    /names credential helper "ecr-login" for ecr\.example\.com/,
  );
  // A plain entry is used even though a helper is named for its registry.
  assert.equal(credentialsFor(helpers, "r.example.com/app").auth?.serveraddress, "r.example.com");
  assert.deepEqual(credentialsFor(helpers, "other.example.com/app"), {});
});

Deno.test("a config that is not valid JSON is refused naming the file, line and column", () => {
  const refuses = (text: string, message: string) =>
    assert.throws(() => parseDockerConfig(text, PATH), (error) => {
      assert.ok(error instanceof DockerConfigError);
      assert.equal(error.code, "docker_config_invalid");
      assert.equal(error.message, message);
      return true;
    });
  refuses(
    `{\n  "auths": {"r": {"auth": "${btoa(SECRET)}"}}\n  "credsStore": "pass"\n}`,
    `${PATH} is not valid JSON: expected ',' or '}' after property value (line 3, column 3)`,
  );
  refuses(`{"auths": ${SECRET}}`, `${PATH} is not valid JSON: unexpected character`);
  refuses("", `${PATH} is not valid JSON: it ends too early`);
  refuses("[]", `${PATH} must hold a JSON object`);
  refuses(`{"auths": []}`, `${PATH}: "auths" must be an object`);
  refuses(`{"auths": {"r": "x"}}`, `${PATH}: auths["r"] must be an object`);
  refuses(`{"auths": {"r": {"auth": 1}}}`, `${PATH}: auths["r"].auth must be a string`);
  refuses(`{"credsStore": 1}`, `${PATH}: "credsStore" must be a string`);
  refuses(`{"credHelpers": {"r": 1}}`, `${PATH}: credHelpers["r"] must be a string`);
});

Deno.test("an auth field that is not base64 of user:password is refused without its value", () => {
  for (const auth of ["%%%not base64%%%", btoa("no-colon-here")]) {
    assert.throws(
      () => config({ auths: { "r.example.com": { auth } } }),
      (error) => {
        assert.ok(error instanceof DockerConfigError);
        assert.equal(
          error.message,
          `${PATH}: auths["r.example.com"].auth is not base64 of "user:password"`,
        );
        return true;
      },
    );
  }
});

Deno.test("the config is read at every pull; no file means no credentials", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lookup = dockerConfigCredentials(dir);
    assert.equal(await readDockerConfig(dir), undefined);
    assert.deepEqual(await lookup("r.example.com/x"), {});
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ auths: { "r.example.com": entry("u", SECRET) } }),
    );
    assert.deepEqual((await lookup("r.example.com/x")).auth, {
      username: "u",
      password: SECRET,
      serveraddress: "r.example.com",
    });
    await Deno.writeTextFile(`${dir}/config.json`, "{");
    await assert.rejects(lookup("r.example.com/x"), {
      message: `${dir}/config.json is not valid JSON: expected property name or '}' ` +
        "(line 1, column 2)",
    });
    await Deno.remove(`${dir}/config.json`);
    await Deno.mkdir(`${dir}/config.json`);
    await assert.rejects(
      readDockerConfig(`${dir}/`),
      (error: Error) => error.message.startsWith(`Cannot read ${dir}/config.json: `),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("X-Registry-Auth is padded base64url of the credentials as JSON", () => {
  // This password's JSON gives base64 with '+', '/' and padding, which the header must convert.
  const auth = { username: "ü>>?", password: "~~~?", serveraddress: "r:5000" };
  const header = registryAuthHeader(auth);
  assert.match(header, /^[A-Za-z0-9_-]+=*$/);
  assert.equal(header.length % 4, 0);
  assert.ok(header.includes("-") || header.includes("_"));
  const binary = atob(header.replace(/-/g, "+").replace(/_/g, "/"));
  const json = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  assert.deepEqual(JSON.parse(json), auth);
});
