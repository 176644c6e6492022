/**
 * Manifest text (YAML or JSON) to a validated {@link Manifest}, or a {@link ManifestError} whose
 * details name every problem with its path and, where the text allows, its line and column.
 */
import * as v from "valibot";
import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type YAMLError,
} from "yaml";
import { type ErrorDetail, LauncherError } from "../errors.ts";
import { CommandError, splitCommand } from "./command.ts";
import { specConflicts } from "./conflicts.ts";
import { OptionError, parseOptions } from "./options.ts";
import { type Manifest, ManifestSchema } from "./schema.ts";
import { closest } from "./suggest.ts";
import { describe } from "./describe.ts";

/** A manifest that cannot be read or does not validate; `details` holds every problem found. */
export class ManifestError extends LauncherError {
  override readonly status = 400;

  constructor(details: ErrorDetail[]) {
    super("invalid_manifest", summarize(details), details);
  }
}

/** A key on the way from the document root to a value. */
type Key = string | number;

/** Where a value sits in the text: 1-based line and column. */
interface Position {
  line: number;
  column: number;
}

/** Finds the text position of a path, or of its nearest existing parent. */
type Locate = (path: readonly Key[], atKey: boolean) => Position | undefined;

/** A parsed body, not yet validated. */
interface Source {
  data: unknown;
  locate: Locate;
}

const NOT_A_MAPPING = "manifest must be a mapping with name and containers";

/**
 * Parses and validates a manifest. `format` is how the body was sent: a JSON body sent as YAML,
 * or YAML sent as JSON, is rejected with a message saying how to send it instead.
 */
export function parseManifest(text: string, format: "yaml" | "json"): Manifest {
  const body = text.replace(/^\uFEFF/, "");
  if (body.trim() === "") throw new ManifestError([{ message: "manifest is empty" }]);
  const source = format === "json" ? readJson(body) : readYaml(body);
  const result = v.safeParse(ManifestSchema, source.data, { message: issueMessage });
  const details = [
    ...(result.success ? [] : issueDetails(result.issues, source.locate)),
    ...specDetails(source),
  ];
  if (!result.success || details.length > 0) throw new ManifestError(ordered(details));
  return result.output;
}

function readYaml(body: string): Source {
  const first = body.trimStart()[0];
  if (first === "{" || first === "[") {
    throw new ManifestError([{
      message: "body is JSON but was sent as YAML; send it as application/json",
    }]);
  }
  const lineCounter = new LineCounter();
  // Warnings (unresolved tags and the like) mean the text does not say what it seems to: reject.
  const doc = parseDocument(body, { lineCounter, prettyErrors: true, logLevel: "error" });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) throw new ManifestError(ordered(problems.map(yamlErrorDetail)));
  const locate = yamlLocator(doc, lineCounter);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    throw new ManifestError([{ message: "manifest is empty" }]);
  }
  if (!isMap(doc.contents)) {
    const what = isSeq(doc.contents)
      ? "a list"
      : isScalar(doc.contents)
      ? describe(doc.contents.value)
      : "an alias";
    throw new ManifestError([{ message: `${NOT_A_MAPPING}, not ${what}`, ...locate([], false) }]);
  }
  try {
    return { data: doc.toJS(), locate };
  } catch (error) {
    throw new ManifestError([aliasDetail(doc, lineCounter, error)]);
  }
}

function readJson(body: string): Source {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    const first = body.trimStart()[0];
    if (first !== "{" && first !== "[") {
      throw new ManifestError([{
        message: "body is not JSON; send YAML as application/x-yaml",
      }]);
    }
    throw new ManifestError([jsonErrorDetail(body, error)]);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ManifestError([{ message: `${NOT_A_MAPPING}, not ${describe(data)}` }]);
  }
  // JSON is YAML too: its nodes give positions, computed only when something is wrong.
  let locate: Locate | undefined;
  return {
    data,
    locate: (path, atKey) => {
      if (!locate) {
        const lineCounter = new LineCounter();
        locate = yamlLocator(parseDocument(body, { lineCounter, logLevel: "silent" }), lineCounter);
      }
      return locate(path, atKey);
    },
  };
}

/** Maps a position-finding walk over the YAML node tree, following aliases. */
function yamlLocator(doc: Document, lineCounter: LineCounter): Locate {
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  return (path, atKey) => {
    let node: unknown = doc.contents;
    let found = isNode(node) ? node.range?.[0] : undefined;
    for (const [i, key] of path.entries()) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((item) =>
          String(isScalar(item.key) ? item.key.value : item.key) === String(key)
        );
        if (!pair) break;
        const keyStart = isNode(pair.key) ? pair.key.range?.[0] : undefined;
        if (atKey && i === path.length - 1) {
          return keyStart === undefined ? undefined : position(keyStart);
        }
        node = pair.value;
        found = (isNode(node) ? node.range?.[0] : undefined) ?? keyStart ?? found;
      } else if (isSeq(node) && typeof key === "number" && key < node.items.length) {
        node = node.items[key];
        found = (isNode(node) ? node.range?.[0] : undefined) ?? found;
      } else {
        break;
      }
    }
    return found === undefined ? undefined : position(found);
  };
}

