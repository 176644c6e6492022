/**
 * TLS with the real program on real engines: `tls init`, `serve` on HTTPS, the CLI trusting it
 * through `--ca` (and refusing it without), an agent joining with a join string and running a
 * container; and every way a join must fail without a token leaving the agent: a tampered join
 * string, a server with another CA, the right CA with an expired or misnamed certificate, plain
 * HTTP. "No token sent" is checked where it would arrive: the token's last use stays "never" on
 * the real server, and the impostor servers record every request's Authorization header.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import { TokenInfoSchema } from "../../src/api/schemas.ts";
import { generateCa, loadCa, signServer } from "../../src/server/tls/generate.ts";
import { x509 } from "../../src/server/tls/x509.ts";
import { freePort, isAlive } from "../processes.ts";
import { pollUntil } from "../poll_until.ts";
import { Cluster, SLEEPER } from "./cluster.ts";
import { TEST_IMAGE } from "./engines.ts";

/** A request an impostor server saw. */
interface Seen {
  method: string;
  path: string;
  authorization: string | null;
}

/** A server that pretends to be launcher's: hands out `caPem` and records every request. */
function impostor(caPem: string, tls?: { cert: string; key: string }) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {}, ...tls }, (req) => {
    const path = new URL(req.url).pathname;
    seen.push({ method: req.method, path, authorization: req.headers.get("authorization") });
    if (path === "/api/v1/tls/ca") return new Response(caPem);
    return Response.json({ error: { code: "impostor", message: "impostor" } }, { status: 503 });
  });
  const scheme = tls ? "https" : "http";
  return { url: `${scheme}://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

/** The hex SHA-256 of a PEM certificate's DER, by the x509 library's thumbprint. */
async function thumbprint(pem: string): Promise<string> {
  const digest = new Uint8Array(await new x509.X509Certificate(pem).getThumbprint("SHA-256"));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The agent token of `host`, as `token ls -o json` lists it. */
async function agentToken(cluster: Cluster, host: string) {
  const ls = await cluster.cli(["token", "ls", "-o", "json"]);
  assert.equal(ls.code, 0, ls.stderr);
  const list = v.parse(v.array(TokenInfoSchema), JSON.parse(ls.stdout));
  const token = list.find((t) => t.role === "agent" && t.host === host);
  assert.ok(token, `an agent token for ${host}`);
  return token;
}

/**
 * Waits until the agent of `host` has said `says` and ended on its own; answers its exit code
 * and what it printed.
 */
async function agentExit(
  cluster: Cluster,
  host: string,
  says: RegExp,
): Promise<{ code: number; output: string }> {
  const output = await pollUntil(
    () => `the agent of ${host} to say ${says}: ${cluster.agentOutput(host)}`,
    () => says.test(cluster.agentOutput(host)) && cluster.agentOutput(host),
  );
  const pid = cluster.pids().agents[host];
  await pollUntil(`the agent of ${host} to exit`, () => !isAlive(pid));
  return { code: await cluster.stopAgent(host), output };
}

Deno.test("TLS end to end: tls init, serve, --ca, join strings", async (t) => {
  const cluster = await Cluster.start(["host-a"], { tls: true, idle: ["host-a"] });
  const dir = cluster.tlsDir!;
  let join = "";
  try {
    await cluster.step(
      t,
      "tls init wrote a CA and a certificate, keys 0600, and keeps them",
      async () => {
        const names = ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"];
        const before = names.map((n) => Deno.readTextFileSync(`${dir}/${n}`));
        assert.equal(Deno.statSync(`${dir}/ca-key.pem`).mode! & 0o777, 0o600);
        assert.equal(Deno.statSync(`${dir}/server-key.pem`).mode! & 0o777, 0o600);
        const again = await cluster.cli(["tls", "init", "--dir", dir, "--name", "localhost"]);
        assert.equal(again.code, 2);
        assert.match(again.stderr, /ca\.pem, .*server-key\.pem already exist; pass --force/);
        assert.deepEqual(names.map((n) => Deno.readTextFileSync(`${dir}/${n}`)), before);
      },
    );

    await cluster.step(
      t,
      "the CLI trusts the server with --ca, and says why not without",
      async () => {
        const withCa = await cluster.cli(["manifest", "ps"]);
        assert.equal(withCa.code, 0, withCa.stderr);
        const byFlag = await cluster.cli(["manifest", "ps", "--ca", `${dir}/ca.pem`], {
          env: { LAUNCHER_CA: "" },
        });
        assert.equal(byFlag.code, 0, byFlag.stderr);
        const without = await cluster.cli(["manifest", "ps"], { env: { LAUNCHER_CA: "" } });
        assert.equal(without.code, 1);
        assert.match(without.stderr, /invalid peer certificate: UnknownIssuer/);
        assert.match(without.stderr, /not signed by a CA this client trusts: give --ca FILE/);
        const missing = await cluster.cli(["manifest", "ps", "--ca", `${dir}/nope.pem`]);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /--ca .*nope\.pem: cannot read it/);
      },
    );

    await cluster.step(t, "token generate --join prints the token with the CA's hash", async () => {
      const out = await cluster.cli(
        ["token", "generate", "--role", "agent", "--host", "host-a", "--join"],
      );
      assert.equal(out.code, 0, out.stderr);
      const match = /^launcher1:([0-9a-f]{64}):([A-Za-z0-9_-]{43})\n$/.exec(out.stdout);
      assert.ok(match, out.stdout);
      assert.equal(match[1], await thumbprint(Deno.readTextFileSync(`${dir}/ca.pem`)));
      join = out.stdout.trim();
      assert.equal((await agentToken(cluster, "host-a")).lastUsedAt, undefined);
      const admin = await cluster.cli(["token", "generate", "--join"]);
      assert.equal(admin.code, 2);
      assert.match(admin.stderr, /--join makes a join string for an agent/);
      const both = await cluster.cli(["agent", "--master", cluster.url, "--join", join]);
      assert.equal(both.code, 2, "LAUNCHER_TOKEN is set in the CLI's environment");
      assert.match(both.stderr, /give --join or --token, not both/);
      const malformed = await cluster.cli(
        ["agent", "--master", cluster.url, "--join", join.replace("launcher1:", "K10")],
        { env: { LAUNCHER_TOKEN: "", LAUNCHER_CA: "" } },
      );
      assert.equal(malformed.code, 2);
      assert.match(malformed.stderr, /^error: --join: the join string is not launcher1:<64 hex/);
    });

    await cluster.step(
      t,
      "a join string with one hex digit changed: refused, no token sent",
      async () => {
        const digit = join[10] === "0" ? "1" : "0";
        const tampered = `${join.slice(0, 10)}${digit}${join.slice(11)}`;
        cluster.startAgent("host-a", ["--join", tampered], "");
        const refused = /hands out a CA with SHA-256 [0-9a-f]{64}, but the join string pins/;
        const { code, output } = await agentExit(cluster, "host-a", refused);
        assert.equal(code, 1);
        assert.match(output, /not trusting it, and no token was sent/);
        assert.equal(
          (await agentToken(cluster, "host-a")).lastUsedAt,
          undefined,
          "token never used",
        );
      },
    );

    await cluster.step(
      t,
      "impostors: another CA, an expired or misnamed certificate, plain HTTP",
      async () => {
        const realCa = await loadCa(
          {
            cert: Deno.readTextFileSync(`${dir}/ca.pem`),
            key: Deno.readTextFileSync(`${dir}/ca-key.pem`),
          },
          { cert: `${dir}/ca.pem`, key: `${dir}/ca-key.pem` },
        );
        const localhost = { names: ["localhost"], ips: ["127.0.0.1"] };
        const otherCa = await generateCa();
        const cases = [
          {
            what: "another CA",
            server: impostor(otherCa.pem.cert, await signServer(otherCa, localhost)),
            says: /hands out a CA with SHA-256 [0-9a-f]{64}, but the join string pins/,
            exits: true,
          },
          {
            what: "an expired certificate of the right CA",
            server: impostor(
              realCa.cert.toString("pem"),
              await signServer(realCa, localhost, new Date(Date.now() - 3 * 86_400_000), 1),
            ),
            says: /invalid peer certificate: certificate expired/,
            exits: false,
          },
          {
            what: "a certificate of the right CA for another name",
            server: impostor(
              realCa.cert.toString("pem"),
              await signServer(realCa, { names: ["elsewhere.example"], ips: [] }),
            ),
            says: /invalid peer certificate: (NotValidForName|certificate not valid for name)/,
            exits: false,
          },
          {
            what: "plain HTTP",
            server: impostor(realCa.cert.toString("pem")),
            says: /is plain HTTP, but the join string expects TLS/,
            exits: true,
          },
        ];
        for (const c of cases) {
          try {
            cluster.startAgent("host-a", ["--join", join], "", "host-a", c.server.url);
            if (c.exits) {
              assert.equal((await agentExit(cluster, "host-a", c.says)).code, 1, c.what);
            } else {
              // It keeps trying, as it would with a server that is down.
              await pollUntil(
                () => `the agent to fail on ${c.what}: ${cluster.agentOutput("host-a")}`,
                () => c.says.test(cluster.agentOutput("host-a")),
              );
            }
            const authorized = c.server.seen.filter((s) => s.authorization !== null);
            assert.deepEqual(authorized, [], `${c.what}: no request carried a token`);
            assert.ok(
              c.server.seen.every((s) => s.path === "/api/v1/tls/ca"),
              `${c.what}: only the CA was asked for: ${JSON.stringify(c.server.seen)}`,
            );
          } finally {
            await cluster.stopAgent("host-a");
            await c.server.close();
          }
        }
        assert.equal(
          (await agentToken(cluster, "host-a")).lastUsedAt,
          undefined,
          "token never used",
        );
      },
    );

    await cluster.step(t, "an agent joining with the join string runs a container", async () => {
      // A list whose first server is down: the CA and then every request fail over to the next.
      const down = `https://127.0.0.1:${freePort()}`;
      cluster.startAgent("host-a", ["--join", join], "", "host-a", `${down},${cluster.url}`);
      const file = cluster.writeManifest(
        "tls",
        `name: tls\ncontainers:\n  - name: web\n    host: host-a\n    image: ${TEST_IMAGE}\n` +
          `    cmd: ${JSON.stringify(SLEEPER)}\n`,
      );
      const up = await cluster.cli(["manifest", "up", "-f", file, "--wait"]);
      assert.equal(up.code, 0, up.stderr);
      await cluster.waitForStates("tls", { web: "running" });
      assert.equal((await cluster.inspect("host-a", "tls_web"))?.State.Running, true);
      assert.match(cluster.agentOutput("host-a"), /trusting the CA with SHA-256 [0-9a-f]{64}/);
      assert.match(cluster.agentOutput("host-a"), new RegExp(`server ${down} unreachable`));
      // The check of the steps above sees a use: the token is now used.
      assert.ok((await agentToken(cluster, "host-a")).lastUsedAt !== undefined);
    });
  } finally {
    await cluster.stop();
  }
});

