/**
 * Variables in a manifest's YAML text, as Compose resolves them: in values only (never in keys or
 * comments), after the YAML is read, so a value cannot add structure to the document. The result
 * is the same text with each value that held a reference rewritten in place, so comments,
 * formatting and line numbers stay as the user wrote them.
 */
import { Composer, CST, LineCounter, parse, Parser } from "yaml";
import type { ErrorDetail } from "../errors.ts";
import { type Key, shortPath } from "./issues.ts";
import { ManifestError } from "./manifest_error.ts";
import { interpolate, type Lookup } from "./variables.ts";

export type { Lookup } from "./variables.ts";

/** A scalar token and where it sits: what rewriting it needs to keep the document's shape. */
interface Place {
  token: CST.FlowScalar | CST.BlockScalar;
  path: Key[];
  /** Inside `[...]` or `{...}`, where `,` and brackets end a plain value. */
  inFlow: boolean;
  /** An item of a collection: a block scalar's lines are indented under its key or dash. */
  afterKey: boolean;
  /** Has a tag (`!!str`), which decides its type whatever its text. */
  tagged: boolean;
  /** A mapping's key, which is never interpolated (as in Compose). */
  isKey: boolean;
}

/**
 * Resolves the variables in the values of a manifest's YAML text. Throws a {@link ManifestError}
 * naming the line and column of every reference that cannot be resolved.
 */
export function interpolateManifest(text: string, lookup: Lookup): string {
  if (!text.includes("$")) return text;
  const lineCounter = new LineCounter();
  const tokens = [...new Parser(lineCounter.addNewLine).parse(text)];
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const places = [...scalars(tokens)];
  const unquoted = places.flatMap((place) => unquotedInFlow(place, text));
  if (unquoted.length > 0) {
    throw new ManifestError(unquoted.map(({ path, offset }) => ({
      ...pathOf(path),
      message: 'a value with "${" inside [...] or {...} must be quoted, as "${NAME}"',
      ...at(offset),
    })));
  }
  // Text YAML cannot read (nested too deeply for it, say) is left as it is, for the manifest
  // parser to name its problems.
  if (hasErrors(tokens, text)) return text;
  const details: ErrorDetail[] = [];
  let changed = false;
  for (const place of places) {
    if (place.isKey) continue;
    const { token } = place;
    const value = CST.resolveAsScalar(token, false, () => {})?.value;
    if (value === undefined || !value.includes("$")) continue;
    const result = interpolate(value, lookup);
    for (const problem of result.problems) {
      details.push({
        ...pathOf(place.path),
        message: problem.message,
        ...at(sourceOffset(token, value, problem.index)),
      });
    }
    if (result.problems.length > 0 || result.text === value) continue;
    rewrite(place, result.text, lookup);
    changed = true;
  }
  if (details.length > 0) throw new ManifestError(details);
  return changed ? tokens.map((token) => CST.stringify(token)).join("") : text;
}

/** A detail's path, when there is one. */
function pathOf(path: Key[]): { path?: string } {
  return path.length > 0 ? { path: shortPath(path) } : {};
}

/** Whether YAML finds problems in the text, as the manifest parser would read it. */
function hasErrors(tokens: CST.Token[], text: string): boolean {
  const composer = new Composer({ logLevel: "silent", uniqueKeys: false });
  return [...composer.compose(tokens, true, text.length)].some((doc) => doc.errors.length > 0);
}

/**
 * `[a, ${X}]` and `{k: ${X}}` are not what they seem: in a flow collection `{` starts a mapping,
 * so YAML reads `$` and then `{X}`. Where a plain scalar ends in `$` just before a `{`.
 */
function unquotedInFlow(place: Place, text: string): { path: Key[]; offset: number }[] {
  const { token } = place;
  if (!place.inFlow || token.type !== "scalar") return [];
  const end = token.offset + token.source.length;
  return token.source.endsWith("$") && text[end] === "{"
    ? [{ path: place.path, offset: end - 1 }]
    : [];
}

/** Whether a token is a scalar written in the text (an alias is not: its anchor is). */
function isScalar(token: CST.Token): token is Place["token"] {
  return token.type === "scalar" || token.type === "single-quoted-scalar" ||
    token.type === "double-quoted-scalar" || token.type === "block-scalar";
}

