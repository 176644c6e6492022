/**
 * How the API checks what clients send, in its own words. Object schemas refuse lists (valibot's
 * own take any `typeof "object"`), and every message names the field and says what is wrong
 * (`host: must be a string, not the number 3`, `unknown field "force" (expected host)`), never
 * the validation library's wording. Bodies and queries both go through `validateInput`.
 */
import * as v from "valibot";
import type { ErrorDetail } from "../errors.ts";
import { describe } from "../manifest/describe.ts";

/** A value as a message names it: `the string "x"`, `the number 3`, `a list`, `an object`. */
export function describeValue(value: unknown): string {
  return describe(value, "json");
}

/** A message saying what a value must be and what it is instead. */
export function mustBe(expected: string) {
  return (issue: v.BaseIssue<unknown>): string =>
    `must be ${expected}, not ${describeValue(issue.input)}`;
}

function isObject(input: unknown): input is Record<string, unknown> {
  return typeof input === "object" && input !== null && !Array.isArray(input);
}

/** Refuses anything but a plain object: a list is `must be an object, not a list`. */
function objectOnly<T>() {
  return v.custom<T>(isObject, mustBe("an object"));
}

/** The message of a missing or unknown key of an object whose keys are `keys`. */
function keyMessage(noun: string, keys: readonly string[]) {
  return (issue: v.BaseIssue<unknown>): string => {
    const item = issue.path?.[issue.path.length - 1];
    if (item?.origin !== "key") return mustBe("an object")(issue);
    const key = JSON.stringify(String(item.key));
    if (issue.expected !== "never") return `missing required ${noun} ${key}`;
    return `unknown ${noun} ${key} (expected ${keys.length > 0 ? keys.join(", ") : "none"})`;
  };
}

/** An object of the API that takes no other keys (a request body); lists are refused. */
export function apiStrictObject<const E extends v.ObjectEntries>(entries: E, noun = "field") {
  const schema = v.strictObject(entries, keyMessage(noun, Object.keys(entries)));
  return v.pipe(objectOnly<v.InferInput<typeof schema>>(), schema);
}

/** An object of the API that ignores keys it does not know (an answer); lists are refused. */
export function apiObject<const E extends v.ObjectEntries>(entries: E) {
  const schema = v.object(entries, keyMessage("field", Object.keys(entries)));
  return v.pipe(objectOnly<v.InferInput<typeof schema>>(), schema);
}

/** A mapping of the API (labels, counts by state); lists are refused. */
export function apiRecord<
  const K extends v.GenericSchema<string, string | number | symbol>,
  const V extends v.GenericSchema,
>(key: K, value: V) {
  const schema = v.record(key, value, mustBe("an object"));
  return v.pipe(objectOnly<v.InferInput<typeof schema>>(), schema);
}

/** What a picklist or literal issue expected, as a list: `"stop", "kill"`. */
function options(issue: v.BaseIssue<unknown>): string {
  return (issue.expected ?? "").replace(/^\((.*)\)$/, "$1").split(" | ").join(", ");
}

/**
 * The message of an issue whose schema sets none, in our words. It is passed to valibot as the
 * global message, so a message a schema sets itself wins.
 */
export function issueMessage(issue: v.BaseIssue<unknown>): string {
  switch (issue.type) {
    case "string":
      return mustBe("a string")(issue);
    case "number":
      return mustBe("a number")(issue);
    case "boolean":
      return mustBe("true or false")(issue);
    case "array":
      return mustBe("a list")(issue);
    case "object":
    case "strict_object":
    case "loose_object":
    case "record":
      return mustBe("an object")(issue);
    case "picklist":
      return mustBe(`one of ${options(issue)}`)(issue);
    case "literal":
      return mustBe(options(issue))(issue);
    case "integer":
      return mustBe("a whole number")(issue);
    case "min_value":
      return mustBe(`at least ${String(issue.requirement)}`)(issue);
    case "max_value":
      return mustBe(`at most ${String(issue.requirement)}`)(issue);
    case "non_empty":
      return "must not be empty";
    case "min_length":
      return `must hold at least ${String(issue.requirement)}`;
    case "max_length":
      return `must hold at most ${String(issue.requirement)}`;
    case "regex":
      return "is not in the form this field takes";
    case "union":
    case "variant":
      return `is none of the forms this field takes (it is ${describeValue(issue.input)})`;
    default:
      return "is not valid";
  }
}

/** An issue's place, written as the manifest parser writes paths: `containers[0].name`. */
function pathOf(items: readonly v.IssuePathItem[]): string | undefined {
  let path = "";
  for (const item of items) {
    const key = item.key;
    if (typeof key === "number") path += `[${key}]`;
    else path += path === "" ? String(key) : `.${String(key)}`;
  }
  return path === "" ? undefined : path;
}

/**
 * An issue as an error detail, and the line that sums it up. A key's issue (missing, unknown, or
 * a record key that does not fit) has the key's path in the detail, but the message names the
 * key already, so the line says it at the object: `unknown field "force" (expected host)`.
 */
function describeIssue(issue: v.BaseIssue<unknown>): { detail: ErrorDetail; line: string } {
  const items = issue.path ?? [];
  const last = items[items.length - 1];
  let message = issue.message;
  let where = pathOf(items);
  if (last?.origin === "key") {
    where = pathOf(items.slice(0, -1));
    if (issue.type !== "strict_object" && issue.type !== "object") {
      message = `key ${JSON.stringify(String(last.key))} ${message}`;
    }
  }
  const path = pathOf(items);
  return {
    detail: path === undefined ? { message } : { path, message },
    line: where === undefined ? message : `${where}: ${message}`,
  };
}

/** The outcome of `validateInput`: the typed value, or what is wrong with it, field by field. */
export type Validated<T> =
  | { success: true; output: T }
  /** `problem` sums up the first detail in one line, naming where it is. */
  | { success: false; details: ErrorDetail[]; problem: string };

/** Checks a value against a schema of the API, with every message in the API's words. */
export function validateInput<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): Validated<v.InferOutput<S>> {
  const result = v.safeParse(schema, input, { message: issueMessage });
  if (result.success) return { success: true, output: result.output };
  const described = result.issues.map(describeIssue);
  return {
    success: false,
    details: described.map((d) => d.detail),
    problem: described[0]?.line ?? "is not valid",
  };
}
