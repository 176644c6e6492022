/**
 * The layer rule of src/: which folder may import which. `deno task check` runs this file and
 * fails on an import against the table or on a cycle between folders. docs/architecture.md shows
 * the same table; change both together.
 *
 * Usage: deno run --allow-read .ci/layers.ts
 */
import { pathToFileURL } from "node:url";

/** A folder of src/ with its own place in the import order. */
export type Layer =
  | "cli"
  | "client"
  | "agent"
  | "docker"
  | "http"
  | "server"
  | "store"
  | "api"
  | "manifest"
  | "base";

/** One row of the rule: a layer, its folder, and the layers it may import. */
export interface LayerRule {
  layer: Layer;
  folder: string;
  /** False only for base, which is the files directly in src/, not its subfolders. */
  nested: boolean;
  may: readonly Layer[];
}

/** The rule. Anything not listed is refused; imports within one layer are always fine. */
export const LAYERS: readonly LayerRule[] = [
  // cli starts the server and the agent, so it is the one layer above both.
  {
    layer: "cli",
    folder: "src/cli/",
    nested: true,
    may: ["client", "api", "manifest", "http", "server", "agent", "base"],
  },
  { layer: "client", folder: "src/client/", nested: true, may: ["api", "manifest", "base"] },
  {
    layer: "agent",
    folder: "src/agent/",
    nested: true,
    may: ["client", "docker", "api", "manifest", "base"],
  },
  { layer: "docker", folder: "src/docker/", nested: true, may: ["base"] },
  {
    layer: "http",
    folder: "src/server/http/",
    nested: true,
    may: ["server", "store", "api", "manifest", "base"],
  },
  // Subfolders of src/server/ that are not listed here belong to the server core.
  {
    layer: "server",
    folder: "src/server/",
    nested: true,
    may: ["store", "api", "manifest", "base"],
  },
  { layer: "store", folder: "src/server/store/", nested: true, may: ["api", "manifest", "base"] },
  { layer: "api", folder: "src/api/", nested: true, may: ["manifest", "base"] },
  { layer: "manifest", folder: "src/manifest/", nested: true, may: ["base"] },
  { layer: "base", folder: "src/", nested: false, may: [] },
];

/** An import of one file by another, paths relative to the repository (`src/api/router.ts`). */
export interface Edge {
  from: string;
  to: string;
  /** Line of the import in `from`, when it was read from a file. */
  line?: number;
}

/** One broken rule, named by the import that breaks it. */
export interface Violation {
  kind: "direction" | "cycle" | "no_layer";
  from: string;
  to: string;
  line?: number;
  rule: string;
}

/** The layer of a repository-relative path, or undefined when no folder of the table holds it. */
export function layerOf(path: string, rules: readonly LayerRule[] = LAYERS): Layer | undefined {
  const normal = path.replaceAll("\\", "/").replace(/^\.\//, "");
  let best: LayerRule | undefined;
  for (const rule of rules) {
    if (!normal.startsWith(rule.folder)) continue;
    if (!rule.nested && normal.slice(rule.folder.length).includes("/")) continue;
    if (!best || rule.folder.length > best.folder.length) best = rule;
  }
  return best?.layer;
}

function ruleOf(layer: Layer, rules: readonly LayerRule[]): LayerRule {
  return rules.find((rule) => rule.layer === layer)!;
}

/** The groups of layers that import each other, each in table order; only groups of two or more. */
export function folderCycles(
  edges: readonly Edge[],
  rules: readonly LayerRule[] = LAYERS,
): Layer[][] {
  const next = layerGraph(edges, rules);
  // Tarjan's strongly connected components over at most ten nodes.
  const index = new Map<Layer, number>();
  const low = new Map<Layer, number>();
  const stack: Layer[] = [];
  const groups: Layer[][] = [];
  const visit = (layer: Layer) => {
    index.set(layer, index.size);
    low.set(layer, index.get(layer)!);
    stack.push(layer);
    for (const to of next.get(layer) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(layer, Math.min(low.get(layer)!, low.get(to)!));
      } else if (stack.includes(to)) {
        low.set(layer, Math.min(low.get(layer)!, index.get(to)!));
      }
    }
    if (low.get(layer) !== index.get(layer)) return;
    const group: Layer[] = [];
    let member: Layer;
    do {
      member = stack.pop()!;
      group.push(member);
    } while (member !== layer);
    if (group.length > 1) groups.push(group);
  };
  for (const { layer } of rules) if (!index.has(layer)) visit(layer);
  const order = (layer: Layer) => rules.findIndex((rule) => rule.layer === layer);
  for (const group of groups) group.sort((a, b) => order(a) - order(b));
  return groups.sort((a, b) => order(a[0]) - order(b[0]));
}

/** Layer to the layers it imports, across layers only. */
function layerGraph(edges: readonly Edge[], rules: readonly LayerRule[]): Map<Layer, Set<Layer>> {
  const next = new Map<Layer, Set<Layer>>();
  for (const edge of edges) {
    const from = layerOf(edge.from, rules);
    const to = layerOf(edge.to, rules);
    if (!from || !to || from === to) continue;
    if (!next.has(from)) next.set(from, new Set());
    next.get(from)!.add(to);
  }
  return next;
}

