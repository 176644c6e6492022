/**
 * Checks JSON text before it is parsed, to say what is wrong and where without quoting it: V8's
 * own messages quote the input, so a password sent in the wrong format would come back in the
 * answer and in any log. It also bounds nesting, which nothing else here needs deeper than a few
 * levels, so that no later walk over a hostile body can run out of stack.
 */

/** How deep a request body's arrays and objects may nest. */
export const MAX_JSON_DEPTH = 64;

/** What is wrong with a JSON text, and where (1-based line and column, 0-based offset). */
export interface JsonProblem {
  /** `depth` when the text nests too deeply; `syntax` when it is not JSON. */
  kind: "syntax" | "depth";
  message: string;
  line: number;
  column: number;
  offset: number;
}

type Expect = "value" | "value-or-end" | "key" | "key-or-end" | "colon" | "comma-or-end" | "done";

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const HEX4 = /^[0-9a-fA-F]{4}$/;

/** Space, tab, line feed and carriage return: JSON's only whitespace. */
function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

function problem(text: string, kind: JsonProblem["kind"], message: string, offset: number) {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { kind, message, line, column, offset };
}

/** A whole, valid JSON string: the fast path of `scanString` (control characters are JSON's). */
// deno-lint-ignore no-control-regex
const STRING = /"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Where the string starting at `start` (a `"`) ends, or a problem. */
function scanString(text: string, start: number): number | JsonProblem {
  STRING.lastIndex = start;
  if (STRING.test(text)) return STRING.lastIndex;
  let i = start + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 34) return i + 1;
    if (code < 0x20) return problem(text, "syntax", "control character in a string", i);
    if (code === 92) {
      const next = text[i + 1];
      if (next === "u" && HEX4.test(text.slice(i + 2, i + 6))) i += 6;
      else if (next !== undefined && ESCAPES.has(next)) i += 2;
      else return problem(text, "syntax", "bad escape in a string", i);
      continue;
    }
    i++;
  }
  return problem(text, "syntax", "a string is not closed", start);
}

/** The first problem of a JSON text (syntax, or nesting deeper than `maxDepth`), if any. */
export function jsonProblem(text: string, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  const open: string[] = [];
  let expect: Expect = "value";
  let i = 0;
  const afterValue = (): Expect => open.length === 0 ? "done" : "comma-or-end";
  while (true) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i >= text.length) {
      return expect === "done"
        ? undefined
        : problem(text, "syntax", "the text ends before the JSON value does", i);
    }
    const ch = text[i];
    switch (expect) {
      case "done":
        return problem(text, "syntax", "unexpected text after the JSON value", i);
      case "colon":
        if (ch !== ":") return problem(text, "syntax", "a ':' must follow a field name", i);
        i++;
        expect = "value";
        continue;
      case "comma-or-end": {
        const close = open[open.length - 1] === "{" ? "}" : "]";
        if (ch === ",") {
          i++;
          expect = close === "}" ? "key" : "value";
        } else if (ch === close) {
          i++;
          open.pop();
          expect = afterValue();
        } else {
          return problem(text, "syntax", `a ',' or '${close}' must follow a value`, i);
        }
        continue;
      }
      case "key-or-end":
      case "key": {
        if (expect === "key-or-end" && ch === "}") {
          i++;
          open.pop();
          expect = afterValue();
          continue;
        }
        if (ch !== '"') {
          return problem(text, "syntax", "a field name in double quotes must come here", i);
        }
        const end = scanString(text, i);
        if (typeof end !== "number") return end;
        i = end;
        expect = "colon";
        continue;
      }
      case "value":
      case "value-or-end": {
        if (expect === "value-or-end" && ch === "]") {
          i++;
          open.pop();
          expect = afterValue();
          continue;
        }
        if (ch === "{" || ch === "[") {
          if (open.length >= maxDepth) {
            return problem(text, "depth", `it nests more than ${maxDepth} levels deep`, i);
          }
          open.push(ch);
          i++;
          expect = ch === "{" ? "key-or-end" : "value-or-end";
          continue;
        }
        if (ch === '"') {
          const end = scanString(text, i);
          if (typeof end !== "number") return end;
          i = end;
          expect = afterValue();
          continue;
        }
        const word = ["true", "false", "null"].find((w) => text.startsWith(w, i));
        if (word !== undefined) {
          i += word.length;
          expect = afterValue();
          continue;
        }
        NUMBER.lastIndex = i;
        if (NUMBER.test(text)) {
          i = NUMBER.lastIndex;
          expect = afterValue();
          continue;
        }
        return problem(text, "syntax", "a value must come here", i);
      }
    }
  }
}

/** A problem as one line: `a ',' or '}' must follow a value (line 1, column 12)`. */
export function describeJsonProblem(p: JsonProblem): string {
  return `${p.message} (line ${p.line}, column ${p.column})`;
}
