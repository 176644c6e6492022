import assert from "node:assert/strict";
import {
  checkEdges,
  type Edge,
  folderCycles,
  formatViolation,
  importsOf,
  layerOf,
  LAYERS,
  scanSources,
} from "../../.ci/layers.ts";

const edge = (from: string, to: string): Edge => ({ from, to });

Deno.test("a file belongs to the deepest folder of the table", () => {
  assert.equal(layerOf("src/server/http/app.ts"), "http");
  assert.equal(layerOf("src/server/store/sqlite.ts"), "store");
  assert.equal(layerOf("src/server/planner.ts"), "server");
  assert.equal(layerOf("src/server/other/thing.ts"), "server", "unlisted subfolders are the core");
  assert.equal(layerOf("src/errors.ts"), "base");
  assert.equal(layerOf("src/cli/main.ts"), "cli");
  assert.equal(layerOf("src/util/x.ts"), undefined, "base is only the files directly in src/");
  assert.equal(layerOf("main.ts"), undefined);
});

Deno.test("a planted cycle between two folders is a cycle and a wrong-direction edge", () => {
  const edges = [
    edge("src/api/router.ts", "src/server/planner.ts"),
    edge("src/server/planner.ts", "src/api/schemas.ts"),
  ];
  assert.deepEqual(folderCycles(edges), [["server", "api"]]);
  const found = checkEdges(edges);
  const direction = found.filter((v) => v.kind === "direction");
  assert.deepEqual(direction.map((v) => [v.from, v.to]), [[
    "src/api/router.ts",
    "src/server/planner.ts",
  ]]);
  assert.match(direction[0].rule, /api may not import server/);
  const cycle = found.filter((v) => v.kind === "cycle");
  assert.equal(cycle.length, 1);
  assert.match(cycle[0].rule, /folder cycle api -> server -> api/);
  assert.equal(
    formatViolation({ ...direction[0], line: 3 }),
    "src/api/router.ts:3 imports src/server/planner.ts: api may not import server " +
      "(api may import manifest, base)",
  );
});

Deno.test("edges follow the table's direction", () => {
  const kinds = (from: string, to: string) => checkEdges([edge(from, to)]).map((v) => v.kind);
  assert.deepEqual(kinds("src/manifest/parse.ts", "src/api/schemas.ts"), ["direction"]);
  assert.deepEqual(kinds("src/agent/agent.ts", "src/docker/engine.ts"), []);
  assert.deepEqual(kinds("src/docker/engine.ts", "src/agent/agent.ts"), ["direction"]);
  assert.deepEqual(kinds("src/cli/serve.ts", "src/server/serve.ts"), []);
  assert.deepEqual(kinds("src/server/http/app.ts", "src/server/store/sqlite.ts"), []);
  assert.deepEqual(kinds("src/server/store/sqlite.ts", "src/server/planner.ts"), ["direction"]);
  assert.deepEqual(kinds("src/duration.ts", "src/errors.ts"), [], "within one layer");
  for (const to of ["src/manifest/schema.ts", "src/api/schemas.ts", "src/docker/errors.ts"]) {
    assert.deepEqual(kinds("src/errors.ts", to), ["direction"], `base -> ${to}`);
  }
  assert.deepEqual(kinds("src/util/x.ts", "src/errors.ts"), ["no_layer"]);
});

Deno.test("a cycle is reported even when the table would allow each of its edges", () => {
  const loose = LAYERS.map((rule) =>
    rule.layer === "api" ? { ...rule, may: [...rule.may, "server" as const] } : rule
  );
  const edges = [
    edge("src/api/router.ts", "src/server/planner.ts"),
    edge("src/server/planner.ts", "src/api/schemas.ts"),
    edge("src/server/auth.ts", "src/api/schemas.ts"),
  ];
  assert.deepEqual(
    checkEdges(edges, loose).map((v) => `${v.kind} ${v.from}: ${v.rule}`),
    [
      "cycle src/api/router.ts: closes the folder cycle api -> server -> api",
      "cycle src/server/planner.ts: closes the folder cycle server -> api -> server, " +
      "1 of 2 such imports",
    ],
  );
});

