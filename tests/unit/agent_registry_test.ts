import assert from "node:assert/strict";
import { dockerConfigCredentials } from "../../src/agent/registry_auth.ts";
import { run } from "../../src/cli/main.ts";
import { DockerError } from "../../src/docker/errors.ts";
import { want, withAgent } from "./fakes/agent_bed.ts";

const PASSWORD = "pa55:word";
const IMAGE = "registry.example.com:5000/shop/app:1";

/** A Docker config folder holding `json` as its config.json, removed after `fn`. */
async function withConfigDir(json: unknown, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(json));
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const app = { name: "app", host: "host-a", image: IMAGE };

Deno.test("the agent pulls with the config's credentials for the image's registry", async () => {
  const auths = { "registry.example.com:5000": { auth: btoa(`shop:${PASSWORD}`) } };
  await withConfigDir({ auths }, async (dir) => {
    await withAgent(async ({ engine, api, until }) => {
      api.set([
        want("app", { config: app }),
        want("hub", { config: { ...app, name: "hub", image: "busybox:1" } }),
      ]);
      await until(
        "both running",
        () => api.last("app")?.state === "running" && api.last("hub")?.state === "running",
      );
      const byRef = Object.fromEntries(engine.pullAuths.map((p) => [p.ref, p.auth]));
      assert.deepEqual(byRef[IMAGE], {
        username: "shop",
        password: PASSWORD,
        serveraddress: "registry.example.com:5000",
      });
      // Nothing in the config for Docker Hub: that pull goes without credentials.
      assert.equal(byRef["busybox:1"], undefined);
    }, { credentials: dockerConfigCredentials(dir) });
  });
});

Deno.test("a refused pull is failed with the registry's message and the helper the config names", async () => {
  await withConfigDir({ auths: {}, credsStore: "secretservice" }, async (dir) => {
    await withAgent(async ({ engine, api, logs, until }) => {
      engine.hook = (op) => {
        if (op === "pull") {
          throw new DockerError(
            "engine_error",
            'Head "https://registry.example.com:5000/v2/shop/app/manifests/1": no basic auth credentials',
            500,
          );
        }
      };
      api.set([want("app", { config: app })]);
      await until("failed", () => api.last("app")?.state === "failed");
      const error = api.last("app")?.error ?? "";
      assert.match(error, /: no basic auth credentials; /);
      assert.match(
        error,
        new RegExp(
          `${dir}/config\\.json names credential store "secretservice" for registry\\.example\\.com:5000, and launcher does not use credential helpers`,
        ),
      );
      assert.ok(logs.some((line) => line.includes("no basic auth credentials")));
    }, { credentials: dockerConfigCredentials(dir) });
  });
});

Deno.test("a config that breaks after the start fails the pull naming the file, never its text", async () => {
  const encoded = btoa(`u:${PASSWORD}`);
  // One closing brace short: the error is at the end of the text.
  const text = `{"auths": {"r": {"auth": "${encoded}"}}`;
  await withConfigDir({}, async (dir) => {
    await Deno.writeTextFile(`${dir}/config.json`, text);
    await withAgent(async ({ engine, api, logs, until }) => {
      api.set([want("app", { config: app })]);
      await until("failed", () => api.last("app")?.state === "failed");
      assert.equal(
        api.last("app")?.error,
        `${dir}/config.json is not valid JSON: expected ',' or '}' after property value ` +
          `(line 1, column ${text.length + 1})`,
      );
      assert.equal(engine.count("pull"), 0);
      for (const line of [...logs, ...api.reports.map((r) => r.error ?? "")]) {
        assert.ok(!line.includes(encoded) && !line.includes(PASSWORD), line);
      }
    }, { credentials: dockerConfigCredentials(dir) });
  });
});

Deno.test("an agent whose Docker config is broken does not start, naming the file", async () => {
  const entries = { auths: { "r.example.com": { auth: btoa("no colon") } } };
  await withConfigDir(entries, async (dir) => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      const args = ["agent", "--master", "http://127.0.0.1:9", "--docker-config", dir];
      assert.equal(await run(args), 1);
    } finally {
      console.error = original;
    }
    assert.equal(
      errors.at(-1),
      `error: ${dir}/config.json: auths["r.example.com"].auth is not base64 of "user:password"`,
    );
  });
});