function yamlErrorDetail(error: YAMLError): ErrorDetail {
  // With prettyErrors the message repeats the position and quotes the source: keep the sentence.
  const message = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
  const start = error.linePos?.[0];
  return {
    message: lowerFirst(message),
    ...(start ? { line: start.line, column: start.col } : {}),
  };
}

function aliasDetail(doc: Document, lineCounter: LineCounter, error: unknown): ErrorDetail {
  const text = error instanceof Error ? error.message : String(error);
  const name = /^Unresolved alias.*: (.*)$/.exec(text)?.[1];
  if (name === undefined) return { message: lowerFirst(text) };
  let start: number | undefined;
  visit(doc, {
    Alias(_, alias) {
      if (alias.source !== name) return;
      start = alias.range?.[0];
      return visit.BREAK;
    },
  });
  const { line, col } = lineCounter.linePos(start ?? 0);
  return {
    message: `alias *${name} has no anchor &${name} before it`,
    ...(start === undefined ? {} : { line, column: col }),
  };
}

function jsonErrorDetail(body: string, error: unknown): ErrorDetail {
  const text = error instanceof Error ? error.message : String(error);
  const at = /^(.*?) at position (\d+)/.exec(text);
  if (at) return { message: lowerFirst(at[1]), ...offsetPosition(body, Number(at[2])) };
  if (text.startsWith("Unexpected end of JSON input")) {
    return { message: "unexpected end of JSON input", ...offsetPosition(body, body.length) };
  }
  // V8 quotes the whole body in this message; keep only the token.
  const token = /^Unexpected token '(.*?)', /s.exec(text)?.[1];
  return {
    message: token === undefined
      ? lowerFirst(text.split("\n")[0])
      : `unexpected token '${token}' in JSON`,
  };
}

function offsetPosition(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}

/** The message of an issue whose schema sets none: written for people, not for the default. */
function issueMessage(issue: v.BaseIssue<unknown>): string {
  const last = issue.path?.[issue.path.length - 1];
  if (issue.type === "strict_object" && last?.origin === "key") {
    return issue.expected === "never"
      ? `unknown key ${JSON.stringify(issue.input)}`
      : `missing required key ${JSON.stringify(last.key)}`;
  }
  if (issue.kind === "schema") {
    const expected = EXPECTED[issue.expected ?? ""] ?? issue.expected;
    return `must be ${expected}, not ${describe(issue.input)}`;
  }
  return lowerFirst(issue.message);
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  Array: "a list",
  Object: "a mapping",
};

/** Turns valibot issues into details with paths in the manifest's words and positions. */
function issueDetails(issues: v.BaseIssue<unknown>[], locate: Locate): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const add = (path: Key[], message: string, atKey = false) => {
    details.push({ path: formatPath(path), message, ...locate(path, atKey) });
  };
  const reported = new Set<unknown>();
  for (const issue of issues) {
    const path = (issue.path ?? []).map((item) => item.key as Key);
    const last = issue.path?.[issue.path.length - 1];
    if (issue.type === "strict_object") {
      // valibot takes a list for a mapping with keys "0", "1"...: say what it is instead.
      const object = last?.origin === "key" ? last.input : issue.input;
      const objectPath = last?.origin === "key" ? path.slice(0, -1) : path;
      if (Array.isArray(object)) {
        if (!reported.has(object)) add(objectPath, `must be a mapping, not a list`);
        reported.add(object);
        continue;
      }
      if (issue.expected === "never" && last) {
        // valibot stops at the first unknown key of an object: report them all.
        if (!reported.has(object)) unknownKeys(objectPath, object, add);
        reported.add(object);
        continue;
      }
    }
    if (path.at(-1) === "options" && Array.isArray(issue.input)) {
      // The schema checks the list as a whole; re-parsing finds the element at fault.
      try {
        parseOptions(issue.input as string[]);
      } catch (error) {
        if (error instanceof OptionError) path.push(error.index);
      }
    }
    const keyIssue = last?.origin === "key" && issue.type !== "strict_object";
    add(
      path,
      keyIssue ? `key ${JSON.stringify(last.key)} ${issue.message}` : issue.message,
      keyIssue,
    );
  }
  return details;
}

function unknownKeys(
  path: Key[],
  object: unknown,
  add: (path: Key[], message: string, atKey: boolean) => void,
): void {
  const allowed = allowedKeys(path);
  for (const key of Object.keys(object as object)) {
    if (allowed.includes(key)) continue;
    const suggestion = closest(key, allowed);
    const hint = suggestion ? `did you mean "${suggestion}"?` : `expected ${allowed.join(", ")}`;
    add([...path, key], `unknown key ${JSON.stringify(key)} (${hint})`, true);
  }
}

