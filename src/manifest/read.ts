/**
 * Manifest text (YAML or JSON) to data, with a way back from a path to its line and column. Every
 * problem of the text itself is a {@link ManifestError} in launcher's words, never the parser's.
 */
import {
  Composer,
  type Document,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Pair,
  parseDocument,
  Parser,
  visit,
  type YAMLError,
  type YAMLMap,
} from "yaml";
import { type ErrorDetail, errorMessage } from "../errors.ts";
import { describe } from "./describe.ts";
import { depthDetail, tooDeep, tooDeepData } from "./depth.ts";
import { type Key, type Locate, lowerFirst, type Position, shortPath } from "./issues.ts";
import { ManifestError } from "./manifest_error.ts";

/** A parsed body, not yet validated. */
export interface Source {
  data: unknown;
  locate: Locate;
}

/** How many values aliases may expand to, against documents that grow exponentially. */
const MAX_ALIAS_COUNT = 100;

const NOT_A_MAPPING = "manifest must be a mapping with name and containers";

/** Reads YAML: one document, no unknown tags, not nested too deeply. */
export function readYaml(body: string): Source {
  const first = body.trimStart()[0];
  if (first === "{" || first === "[") {
    throw new ManifestError([{
      message: "body is JSON but was sent as YAML; send it as application/json",
    }]);
  }
  const lineCounter = new LineCounter();
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  // The token tree is built without recursion; its depth is checked before anything recurses.
  const tokens = [...new Parser(lineCounter.addNewLine).parse(body)];
  const deep = tooDeep(tokens);
  if (deep) throw new ManifestError([depthDetail(deep.path, position(deep.offset))]);
  // Warnings (unresolved tags and the like) mean the text does not say what it seems to: reject.
  // The parser's own check of unique keys takes quadratic time; `duplicateKeys` takes linear.
  const composer = new Composer({ logLevel: "error", uniqueKeys: false });
  const docs = [...composer.compose(tokens, true, body.length)];
  const doc = docs[0];
  const problems: ErrorDetail[] = [...doc.errors, ...doc.warnings].map((error) =>
    yamlErrorDetail(error, doc, body, position)
  );
  for (const offset of duplicateKeys(doc)) {
    const path = pathAt(doc, offset);
    problems.push({
      path: shortPath(path),
      message: "map keys must be unique",
      ...position(offset),
    });
  }
  if (docs.length > 1) {
    problems.push({
      message: `manifest must be one YAML document, found ${docs.length}`,
      ...position(docs[1].range[0]),
    });
  }
  if (problems.length > 0) throw new ManifestError(problems);
  const locate = yamlLocator(doc, position);
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
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), locate };
  } catch (error) {
    throw new ManifestError([aliasDetail(doc, position, error)]);
  }
}

/** Reads JSON: a mapping, not nested too deeply. */
export function readJson(body: string): Source {
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
  const deep = tooDeepData(data);
  if (deep) throw new ManifestError([depthDetail(deep, undefined)]);
  // JSON is YAML too: its nodes give positions, computed only when something is wrong.
  let locate: Locate | undefined;
  return {
    data,
    locate: (path, atKey) => {
      if (!locate) {
        const lineCounter = new LineCounter();
        const doc = parseDocument(body, { lineCounter, logLevel: "silent", uniqueKeys: false });
        locate = yamlLocator(doc, (offset) => {
          const { line, col } = lineCounter.linePos(offset);
          return { line, column: col };
        });
      }
      return locate(path, atKey);
    },
  };
}

/** Maps a position-finding walk over the YAML node tree, following aliases. */
function yamlLocator(doc: Document, position: (offset: number) => Position): Locate {
  // Each mapping's keys are indexed once: a manifest with thousands of bad keys stays fast.
  const indexes = new WeakMap<object, Map<string, Pair>>();
  const pairOf = (map: YAMLMap, key: Key) => {
    let index = indexes.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) {
        const name = String(isScalar(item.key) ? item.key.value : item.key);
        if (!index.has(name)) index.set(name, item);
      }
      indexes.set(map, index);
    }
    return index.get(String(key));
  };
  return (path, atKey) => {
    let node: unknown = doc.contents;
    let found = isNode(node) ? node.range?.[0] : undefined;
    for (const [i, key] of path.entries()) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = pairOf(node, key);
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

/** Where each key that repeats an earlier key of its mapping starts. */
function duplicateKeys(doc: Document): number[] {
  const offsets: number[] = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isSeq(node)) stack.push(...node.items);
    if (!isMap(node)) continue;
    const seen = new Set<unknown>();
    for (const pair of node.items) {
      // Scalars are equal when their values are (1 and "1" differ); other keys never are.
      const identity = isScalar(pair.key) ? `${typeof pair.key.value}:${pair.key.value}` : pair.key;
      if (seen.has(identity) && isNode(pair.key) && pair.key.range) {
        offsets.push(pair.key.range[0]);
      }
      seen.add(identity);
      stack.push(pair.value);
    }
  }
  return offsets;
}

