/**
 * An env file (`.env`) as Compose reads it: `NAME=value` lines, `export ` before a name, `#`
 * comments, values unquoted, single-quoted (literal) or double-quoted (with escapes), and
 * variables in unquoted and double-quoted values.
 */
import { type ErrorDetail, LauncherError } from "../errors.ts";
import { interpolate, type Lookup } from "./variables.ts";

/** An env file that cannot be read as one; `details` holds every problem with its line. */
export class EnvFileError extends LauncherError {
  override readonly status = 400;

  constructor(details: ErrorDetail[]) {
    const [first] = details;
    const more = details.length > 1 ? ` (and ${details.length - 1} more)` : "";
    super("invalid_env_file", `line ${first.line}: ${first.message}${more}`, details);
  }
}

/** Names as Compose's env files allow them: letters, digits, `_`, `.`, `-`, `[` and `]`. */
const NAME = /[A-Za-z0-9_.\-[\]]+/y;
const EXPORT = /export[ \t]+/y;
const BLANKS = /[ \t\r\f\v]*/y;

/** What double-quoted values write with a backslash. `\$` is a `$` that names no variable. */
const ESCAPES: Record<string, string> = {
  n: "\n",
  r: "\r",
  t: "\t",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "\\": "\\",
  '"': '"',
  $: "$$",
};

/**
 * The variables an env file sets, in its order. References in values are resolved with
 * `lookup` first (the environment, which wins over the file, as in Compose) and then the lines
 * above. Throws an {@link EnvFileError} naming the line and column of each problem.
 */
export function parseEnvFile(text: string, lookup: Lookup): Map<string, string> {
  const vars = new Map<string, string>();
  const details: ErrorDetail[] = [];
  const scan = new Scanner(text.replace(/^\uFEFF/, ""));
  const resolve: Lookup = (name) => lookup(name) ?? vars.get(name);
  while (!scan.done()) {
    scan.skip(BLANKS);
    if (scan.peek() === "\n" || scan.done()) {
      scan.next();
      continue;
    }
    if (scan.peek() === "#") {
      scan.toLineEnd();
      continue;
    }
    scan.skip(EXPORT);
    const start = scan.at;
    const name = scan.match(NAME);
    const problem = (message: string, at = start) => {
      details.push({ message, ...scan.position(at) });
      scan.toLineEnd();
    };
    if (name === undefined) {
      problem(`expected NAME=value, not ${JSON.stringify(scan.restOfLine().trim())}`);
      continue;
    }
    scan.skip(BLANKS);
    // A name alone takes its value from the environment, which wins over the file anyway.
    if (scan.peek() === "\n" || scan.done()) continue;
    if (scan.peek() !== "=") {
      problem(`expected "=" after ${name}`, scan.at);
      continue;
    }
    scan.next();
    const value = readValue(scan, resolve, details);
    if (value !== undefined) vars.set(name, value);
  }
  if (details.length > 0) throw new EnvFileError(details);
  return vars;
}

/** The value after `=`, to the line's end (or the closing quote's); undefined when it is bad. */
function readValue(scan: Scanner, lookup: Lookup, details: ErrorDetail[]): string | undefined {
  const problem = (message: string, at: number) => {
    details.push({ message, ...scan.position(at) });
    scan.toLineEnd();
    return undefined;
  };
  const leading = scan.skip(BLANKS);
  const quote = scan.peek();
  if (quote !== "'" && quote !== '"') {
    // `#` starts a comment only after a blank: `a#b` is a value, `a #b` is `a`.
    const line = scan.restOfLine();
    const comment = (leading === "" ? line : ` ${line}`).search(/[ \t]#/);
    const raw = (comment < 0 ? line : line.slice(0, comment)).trimEnd();
    const start = scan.at;
    scan.toLineEnd();
    return resolved(raw, start, scan, lookup, details);
  }
  const open = scan.at;
  scan.next();
  let raw = "";
  for (;;) {
    if (scan.done()) return problem(`the value has no closing ${quote}`, open);
    const char = scan.next();
    if (char === quote) break;
    if (char === "\\" && !scan.done()) {
      const escaped = scan.next();
      raw += escaped === quote && quote === "'" ? "'" : `\\${escaped}`;
      continue;
    }
    raw += char;
  }
  scan.skip(BLANKS);
  if (!scan.done() && scan.peek() !== "\n" && scan.peek() !== "#") {
    return problem(`unexpected text after the closing ${quote}`, scan.at);
  }
  scan.toLineEnd();
  if (quote === "'") return raw;
  const unescaped = raw.replace(
    /\\(0[0-7]{0,3}|.)/gs,
    (match, code: string) =>
      code[0] === "0" ? String.fromCharCode(parseInt(code, 8)) : ESCAPES[code] ?? match,
  );
  return resolved(unescaped, open, scan, lookup, details);
}

/** A value with its references resolved; a problem is placed at the value's `$` when it can be. */
function resolved(
  value: string,
  start: number,
  scan: Scanner,
  lookup: Lookup,
  details: ErrorDetail[],
): string | undefined {
  const result = interpolate(value, lookup);
  const source = scan.text.slice(start, scan.at);
  for (const problem of result.problems) {
    const nth = [...value.slice(0, problem.index).matchAll(/\$/g)].length;
    const dollars = [...source.matchAll(/\$/g)].map((match) => match.index);
    const exact = dollars.length === [...value.matchAll(/\$/g)].length;
    details.push({
      message: problem.message,
      ...scan.position(start + (exact ? dollars[nth] : 0)),
    });
  }
  return result.problems.length > 0 ? undefined : result.text;
}

/** A cursor over the file's text that knows lines and columns. */
class Scanner {
  at = 0;

  constructor(readonly text: string) {}

  done(): boolean {
    return this.at >= this.text.length;
  }

  peek(): string {
    return this.text[this.at];
  }

  next(): string {
    return this.text[this.at++];
  }

  /** Moves past what `pattern` (sticky) matches here, and returns it ("" when nothing). */
  skip(pattern: RegExp): string {
    return this.match(pattern) ?? "";
  }

  match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.at;
    const found = pattern.exec(this.text)?.[0];
    if (found) this.at += found.length;
    return found || undefined;
  }

  restOfLine(): string {
    const end = this.text.indexOf("\n", this.at);
    return this.text.slice(this.at, end < 0 ? undefined : end).replace(/\r$/, "");
  }

  /** Moves to the start of the next line. */
  toLineEnd(): void {
    const end = this.text.indexOf("\n", this.at);
    this.at = end < 0 ? this.text.length : end + 1;
  }

  position(offset: number): { line: number; column: number } {
    const before = this.text.slice(0, offset);
    return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
  }
}
