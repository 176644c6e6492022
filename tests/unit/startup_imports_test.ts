/**
 * Client commands must start fast: nothing they load statically may reach the Docker adapter
 * (docker-modem loads ssh2 at import, about 170 ms and 28 MB) or, except for commands that read
 * a manifest file, the YAML parser.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gm;

/** Every module reached from `entry` through static, non-type imports. */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (url: URL) => {
    if (seen.has(url.href)) return;
    seen.add(url.href);
    if (url.protocol !== "file:") return;
    const text = Deno.readTextFileSync(url);
    for (const match of text.matchAll(STATIC_IMPORT)) {
      const spec = match[1];
      visit(spec.startsWith(".") ? new URL(spec, url) : new URL(`bare:${spec}`));
    }
  };
  visit(new URL(entry, ROOT));
  return seen;
}

Deno.test("the CLI's static import graph holds neither the Docker adapter nor docker-modem", () => {
  const graph = [...staticGraph("main.ts")];
  assert.ok(graph.some((m) => m.endsWith("src/cli/manifest.ts")), "the walk reaches the CLI");
  assert.deepEqual(
    graph.filter((m) => m.includes("/src/docker/") || m.includes("docker-modem")),
    [],
  );
});

Deno.test("the CLI's static import graph does not load the YAML parser", () => {
  const graph = [...staticGraph("main.ts")];
  assert.deepEqual(
    graph.filter((m) => m === "bare:yaml" || m.endsWith("src/manifest/parse.ts")),
    [],
  );
});

Deno.test("a server on a data dir does not load the PostgreSQL driver", () => {
  const graph = [...staticGraph("src/server/http/serve.ts")];
  assert.ok(graph.some((m) => m.endsWith("src/server/cluster.ts")), "the walk reaches the cluster");
  assert.ok(graph.some((m) => m.endsWith("src/server/store/store.ts")), "and the store");
  assert.deepEqual(
    graph.filter((m) =>
      m === "bare:pg" || /\/src\/server\/pg_/.test(m) || m.includes("/postgres_store.ts")
    ),
    [],
  );
});
