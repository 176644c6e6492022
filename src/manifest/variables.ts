/**
 * Compose's variable syntax in one string: `$NAME`, `${NAME}`, `${NAME:-default}`,
 * `${NAME-default}`, `${NAME:?message}`, `${NAME?message}`, `${NAME:+value}`, `${NAME+value}`,
 * and `$$` for a literal `$`. Defaults, values and messages may hold references themselves.
 */

/** A variable's value, or undefined when it is not set (set and empty is ""). */
export type Lookup = (name: string) => string | undefined;

/** One reference that cannot be resolved, at the index of its `$` in the text. */
export interface VariableProblem {
  index: number;
  message: string;
}

/** The text with every reference resolved, and the references that could not be. */
export interface Interpolated {
  text: string;
  problems: VariableProblem[];
}

/** The forms a braced reference may take, for messages about one that is not among them. */
export const FORMS =
  "${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, " +
  "${NAME:+value} or ${NAME+value}";

const NAME_START = /[_a-zA-Z]/;
const NAME = /[_a-zA-Z][_a-zA-Z0-9]*/y;
const BRACED = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?[-+?])([\s\S]*))?$/;

/**
 * Resolves every reference in `text`. A `$` followed by anything but `$`, `{` or a name stays as
 * it is, as Compose leaves it. `escape` writes a variable's value into the text (for a quoted
 * YAML scalar, say); the text around references, defaults included, is copied as it is.
 */
export function interpolate(
  text: string,
  lookup: Lookup,
  escape: (value: string) => string = (value) => value,
): Interpolated {
  const problems: VariableProblem[] = [];
  const result = expand(text, 0, text.length, { lookup, escape, problems });
  return { text: result, problems };
}

interface Context {
  lookup: Lookup;
  escape: (value: string) => string;
  problems: VariableProblem[];
}

/** Resolves the references in `text[start, end)`. */
function expand(text: string, start: number, end: number, context: Context): string {
  let out = "";
  let i = start;
  while (i < end) {
    const dollar = text.indexOf("$", i);
    if (dollar < 0 || dollar >= end) {
      out += text.slice(i, end);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === "$") {
      out += "$";
      i = dollar + 2;
    } else if (next === "{") {
      const close = closingBrace(text, dollar + 2, end);
      if (close < 0) {
        context.problems.push({
          index: dollar,
          message: `"\${" has no closing "}" (write $$ for a literal $)`,
        });
        out += text.slice(dollar, end);
        break;
      }
      out += braced(text, dollar, close, context);
      i = close + 1;
    } else if (next !== undefined && dollar + 1 < end && NAME_START.test(next)) {
      NAME.lastIndex = dollar + 1;
      const name = NAME.exec(text)![0].slice(0, end - dollar - 1);
      out += valueOf(name, dollar, context);
      i = dollar + 1 + name.length;
    } else {
      out += "$";
      i = dollar + 1;
    }
  }
  return out;
}

/** The index of the `}` that closes a `${` whose inside starts at `from`, or -1. */
function closingBrace(text: string, from: number, end: number): number {
  let depth = 1;
  for (let i = from; i < end; i++) {
    if (text[i] === "{") depth++;
    if (text[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

/** The value of `${...}` from `text[dollar]` to `text[close]`. */
function braced(text: string, dollar: number, close: number, context: Context): string {
  const inside = text.slice(dollar + 2, close);
  const match = BRACED.exec(inside);
  if (!match) {
    const shown = inside.length > 40 ? `${inside.slice(0, 40)}...` : inside;
    context.problems.push({
      index: dollar,
      message: `"\${${shown}}" is not a variable reference: write ${FORMS} ` +
        "(or $$ for a literal $)",
    });
    return text.slice(dollar, close + 1);
  }
  const [, name, operator] = match;
  if (operator === undefined) return valueOf(name, dollar, context);
  const argument = dollar + 2 + name.length + operator.length;
  const value = context.lookup(name);
  const empty = value === undefined || (operator.startsWith(":") && value === "");
  switch (operator) {
    case "-":
    case ":-":
      return empty ? expand(text, argument, close, context) : context.escape(value!);
    case "+":
    case ":+":
      return empty ? "" : expand(text, argument, close, context);
    default: {
      if (!empty) return context.escape(value!);
      // The message may name variables too; one that is missing leaves its reference in it.
      const message = expand(text, argument, close, { ...context, problems: [] });
      const state = value === undefined ? "is not set" : "is empty";
      context.problems.push({
        index: dollar,
        message: `variable ${name} ${state}${message === "" ? "" : `: ${message}`}`,
      });
      return "";
    }
  }
}

/** The value of a variable that has no default. */
function valueOf(name: string, dollar: number, context: Context): string {
  const value = context.lookup(name);
  if (value !== undefined) return context.escape(value);
  context.problems.push({
    index: dollar,
    message: `variable ${name} is not set: set it, give a default with \${${name}:-default}, ` +
      "or write $$ for a literal $",
  });
  return "";
}