/** Shortest path of layers from `start` to `goal` in `next`, both ends included. */
function shortestPath(next: Map<Layer, Set<Layer>>, start: Layer, goal: Layer): Layer[] {
  const came = new Map<Layer, Layer | undefined>([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const layer = queue.shift()!;
    if (layer === goal) break;
    for (const to of next.get(layer) ?? []) {
      if (came.has(to)) continue;
      came.set(to, layer);
      queue.push(to);
    }
  }
  const path: Layer[] = [];
  for (let at: Layer | undefined = goal; at !== undefined; at = came.get(at)) path.unshift(at);
  return path;
}

/**
 * Every import against the table, one per edge, then one per pair of layers that closes a cycle
 * (naming its first import): a cycle is reported even if each of its edges were allowed.
 */
export function checkEdges(
  edges: readonly Edge[],
  rules: readonly LayerRule[] = LAYERS,
): Violation[] {
  const found: Violation[] = [];
  for (const edge of edges) {
    const from = layerOf(edge.from, rules);
    const to = layerOf(edge.to, rules);
    if (!from || !to) {
      const lost = from ? edge.to : edge.from;
      found.push({
        ...edge,
        kind: "no_layer",
        rule: `${lost} is in no layer (add its folder to LAYERS in .ci/layers.ts)`,
      });
    } else if (from !== to && !ruleOf(from, rules).may.includes(to)) {
      const may = ruleOf(from, rules).may;
      found.push({
        ...edge,
        kind: "direction",
        rule: `${from} may not import ${to} (${from} may import ${
          may.length > 0 ? may.join(", ") : "nothing else of ours"
        })`,
      });
    }
  }
  const next = layerGraph(edges, rules);
  for (const group of folderCycles(edges, rules)) {
    const pairs = new Map<string, Edge[]>();
    for (const edge of edges) {
      const from = layerOf(edge.from, rules);
      const to = layerOf(edge.to, rules);
      if (!from || !to || from === to || !group.includes(from) || !group.includes(to)) continue;
      const key = `${from} ${to}`;
      if (!pairs.has(key)) pairs.set(key, []);
      pairs.get(key)!.push(edge);
    }
    // With the table a DAG, a cycle holds an import against it: name that one, not the allowed
    // imports around it, so the report points at what to move. Only a cycle the table itself
    // allows names every pair.
    const against = [...pairs].filter(([key]) => {
      const [from, to] = key.split(" ") as [Layer, Layer];
      return !ruleOf(from, rules).may.includes(to);
    });
    for (const [key, pairEdges] of against.length > 0 ? against : pairs) {
      const [from, to] = key.split(" ") as [Layer, Layer];
      const cycle = [from, ...shortestPath(next, to, from)].join(" -> ");
      const more = pairEdges.length > 1 ? `, 1 of ${pairEdges.length} such imports` : "";
      found.push({
        ...pairEdges[0],
        kind: "cycle",
        rule: `closes the folder cycle ${cycle}${more}`,
      });
    }
  }
  return found;
}

/** One line of the report for a violation. */
export function formatViolation(violation: Violation): string {
  const at = violation.line === undefined ? "" : `:${violation.line}`;
  return `${violation.from}${at} imports ${violation.to}: ${violation.rule}`;
}

/**
 * Blanks comments and the insides of strings, templates and regular expressions, keeping every
 * offset and line break, so that only real code is matched for imports.
 */
export function maskSource(text: string): string {
  const out = text.split("");
  const blank = (start: number, end: number) => {
    for (let k = start; k < end && k < out.length; k++) if (out[k] !== "\n") out[k] = " ";
  };
  const n = text.length;
  // Brace depth at which each open `${` of a template literal returns to its template.
  const templates: number[] = [];
  let depth = 0;
  // The last token of code, to tell a regular expression from a division.
  let previous = "";
  const template = (start: number): number => {
    let j = start;
    while (j < n && text[j] !== "`" && !(text[j] === "$" && text[j + 1] === "{")) {
      j += text[j] === "\\" ? 2 : 1;
    }
    blank(start, j);
    if (j >= n) return n;
    previous = ")";
    if (text[j] === "`") return j + 1;
    templates.push(depth);
    previous = "{";
    return j + 2;
  };
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      blank(i, end < 0 ? n : end);
      i = end < 0 ? n : end;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      blank(i, end < 0 ? n : end + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
      previous = ")";
    } else if (c === "`") {
      i = template(i + 1);
    } else if (c === "}" && templates.length > 0 && templates.at(-1) === depth) {
      templates.pop();
      i = template(i + 1);
    } else if (c === "/" && startsRegExp(previous)) {
      let j = i + 1;
      let inClass = false;
      while (j < n && text[j] !== "\n" && (inClass || text[j] !== "/")) {
        if (text[j] === "[") inClass = true;
        else if (text[j] === "]") inClass = false;
        j += text[j] === "\\" ? 2 : 1;
      }
      if (j < n && text[j] === "/") {
        blank(i + 1, j);
        i = j + 1;
        previous = ")";
      } else {
        // No closing slash on the line: it was a division after all.
        previous = c;
        i++;
      }
    } else if (/[\w$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(text[j])) j++;
      previous = text.slice(i, j);
      i = j;
    } else {
      if (c === "{") depth++;
      if (c === "}") depth--;
      if (!/\s/.test(c)) previous = c;
      i++;
    }
  }
  return out.join("");
}