/** The path of the innermost value whose text holds `offset`, for problems the parser found. */
function pathAt(doc: Document, offset: number): Key[] {
  const path: Key[] = [];
  let node: unknown = doc.contents;
  while (isMap(node) || isSeq(node)) {
    const items: unknown[] = node.items;
    const index = items.findIndex((item) => {
      const start = isPair(item) ? (isNode(item.key) ? item.key.range?.[0] : undefined) : undefined;
      const value = isPair(item) ? item.value : item;
      const range = isNode(value) ? value.range : undefined;
      return (start ?? range?.[0] ?? Infinity) <= offset && offset < (range?.[2] ?? -Infinity);
    });
    if (index < 0) break;
    const item = items[index];
    if (isPair(item)) {
      path.push(String(isScalar(item.key) ? item.key.value : item.key));
      node = item.value;
    } else {
      path.push(index);
      node = item;
    }
  }
  return path;
}

/** Parser problems that belong to one value of a well-formed document. */
const PATH_CODES = new Set([
  "TAG_RESOLVE_FAILED",
  "DUPLICATE_KEY",
  "BAD_COLLECTION_TYPE",
  "KEY_OVER_1024_CHARS",
]);

function yamlErrorDetail(
  error: YAMLError,
  doc: Document,
  body: string,
  position: (offset: number) => Position,
): ErrorDetail {
  const [start, end] = error.pos;
  // A problem of a value has a path; one of the syntax may leave the tree too broken to tell.
  const path = PATH_CODES.has(error.code) ? pathAt(doc, start) : [];
  const where = { ...(path.length > 0 ? { path: shortPath(path) } : {}), ...position(start) };
  if (error.code === "TAG_RESOLVE_FAILED") {
    const tag = body.slice(start, end).split(/\s/)[0];
    const shown = tag.startsWith("!") ? `${tag} ` : "";
    // A standard tag on a value it cannot hold (`!!int abc`) is not an unknown tag.
    if (
      /^Unresolved tag: tag:yaml\.org,2002:(?:str|int|float|bool|null|map|seq)\b/.test(
        error.message,
      )
    ) {
      return {
        ...where,
        message: `the value does not fit its tag ${shown.trim()}: drop the tag or fix the value`,
      };
    }
    return {
      ...where,
      message: `tag ${shown}is not supported: write plain strings, numbers, booleans, ` +
        "lists and mappings",
    };
  }
  if (error.code === "KEY_OVER_1024_CHARS") {
    return { ...where, message: "a key is longer than 1024 characters, the most YAML allows" };
  }
  // The parser's message may repeat the position or quote the source: keep the sentence.
  const message = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
  return { ...where, message: lowerFirst(message) };
}

function aliasDetail(
  doc: Document,
  position: (offset: number) => Position,
  error: unknown,
): ErrorDetail {
  const text = errorMessage(error);
  const name = /^Unresolved alias.*: (.*)$/.exec(text)?.[1];
  let start: number | undefined;
  visit(doc, {
    Alias(_, alias) {
      if (name !== undefined && alias.source !== name) return;
      start = alias.range?.[0];
      return visit.BREAK;
    },
  });
  const at = start === undefined ? {} : { path: shortPath(pathAt(doc, start)), ...position(start) };
  if (name !== undefined) {
    return { ...at, message: `alias *${name} has no anchor &${name} before it` };
  }
  return {
    ...at,
    message: `aliases expand to too many values (more than ${MAX_ALIAS_COUNT}): write them out`,
  };
}

function jsonErrorDetail(body: string, error: unknown): ErrorDetail {
  const text = errorMessage(error);
  const at = /^(.*?) at position (\d+)/.exec(text);
  if (at) return { message: lowerFirst(at[1]), ...offsetPosition(body, Number(at[2])) };
  if (text.startsWith("Unexpected end of JSON input")) {
    return { message: "unexpected end of JSON input", ...offsetPosition(body, body.length) };
  }
  // V8 quotes the whole body in this message; keep only the token.
  const token = /^Unexpected token '(.*?)', /s.exec(text)?.[1];
  return {
    message: token === undefined ? "body is not valid JSON" : `unexpected token '${token}' in JSON`,
  };
}

function offsetPosition(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}
