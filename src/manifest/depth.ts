/**
 * How deeply a manifest's lists and mappings nest, measured without recursion: the parsers recurse
 * once per level, and thousands of levels would overflow the stack before any message is made.
 */
import { CST } from "yaml";
import type { ErrorDetail } from "../errors.ts";
import { type Key, type Position, shortPath } from "./issues.ts";

/**
 * How deeply lists and mappings may nest. A manifest needs five levels; the parsers recurse once
 * per level, and thousands of levels overflow the stack, so deeper text is refused unread.
 */
export const MAX_DEPTH = 64;

/** The detail of text nested too deeply, at the collection that crosses the limit. */
export function depthDetail(path: Key[], at: Position | undefined): ErrorDetail {
  return {
    ...(path.length > 0 ? { path: shortPath(path) } : {}),
    message: `manifest is nested too deeply: lists and mappings nest at most ${MAX_DEPTH} levels`,
    ...at,
  };
}

/** The first collection in a YAML token tree nested deeper than {@link MAX_DEPTH}, if any. */
export function tooDeep(tokens: CST.Token[]): { offset: number; path: Key[] } | undefined {
  const stack: { token: CST.Token | undefined; depth: number; path: Key[] }[] = tokens.map((
    token,
  ) => ({ token, depth: 0, path: [] }));
  while (stack.length > 0) {
    const { token, depth, path } = stack.pop()!;
    if (token === undefined) continue;
    if (token.type === "document") {
      stack.push({ token: token.value, depth, path });
      continue;
    }
    if (
      token.type !== "block-map" && token.type !== "block-seq" && token.type !== "flow-collection"
    ) {
      continue;
    }
    if (depth >= MAX_DEPTH) return { offset: token.offset, path };
    const isList = token.type === "block-seq" ||
      (token.type === "flow-collection" && token.start.source === "[");
    token.items.forEach((item, index) => {
      const key = "key" in item && item.key ? item.key : undefined;
      const name: Key = key ? (CST.resolveAsScalar(key)?.value ?? "?") : isList ? index : "?";
      if (key) stack.push({ token: key, depth: depth + 1, path: [...path, name] });
      stack.push({ token: item.value, depth: depth + 1, path: [...path, name] });
    });
  }
  return undefined;
}

/** The path of the first list or mapping in parsed JSON nested deeper than {@link MAX_DEPTH}. */
export function tooDeepData(data: object): Key[] | undefined {
  const stack: { value: unknown; path: Key[] }[] = [{ value: data, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    if (path.length > MAX_DEPTH) return path;
    for (const [key, item] of Object.entries(value)) {
      stack.push({ value: item, path: [...path, Array.isArray(value) ? Number(key) : key] });
    }
  }
  return undefined;
}