/** Runs `launcher serve` with these TLS flags on a fresh data dir; it must not start. */
async function serveRefuses(dir: string, tlsArgs: string[], code = 1) {
  const data = `${dir}/data`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../main.ts", import.meta.url).pathname,
      "serve",
      "--ip",
      "127.0.0.1",
      "--port",
      "0",
      "--data-dir",
      data,
      "--token-pass",
      "pw",
      ...tlsArgs,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, code, stderr);
  assert.equal(await Deno.stat(data).then(() => true, () => false), false, "no store was made");
  return stderr;
}

Deno.test("serve refuses bad TLS files before it opens anything, naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "launcher-tls-serve-" });
  try {
    const ca = await generateCa();
    const good = await signServer(ca, { names: ["localhost"], ips: [] });
    const expired = await signServer(
      ca,
      { names: ["localhost"], ips: [] },
      new Date(Date.now() - 3 * 86_400_000),
      1,
    );
    const files: Record<string, string> = {
      "cert.pem": good.cert,
      "key.pem": good.key,
      "expired.pem": expired.cert,
      "expired-key.pem": expired.key,
      "ca-key.pem": ca.pem.key,
    };
    for (const [name, text] of Object.entries(files)) {
      Deno.writeTextFileSync(`${dir}/${name}`, text);
    }

    const missing = await serveRefuses(dir, [
      "--tls-cert",
      `${dir}/nope.pem`,
      "--tls-key",
      `${dir}/key.pem`,
    ]);
    assert.match(missing, /^error: cannot read --tls-cert .*\/nope\.pem: No such file/);
    const mismatch = await serveRefuses(dir, [
      "--tls-cert",
      `${dir}/cert.pem`,
      "--tls-key",
      `${dir}/ca-key.pem`,
    ]);
    assert.match(
      mismatch,
      /^error: --tls-key .*\/ca-key\.pem is not the key of the certificate in --tls-cert .*\/cert\.pem/,
    );
    const alone = await serveRefuses(dir, ["--tls-cert", `${dir}/cert.pem`], 2);
    assert.match(alone, /^error: --tls-cert and --tls-key go together/);
    const old = await serveRefuses(dir, [
      "--tls-cert",
      `${dir}/expired.pem`,
      "--tls-key",
      `${dir}/expired-key.pem`,
    ]);
    assert.match(old, /^error: --tls-cert .*\/expired\.pem: the certificate expired on /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
