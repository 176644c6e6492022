/** The CLI as a user meets it: exit codes, one-line errors, file:line:column for bad manifests. */
import assert from "node:assert/strict";
import { Cluster } from "./cluster.ts";
import { freePort } from "../processes.ts";

const NO_STACK = /^\s+at .*:\d+:\d+/m;

Deno.test("the CLI answers bad input with one clear line and the right exit code", async (t) => {
  const cluster = await Cluster.start([]);
  try {
    await cluster.step(
      t,
      "a bad manifest names the file, line and column and exits 2",
      async () => {
        const file = cluster.writeManifest(
          "bad",
          'name: shop\ncontainers:\n  - name: web\n    host: a\n    image: x\n    ports: ["80:99999"]\n',
        );
        const r = await cluster.cli(["manifest", "up", "-f", file]);
        assert.equal(r.code, 2);
        assert.match(
          r.stderr,
          new RegExp(`^error: ${file}:6:13: containers\\[0\\]\\.ports\\[0\\]: .*99999`),
        );
        assert.doesNotMatch(r.stderr, NO_STACK);
        assert.deepEqual(await cluster.ps(), []);
      },
    );

    await cluster.step(t, "an unknown key is named with its line", async () => {
      const file = cluster.writeManifest(
        "unknown",
        "name: shop\ncontainers:\n  - name: web\n    host: a\n    image: x\n    imagee: y\n",
      );
      const r = await cluster.cli(["manifest", "up", "-f", file]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /:6:\d+: .*imagee/);
    });

    await cluster.step(
      t,
      "a missing file, a missing flag and an unknown command exit 2",
      async () => {
        const missing = await cluster.cli(["manifest", "up", "-f", "/nonexistent.yaml"]);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /^error: cannot read \/nonexistent\.yaml/);
        const noHost = await cluster.cli(["container", "stop", "-c", "web"]);
        assert.equal(noHost.code, 2);
        assert.match(noHost.stderr, /--host/);
        const unknown = await cluster.cli(["manifset"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /manifest/);
      },
    );

    await cluster.step(
      t,
      "-h is the host on container commands and help stays on --help",
      async () => {
        const help = await cluster.cli(["container", "stop", "--help"]);
        assert.equal(help.code, 0);
        assert.match(help.stdout, /-h, --host <host>/);
      },
    );

    await cluster.step(t, "serve refuses to start without a password, in one line", async () => {
      const r = await cluster.cli(["serve", "--port", "0"], { env: { LAUNCHER_TOKEN_PASS: "" } });
      assert.equal(r.code, 2);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.match(r.stderr, /token password is required/);
    });

    await cluster.step(
      t,
      "a wrong password and a wrong token exit 1 with the server's message",
      async () => {
        const pass = await cluster.cli(["token", "generate", "--password-stdin"], {
          stdin: "nope\n",
        });
        assert.equal(pass.code, 1);
        assert.equal(pass.stdout, "");
        assert.match(pass.stderr, /^error: .*password/i);
        const token = await cluster.cli(["manifest", "ps"], { env: { LAUNCHER_TOKEN: "wrong" } });
        assert.equal(token.code, 1);
        assert.match(token.stderr, /^error: .*token/i);
        assert.doesNotMatch(token.stderr, NO_STACK);
      },
    );

    await cluster.step(
      t,
      "--url takes a list: a refusing server is skipped, all refusing are named, a bad entry exits 2",
      async () => {
        // Free ports: nothing listens there, so connections are refused.
        const [down, gone] = [freePort(), freePort()].map((port) => `http://127.0.0.1:${port}`);
        const ps = await cluster.cli(["manifest", "ps"], {
          env: { LAUNCHER_URL: `${down},${cluster.url}` },
        });
        assert.equal(ps.code, 0, ps.stderr);
        const none = await cluster.cli(["manifest", "ps", "--url", `${down}, ${gone}`]);
        assert.equal(none.code, 1);
        assert.match(
          none.stderr,
          new RegExp(`^error: cannot reach any server: ${down} \\(.*refused.*\\), ${gone} \\(`),
        );
        const bad = await cluster.cli(["manifest", "ps", "--url", `${cluster.url},ftp://x`]);
        assert.equal(bad.code, 2);
        assert.equal(bad.stderr, 'error: --url: "ftp://x" is not an http(s) URL\n');
      },
    );

    await cluster.step(t, "ps -o json prints the API's ContainerStatus list", async () => {
      const file = cluster.writeManifest(
        "one",
        "name: one\ncontainers:\n  - name: web\n    host: nowhere\n    image: x\n",
      );
      assert.equal((await cluster.cli(["manifest", "up", "-f", file])).code, 0);
      const r = await cluster.cli(["manifest", "ps", "-o", "json"]);
      assert.equal(r.code, 0, r.stderr);
      const list = JSON.parse(r.stdout);
      assert.equal(list[0].manifestName, "one");
      assert.equal(list[0].state, "pending");
      assert.equal(list[0].desired, "running");
    });

    await cluster.step(t, "up names its revision; history, --show and rollback", async () => {
      const v1 = "name: two\ncontainers:\n  - name: web\n    host: nowhere\n    image: x:1\n";
      const file = cluster.writeManifest("two", v1);
      const first = await cluster.cli(["manifest", "up", "-f", file]);
      assert.equal(first.stdout, "two: created web\ntwo: stored as revision 1\n");
      const noop = await cluster.cli(["manifest", "up", "-f", file]);
      assert.equal(noop.stdout, "two: unchanged web\n", "nothing changed, no revision");
      cluster.writeManifest("two", v1.replace("x:1", "x:2"));
      await cluster.cli(["manifest", "up", "-f", file]);

      const history = await cluster.cli(["manifest", "history", "two"]);
      assert.equal(history.code, 0, history.stderr);
      assert.match(
        history.stdout,
        /^REVISION +WHEN +WHO\n2 \(current\) +\S+ +token .*\n1 +\S+ +token /,
      );
      const shown = await cluster.cli(["manifest", "history", "two", "--show", "1"]);
      assert.equal(shown.stdout, v1, "the text as applied, byte for byte");

      const back = await cluster.cli(["manifest", "rollback", "two"]);
      assert.equal(back.code, 0, back.stderr);
      assert.equal(back.stdout, "two: updated web\ntwo: rolled back to revision 1 as revision 3\n");
      const again = await cluster.cli(["manifest", "rollback", "two", "--to", "3"]);
      assert.equal(again.code, 1);
      assert.equal(again.stderr, "error: revision 3 is already the current one\n");
      const bad = await cluster.cli(["manifest", "rollback", "two", "--to", "x"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--to must be a revision number/);
    });
  } finally {
    await cluster.stop();
  }
});