const BEFORE_REGEXP = new Set([..."(,=:[!&|?{};+-*%<>~^", "}"]);
const KEYWORDS_BEFORE_REGEXP = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "instanceof",
  "yield",
  "await",
]);

function startsRegExp(previous: string): boolean {
  return previous === "" || BEFORE_REGEXP.has(previous) || KEYWORDS_BEFORE_REGEXP.has(previous);
}

// Matched against masked text, where the specifier is blank between its kept quotes; the `d` flag
// gives its offsets to read it from the original text.
const IMPORT_PATTERNS = [
  // import x from, import { a, type b } from, import * as ns from, import type, export ... from
  /(?<![\w$.])(?:import|export)(?![\w$])[\w$*{},\s]*?(?<![\w$])from\s*(["'])([^"'\n]*)\1/dg,
  // import "./side_effect.ts"
  /(?<![\w$.])import\s*(["'])([^"'\n]*)\1/dg,
  // import("./lazy.ts"), also as a type: typeof import("./x.ts")
  /(?<![\w$.])import\s*\(\s*(["'`])([^"'`\n]*)\1\s*[,)]/dg,
];

/** The specifiers a module imports, static, type-only and dynamic with a literal, in order. */
export function importsOf(text: string): { specifier: string; line: number }[] {
  const masked = maskSource(text);
  const found: { specifier: string; line: number; at: number }[] = [];
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of masked.matchAll(pattern)) {
      const [start, end] = match.indices![2]!;
      const specifier = text.slice(start, end);
      // A template with a substitution names no one file.
      if (specifier.includes("${")) continue;
      const line = text.slice(0, match.index).split("\n").length;
      found.push({ specifier, line, at: match.index });
    }
  }
  return found.sort((a, b) => a.at - b.at).map(({ specifier, line }) => ({ specifier, line }));
}

/** Whether a specifier names a file of ours rather than a package (npm:, node:, a bare name). */
function isLocal(specifier: string): boolean {
  return specifier.startsWith("./") || specifier.startsWith("../");
}

/** `dir` and `specifier` joined and normalized, in forward slashes. */
function joinPath(dir: string, specifier: string): string {
  const parts: string[] = [];
  for (const part of `${dir}/${specifier}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && parts.length > 0 && parts.at(-1) !== "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

/** Every `.ts` and `.tsx` file below `dir` (the web UI's pages are `.tsx`), relative to it, sorted. */
async function tsFiles(dir: URL, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      const sub = new URL(`${encodeURIComponent(entry.name)}/`, dir);
      found.push(...await tsFiles(sub, `${prefix}${entry.name}/`));
    } else if (entry.isFile && /\.tsx?$/.test(entry.name)) {
      found.push(`${prefix}${entry.name}`);
    }
  }
  return found.sort();
}

/**
 * Reads every `.ts` file below `root` (a folder laid out like src/, imported or not) and returns
 * the files and the imports between them, named as if `root` were src/.
 */
export async function scanSources(root: string | URL): Promise<{ files: string[]; edges: Edge[] }> {
  const url = typeof root === "string" ? pathToFileURL(root) : root;
  // A trailing slash makes the folder the base that file names resolve against.
  const dir = new URL(url.href.endsWith("/") ? url.href : `${url.href}/`);
  const files = (await tsFiles(dir)).map((file) => `src/${file}`);
  const edges: Edge[] = [];
  for (const file of files) {
    const relative = file.slice("src/".length).split("/").map(encodeURIComponent).join("/");
    const text = await Deno.readTextFile(new URL(relative, dir));
    const folder = file.slice(0, file.lastIndexOf("/"));
    for (const { specifier, line } of importsOf(text)) {
      if (isLocal(specifier)) edges.push({ from: file, to: joinPath(folder, specifier), line });
    }
  }
  return { files, edges };
}

if (import.meta.main) {
  const { files, edges } = await scanSources(new URL("../src/", import.meta.url));
  const violations = checkEdges(edges);
  const counts = `${files.length} files, ${edges.length} imports`;
  if (violations.length === 0) {
    console.log(`layers: ${counts}, no violations`);
  } else {
    for (const violation of violations) console.error(formatViolation(violation));
    console.error(`layers: ${counts}, ${violations.length} violations (see docs/architecture.md)`);
    Deno.exit(1);
  }
}
