/**
 * Variables in manifests with the real CLI and server: `${NAME}` from the CLI's environment and
 * from `.env` beside the manifest (or `--env-file`), the stored revision holding the resolved
 * text, and a missing variable refused with file:line:column before anything is stored.
 */
import assert from "node:assert/strict";
import { Cluster } from "./cluster.ts";

const MANIFEST = `# shop, deployed with VARS_TEST_TAG=\${VARS_TEST_TAG} (comments are not resolved)
name: vars-shop
containers:
  - name: web
    host: \${VARS_TEST_HOST}   # from .env
    image: "registry.example.com/shop:\${VARS_TEST_TAG}"
    cmd: sh -c 'echo $$HOME'
    environment:
      MODE: \${VARS_TEST_MODE:-prod}
      ZIP: \${VARS_TEST_ZIP}
`;

Deno.test("manifest up resolves variables from the environment and .env, and stores the result", async (t) => {
  const cluster = await Cluster.start([]);
  try {
    const dir = `${cluster.workDir}/vars`;
    Deno.mkdirSync(dir);
    const file = `${dir}/shop.yaml`;
    Deno.writeTextFileSync(file, MANIFEST);
    Deno.writeTextFileSync(
      `${dir}/.env`,
      "# beside the manifest\nVARS_TEST_HOST=host-a\nVARS_TEST_TAG=from-dot-env\nVARS_TEST_ZIP='02134'\n",
    );
    const env = { VARS_TEST_TAG: "1.27" };

    await cluster.step(
      t,
      "the environment wins over .env; the revision holds the resolved text",
      async () => {
        const up = await cluster.cli(["manifest", "up", "-f", file], { env });
        assert.equal(up.code, 0, up.stderr);
        assert.equal(up.stdout, "vars-shop: created web\nvars-shop: stored as revision 1\n");
        const shown = await cluster.cli(["manifest", "history", "vars-shop", "--show", "1"]);
        assert.equal(shown.code, 0, shown.stderr);
        assert.equal(
          shown.stdout,
          MANIFEST.replace("${VARS_TEST_HOST}", "host-a")
            .replace('shop:${VARS_TEST_TAG}"', 'shop:1.27"')
            .replace("$$HOME", "$HOME")
            .replace("${VARS_TEST_MODE:-prod}", "prod")
            .replace("${VARS_TEST_ZIP}", '"02134"'),
        );
        const [web] = await cluster.ps("vars-shop");
        assert.equal(web.host, "host-a");
        assert.equal(web.config.image, "registry.example.com/shop:1.27");
        assert.deepEqual(web.config.environment, { MODE: "prod", ZIP: "02134" });
      },
    );

    await cluster.step(t, "diff resolves the same way and shows a changed variable", async () => {
      const same = await cluster.cli(["manifest", "diff", "-f", file], { env });
      assert.equal(same.code, 0, same.stderr);
      const changed = await cluster.cli(["manifest", "diff", "-f", file], {
        env: { ...env, VARS_TEST_MODE: "debug" },
      });
      assert.equal(changed.code, 3, changed.stderr);
      assert.match(changed.stdout, /environment.*prod.*debug/);
    });

    await cluster.step(t, "--env-file is read instead of .env", async () => {
      const other = `${cluster.workDir}/other.env`;
      Deno.writeTextFileSync(
        other,
        'VARS_TEST_HOST=host-b\nVARS_TEST_TAG=2.0\nVARS_TEST_ZIP="10001"\n',
      );
      const up = await cluster.cli(["manifest", "up", "-f", file, "--env-file", other]);
      assert.equal(up.code, 0, up.stderr);
      const [web] = await cluster.ps("vars-shop");
      assert.equal(web.host, "host-b");
      assert.equal(web.config.image, "registry.example.com/shop:2.0");
      const ps = await cluster.cli(["manifest", "ps", "-f", file, "--env-file", other]);
      assert.equal(ps.code, 0, ps.stderr);
      assert.match(ps.stdout, /vars-shop +web +host-b/);
    });

    await cluster.step(
      t,
      "a missing variable names file:line:column and stores nothing",
      async () => {
        const bad = `${dir}/bad.yaml`;
        Deno.writeTextFileSync(
          bad,
          "name: vars-bad\ncontainers:\n  - name: web\n    host: h\n    image: x:${VARS_TEST_NOPE}\n",
        );
        const up = await cluster.cli(["manifest", "up", "-f", bad]);
        assert.equal(up.code, 2);
        assert.equal(
          up.stderr,
          `error: ${bad}:5:14: containers[0].image: variable VARS_TEST_NOPE is not set: set it, ` +
            "give a default with ${VARS_TEST_NOPE:-default}, or write $$ for a literal $\n",
        );
        const names = (await cluster.client().manifests()).map((m) => m.name);
        assert.deepEqual(names, ["vars-shop"]);
        const revisions = await cluster.cli(["manifest", "history", "vars-shop", "-o", "json"]);
        assert.equal(JSON.parse(revisions.stdout).revisions.length, 2);
      },
    );

    await cluster.step(t, "an ill-formed .env names its file and line", async () => {
      Deno.writeTextFileSync(`${dir}/.env`, "VARS_TEST_HOST=host-a\nVARS_TEST_TAG 'x'\n");
      const up = await cluster.cli(["manifest", "up", "-f", file]);
      assert.equal(up.code, 2);
      assert.equal(up.stderr, `error: ${dir}/.env:2:15: expected "=" after VARS_TEST_TAG\n`);
    });
  } finally {
    await cluster.stop();
  }
});
