/**
 * Schema issues as details in the manifest's words: a path such as `containers[1].ports[0]`, a
 * message written for people (never the schema library's default), and a position when the text
 * gives one.
 */
import type * as v from "valibot";
import type { ErrorDetail } from "../errors.ts";
import { Conflict } from "./conflicts.ts";
import { describe, quote } from "./describe.ts";
import { closest } from "./suggest.ts";

/** A key on the way from the document root to a value. */
export type Key = string | number;

/** Where a value sits in the text: 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** Finds the text position of a path, or of its nearest existing parent. */
export type Locate = (path: readonly Key[], atKey: boolean) => Position | undefined;

/** The shape of the schemas on the way to an object, enough to find its allowed keys. */
export interface SchemaShape {
  readonly type: string;
  readonly entries?: Readonly<Record<string, SchemaShape>>;
  readonly item?: SchemaShape;
  readonly wrapped?: SchemaShape;
  readonly pipe?: readonly SchemaShape[];
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  Array: "a list",
  Object: "a mapping",
};

/**
 * The message of an issue whose schema sets none. Every schema of a spec sets its own; this one
 * makes sure that a default of the schema library never reaches a user anyway.
 */
export function issueMessage(issue: v.BaseIssue<unknown>): string {
  const last = issue.path?.[issue.path.length - 1];
  if ((issue.type === "strict_object" || issue.type === "object") && last?.origin === "key") {
    return issue.expected === "never"
      ? `unknown key ${quote(String(issue.input))}`
      : `missing required key ${quote(String(last.key))}`;
  }
  const expected = EXPECTED[issue.expected ?? ""];
  if (issue.kind === "schema" && expected) {
    return `must be ${expected}, not ${describe(issue.input)}`;
  }
  return `has a value that is not allowed here: ${describe(issue.input)}`;
}

/**
 * Turns schema issues into details with paths in the manifest's words and positions. `root` is
 * the schema the issues come from, to name the keys an object allows.
 */
export function issueDetails(
  issues: readonly v.BaseIssue<unknown>[],
  locate: Locate,
  root: SchemaShape,
): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const add = (path: Key[], message: string, atKey = false) => {
    details.push({ path: formatPath(path), message, ...locate(path, atKey) });
  };
  const reported = new Set<unknown>();
  for (const issue of issues) {
    const path = (issue.path ?? []).map((item) => item.key as Key);
    const last = issue.path?.[issue.path.length - 1];
    if (issue.input instanceof Conflict) {
      details.push(conflictDetail(path, issue.input, locate));
      continue;
    }
    if (issue.type === "strict_object") {
      // A list given for a mapping has keys "0", "1"...: say what it is instead.
      const object = last?.origin === "key" ? last.input : issue.input;
      const objectPath = last?.origin === "key" ? path.slice(0, -1) : path;
      if (Array.isArray(object)) {
        if (!reported.has(object)) add(objectPath, `must be a mapping, not a list`);
        reported.add(object);
        continue;
      }
      if (issue.expected === "never" && last) {
        // The schema stops at the first unknown key of an object: report them all.
        if (!reported.has(object)) unknownKeys(objectPath, object, root, add);
        reported.add(object);
        continue;
      }
    }
    const keyIssue = last?.origin === "key" && issue.type !== "strict_object";
    add(
      path,
      keyIssue ? `key ${quote(String(last.key))} ${issue.message}` : issue.message,
      keyIssue,
    );
  }
  return details;
}

/** A field given as an option too: at the field, naming the option and its line. */
function conflictDetail(specPath: Key[], conflict: Conflict, locate: Locate): ErrorDetail {
  const path = [...specPath, ...conflict.field];
  const optionPath = [...specPath, "options", conflict.optionIndex];
  const optionLine = locate(optionPath, false)?.line;
  const where = `${formatPath(optionPath)}${
    optionLine === undefined ? "" : `, line ${optionLine}`
  }`;
  return {
    path: formatPath(path),
    message: conflict.message(where),
    ...locate(path, conflict.field[0] === "labels"),
  };
}

function unknownKeys(
  path: Key[],
  object: unknown,
  root: SchemaShape,
  add: (path: Key[], message: string, atKey: boolean) => void,
): void {
  const allowed = allowedKeys(root, path);
  for (const key of Object.keys(object as object)) {
    if (allowed.includes(key)) continue;
    const suggestion = closest(key, allowed);
    const hint = suggestion ? `did you mean "${suggestion}"?` : `expected ${allowed.join(", ")}`;
    add([...path, key], `unknown key ${quote(key)} (${hint})`, true);
  }
}

/** The schema inside optional and piped schemas: the one with entries or items. */
function unwrap(schema: SchemaShape | undefined): SchemaShape | undefined {
  while (schema && !schema.entries && !schema.item) {
    schema = schema.wrapped ??
      schema.pipe?.find((s) => s !== schema && (s.entries || s.item || s.wrapped || s.pipe));
  }
  return schema;
}

function allowedKeys(root: SchemaShape, path: readonly Key[]): string[] {
  let schema = unwrap(root);
  for (const key of path) {
    schema = unwrap(schema?.entries ? schema.entries[String(key)] : schema?.item);
  }
  return Object.keys(schema?.entries ?? {});
}

/** `containers[1].ports[0]`, with keys that are not plain words quoted. */
export function formatPath(path: readonly Key[]): string {
  return path.map((key, i) =>
    typeof key === "number"
      ? `[${key}]`
      : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) && key.length <= 100
      ? `${i === 0 ? "" : "."}${key}`
      : `[${quote(key)}]`
  ).join("");
}

/** A path for a detail, cut short: a path into deep nesting is as long as the nesting. */
export function shortPath(path: readonly Key[]): string {
  const text = formatPath(path);
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}

/** Lower-cases the first letter, as messages of other libraries start a sentence. */
export function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