/** The shape of the schemas on the way to an object, enough to find its allowed keys. */
interface SchemaShape {
  readonly type: string;
  readonly entries?: Readonly<Record<string, SchemaShape>>;
  readonly item?: SchemaShape;
  readonly wrapped?: SchemaShape;
}

function allowedKeys(path: readonly Key[]): string[] {
  const unwrap = (schema: SchemaShape | undefined) => {
    while (schema?.wrapped) schema = schema.wrapped;
    return schema;
  };
  let schema = unwrap(ManifestSchema);
  for (const key of path) {
    schema = unwrap(schema?.entries ? schema.entries[String(key)] : schema?.item);
  }
  return Object.keys(schema?.entries ?? {});
}

/** Checks across specs and inside values that the schema cannot express. */
function specDetails(source: Source): ErrorDetail[] {
  const containers = (source.data as { containers?: unknown }).containers;
  if (!Array.isArray(containers)) return [];
  const details: ErrorDetail[] = [];
  const firstByName = new Map<string, number>();
  for (const [index, spec] of containers.entries()) {
    if (spec === null || typeof spec !== "object") continue;
    const { name } = spec as { name?: unknown };
    if (typeof name === "string") {
      const first = firstByName.get(name);
      if (first === undefined) {
        firstByName.set(name, index);
      } else {
        const path = ["containers", index, "name"];
        const firstLine = source.locate(["containers", first, "name"], false)?.line;
        const where = firstLine === undefined ? `by containers[${first}]` : `on line ${firstLine}`;
        details.push({
          path: formatPath(path),
          message: `container name ${JSON.stringify(name)} is already used ${where}`,
          ...source.locate(path, false),
        });
      }
    }
    for (const [field, what] of [["environment", "variable"], ["labels", "label"]] as const) {
      const map = (spec as Record<string, unknown>)[field];
      if (map === null || typeof map !== "object") continue;
      // valibot's record drops these keys silently; a variable or label must never vanish.
      for (const key of ["__proto__", "prototype", "constructor"]) {
        if (!Object.hasOwn(map, key)) continue;
        const path = ["containers", index, field, key];
        const message = `${what} name ${JSON.stringify(key)} is not supported`;
        details.push({ path: formatPath(path), message, ...source.locate(path, true) });
      }
    }
    for (const conflict of specConflicts(spec as Record<string, unknown>)) {
      const path = ["containers", index, ...conflict.field];
      const optionPath = ["containers", index, "options", conflict.optionIndex];
      const optionLine = source.locate(optionPath, false)?.line;
      const where = `${formatPath(optionPath)}${
        optionLine === undefined ? "" : `, line ${optionLine}`
      }`;
      const plural = conflict.subject === "volumes";
      details.push({
        path: formatPath(path),
        message: `${conflict.subject} ${plural ? "are" : "is"} also set by option ${
          JSON.stringify(conflict.option)
        } (${where}): set ${plural ? "them" : "it"} in one place`,
        ...source.locate(path, conflict.field[0] === "labels"),
      });
    }
    for (const key of ["entrypoint", "cmd"] as const) {
      const command = (spec as Record<string, unknown>)[key];
      if (typeof command !== "string") continue;
      try {
        splitCommand(command);
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        const path = ["containers", index, key];
        details.push({
          path: formatPath(path),
          message: error.message,
          ...source.locate(path, false),
        });
      }
    }
  }
  return details;
}

/** Details in text order (those without a position last), each problem once. */
function ordered(details: ErrorDetail[]): ErrorDetail[] {
  const seen = new Set<string>();
  const unique = details.filter((detail) => {
    const key = `${detail.path}\n${detail.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const rank = (detail: ErrorDetail) => [detail.line ?? Infinity, detail.column ?? Infinity];
  return unique.sort((a, b) => rank(a)[0] - rank(b)[0] || rank(a)[1] - rank(b)[1]);
}

/** `containers[1].ports[0]`, with keys that are not plain words quoted. */
function formatPath(path: readonly Key[]): string {
  return path.map((key, i) =>
    typeof key === "number"
      ? `[${key}]`
      : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)
      ? `${i === 0 ? "" : "."}${key}`
      : `[${JSON.stringify(key)}]`
  ).join("");
}

function summarize(details: readonly ErrorDetail[]): string {
  const [first] = details;
  if (!first) return "manifest is invalid";
  const where = first.line === undefined
    ? undefined
    : first.column === undefined
    ? `line ${first.line}`
    : `line ${first.line}, column ${first.column}`;
  const at = first.path && where ? `${first.path} (${where})` : first.path ?? where;
  const more = details.length - 1;
  const tail = more === 0 ? "" : ` (and ${more} more problem${more === 1 ? "" : "s"})`;
  return `${at ? `${at}: ` : ""}${first.message}${tail}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