Deno.test("imports are read from code only, in every form", () => {
  const text = [
    'import { a } from "./a.ts";',
    "import type { B } from '../b.ts';",
    "import {",
    "  c,",
    "  type D,",
    '} from "./c.ts";',
    'export * from "./e.ts";',
    'import "./side.ts";',
    'const lazy = await import("./lazy.ts");',
    'import { serve } from "hono";',
    '// import { gone } from "./comment.ts";',
    '/* import("./block.ts") */',
    "const s = 'import x from \"./string.ts\"';",
    "const r = /'(.*?)', /s.exec(s);",
    'const t = `${s} import("./template.ts")`;',
    'const q = `./${s}.ts`; await import(q); const u = a / 2; import("./after.ts");',
  ].join("\n");
  assert.deepEqual(importsOf(text), [
    { specifier: "./a.ts", line: 1 },
    { specifier: "../b.ts", line: 2 },
    { specifier: "./c.ts", line: 3 },
    { specifier: "./e.ts", line: 7 },
    { specifier: "./side.ts", line: 8 },
    { specifier: "./lazy.ts", line: 9 },
    { specifier: "hono", line: 10 },
    { specifier: "./after.ts", line: 16 },
  ]);
});

Deno.test("the scan reads a planted tree, imported or not, and fails on its cycle", async () => {
  const root = await Deno.makeTempDir({ prefix: "launcher-layers-test-" });
  try {
    const files: Record<string, string> = {
      "errors.ts": "export class LauncherError extends Error {}\n",
      "api/schemas.ts":
        'import { LauncherError } from "../errors.ts";\nexport { LauncherError };\n',
      "manifest/parse.ts": [
        'import type { LauncherError } from "../api/schemas.ts";',
        'import { parse } from "yaml";',
        "export type { LauncherError };",
        "export { parse };",
      ].join("\n"),
      // Nobody imports this file; it is still read.
      "server/store/orphan.ts": 'export const load = () => import("../planner.ts");\n',
      "server/planner.ts": 'export * from "../api/schemas.ts";\n',
    };
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(`${root}/${name.slice(0, name.lastIndexOf("/") + 1)}`, { recursive: true });
      await Deno.writeTextFile(`${root}/${name}`, text);
    }
    const scan = await scanSources(root);
    assert.equal(scan.files.length, 5);
    assert.deepEqual(scan.edges.map((e) => `${e.from} -> ${e.to}`), [
      "src/api/schemas.ts -> src/errors.ts",
      "src/manifest/parse.ts -> src/api/schemas.ts",
      "src/server/planner.ts -> src/api/schemas.ts",
      "src/server/store/orphan.ts -> src/server/planner.ts",
    ]);
    const found = checkEdges(scan.edges).map((v) => `${v.kind} ${v.from} -> ${v.to}`);
    assert.deepEqual(found, [
      "direction src/manifest/parse.ts -> src/api/schemas.ts",
      "direction src/server/store/orphan.ts -> src/server/planner.ts",
    ]);
    assert.deepEqual(folderCycles(scan.edges), [], "no cycle yet");

    await Deno.writeTextFile(
      `${root}/api/router.ts`,
      'import type { Planner } from "../server/planner.ts";\nexport type { Planner };\n',
    );
    // A .tsx page is a source file like any other.
    await Deno.mkdir(`${root}/server/http/ui`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/server/http/ui/page.tsx`,
      'import { Planner } from "../../planner.ts";\nimport { x } from "../../../cli/main.ts";\n',
    );
    const pages = checkEdges((await scanSources(root)).edges).filter((v) =>
      v.from.endsWith(".tsx")
    );
    assert.deepEqual(pages.map((v) => `${v.kind} ${v.to}`), ["direction src/cli/main.ts"]);
    await Deno.remove(`${root}/server/http/ui`, { recursive: true });

    const cyclic = checkEdges((await scanSources(root)).edges);
    assert.deepEqual(cyclic.filter((v) => v.kind === "cycle").map(formatViolation), [
      "src/api/router.ts:1 imports src/server/planner.ts: closes the folder cycle api -> server -> api",
    ]);
    assert.ok(cyclic.some((v) => v.kind === "direction" && v.from === "src/api/router.ts"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("docs/architecture.md shows the same table as the script", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/architecture.md", import.meta.url));
  const rows = [...doc.matchAll(/^\| `(\w+)` +\| [^|]*?`(src\/[\w/]*)`[^|]*\| ([\w, ]+?) +\|$/gm)];
  assert.deepEqual(
    rows.map(([, layer, folder, may]) => ({ layer, folder, may })),
    LAYERS.map((rule) => ({
      layer: rule.layer,
      folder: rule.nested ? rule.folder : "src/",
      may: rule.may.length > 0 ? rule.may.join(", ") : "nothing",
    })),
  );
});