/** Every scalar in a token tree, keys included, in text order, walked without recursion. */
function* scalars(tokens: CST.Token[]): Generator<Place> {
  const stack: (Omit<Place, "token"> & { token: CST.Token })[] = [];
  const push = (
    token: CST.Token | null | undefined,
    path: Key[],
    props: CST.Token[],
    flags: { inFlow: boolean; afterKey: boolean; isKey: boolean },
  ) => {
    if (token) {
      const tagged = props.some((prop) => prop.type === "tag");
      stack.push({ token, path, tagged, ...flags });
    }
  };
  for (const token of [...tokens].reverse()) {
    if (token.type === "document") {
      push(token.value, [], token.start, { inFlow: false, afterKey: false, isKey: false });
    }
  }
  while (stack.length > 0) {
    const place = stack.pop()!;
    const { token } = place;
    if (isScalar(token)) {
      yield { ...place, token };
      continue;
    }
    if (
      token.type !== "block-map" && token.type !== "block-seq" && token.type !== "flow-collection"
    ) {
      continue;
    }
    const inFlow = place.inFlow || token.type === "flow-collection";
    const isList = token.type === "block-seq" ||
      (token.type === "flow-collection" && token.start.source === "[");
    const items = [...token.items.entries()].reverse();
    for (const [index, item] of items) {
      const key = "key" in item ? item.key : undefined;
      // An item of a list may be a one-pair mapping (`[a: b]`): its index is its place.
      const name: Key = isList ? index : key ? (CST.resolveAsScalar(key)?.value ?? "?") : "?";
      const sep = "sep" in item && item.sep ? item.sep : [];
      const props = sep.length > 0 ? sep : item.start;
      const itemPath = [...place.path, name];
      push(item.value, itemPath, props, { inFlow, afterKey: true, isKey: false });
      push(key, isList ? itemPath : place.path, item.start, {
        inFlow,
        afterKey: false,
        isKey: true,
      });
    }
  }
}

/**
 * Where the `$` at `index` of a scalar's value is in the text: each `$` of the value is a `$` of
 * the source, in order, unless an escape wrote one (`"\x24"`); then the scalar's start.
 */
function sourceOffset(token: Place["token"], value: string, index: number): number {
  const start = token.type === "block-scalar" ? blockBodyStart(token) : token.offset;
  const dollars = (text: string) => [...text.matchAll(/\$/g)].map((match) => match.index);
  const inSource = dollars(token.source);
  const inValue = dollars(value);
  if (inSource.length !== inValue.length) return token.offset;
  return start + inSource[inValue.indexOf(index)];
}

/** Where a block scalar's lines start: after its header and the header's line end. */
function blockBodyStart(token: CST.BlockScalar): number {
  const last = token.props[token.props.length - 1];
  return last ? last.offset + ("source" in last ? last.source.length : 0) : token.offset;
}

/**
 * Writes a scalar's new value into its token. A plain scalar stays plain when YAML reads its new
 * text back as the same text (a string, or a number or boolean written the way YAML prints it, so
 * `replicas: ${N}` is a number) and is double-quoted otherwise, so that `02134` stays a string.
 * Quoted and block scalars keep their style and, where the values allow, their text around the
 * references; a quoted scalar that cannot is written double-quoted on one line.
 */
function rewrite(place: Place, value: string, lookup: Lookup): void {
  const { token, inFlow, afterKey } = place;
  if (token.type === "scalar") {
    if (!value.includes("\n") && (place.tagged || readsBackAsWritten(value))) {
      // YAML's writer quotes a value that cannot be plain here: ask it on a copy first.
      const probe: CST.Token = { ...token, end: token.end && [...token.end] };
      CST.setScalarValue(probe, value, { afterKey, inFlow, type: "PLAIN" });
      if (probe.type === "scalar") {
        token.source = probe.source;
        return;
      }
    }
    return setDoubleQuoted(token, value);
  }
  const inPlace = substituted(token, lookup);
  if (inPlace !== undefined && resolved({ ...token, source: inPlace }) === value) {
    token.source = inPlace;
  } else if (token.type === "block-scalar") {
    CST.setScalarValue(token, value, { afterKey, inFlow });
  } else {
    setDoubleQuoted(token, value);
  }
}

/** Characters JSON leaves as they are that a YAML double-quoted scalar must escape. */
const UNPRINTABLE = /[\u007f-\u009f\u2028\u2029\ufeff]/g;

/** A value as a YAML double-quoted scalar on one line, escaped as JSON escapes (YAML's too). */
function doubleQuoted(value: string): string {
  return JSON.stringify(value).replace(
    UNPRINTABLE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Makes a flow scalar a double-quoted one on one line. */
function setDoubleQuoted(token: CST.FlowScalar, value: string): void {
  token.type = "double-quoted-scalar";
  token.source = doubleQuoted(value);
}

/** The source of a quoted or block scalar with each reference replaced by its escaped value. */
function substituted(token: Place["token"], lookup: Lookup): string | undefined {
  let multiline = false;
  const escape = (value: string) => {
    multiline ||= value.includes("\n");
    if (token.type === "double-quoted-scalar") return doubleQuoted(value).slice(1, -1);
    if (token.type === "single-quoted-scalar") return value.replaceAll("'", "''");
    return value;
  };
  const result = interpolate(token.source, lookup, escape);
  // A line break in a block scalar would need the block's indentation: write the block anew.
  if (result.problems.length > 0 || (multiline && token.type === "block-scalar")) return undefined;
  return result.text;
}

/** A scalar token's value, or undefined when its source is not a well-formed scalar. */
function resolved(token: Place["token"]): string | undefined {
  let ok = true;
  const result = CST.resolveAsScalar(token, true, () => ok = false);
  return ok ? result.value : undefined;
}

/** Whether a plain scalar with this text reads back as this text: a string, 3, 0.5 or true. */
function readsBackAsWritten(text: string): boolean {
  let value: unknown;
  try {
    value = parse(text, { logLevel: "silent" });
  } catch {
    return false;
  }
  return value !== null && typeof value !== "object" && String(value) === text;
}
