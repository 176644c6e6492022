/** Compose's variable forms in one string: every form, nesting, `$$`, and bad references. */
import assert from "node:assert/strict";
import { interpolate, type VariableProblem } from "../../src/manifest/variables.ts";

const VARS: Record<string, string> = { SET: "value", EMPTY: "", OTHER: "other", Q: 'say "hi"' };
const lookup = (name: string) => Object.hasOwn(VARS, name) ? VARS[name] : undefined;

/** The text with its references resolved, asserting that nothing went wrong. */
function resolve(text: string): string {
  const result = interpolate(text, lookup);
  assert.deepEqual(result.problems, [], `problems in ${text}`);
  return result.text;
}

/** The problems of a text, as index and message. */
function problems(text: string): VariableProblem[] {
  return interpolate(text, lookup).problems;
}

Deno.test("interpolate resolves $NAME and ${NAME}", () => {
  assert.equal(resolve("$SET"), "value");
  assert.equal(resolve("${SET}"), "value");
  assert.equal(resolve("a-$SET-b"), "a-value-b");
  assert.equal(resolve("${SET}_x"), "value_x");
  // An unbraced name runs as far as name characters go.
  assert.equal(resolve("$SET.$OTHER/x"), "value.other/x");
  assert.equal(resolve("${EMPTY}"), "");
  assert.equal(resolve("no references"), "no references");
});

Deno.test("interpolate: :- uses the default when unset or empty, - only when unset", () => {
  assert.equal(resolve("${SET:-d}"), "value");
  assert.equal(resolve("${EMPTY:-d}"), "d");
  assert.equal(resolve("${UNSET:-d}"), "d");
  assert.equal(resolve("${SET-d}"), "value");
  assert.equal(resolve("${EMPTY-d}"), "");
  assert.equal(resolve("${UNSET-d}"), "d");
  assert.equal(resolve("${UNSET:-}"), "");
  assert.equal(
    resolve("${UNSET:-a default with spaces: and colons}"),
    "a default with spaces: and colons",
  );
});

Deno.test("interpolate: :+ and + give the value only when the variable is set", () => {
  assert.equal(resolve("${SET:+alt}"), "alt");
  assert.equal(resolve("${EMPTY:+alt}"), "");
  assert.equal(resolve("${UNSET:+alt}"), "");
  assert.equal(resolve("${SET+alt}"), "alt");
  assert.equal(resolve("${EMPTY+alt}"), "alt");
  assert.equal(resolve("${UNSET+alt}"), "");
});

Deno.test("interpolate: :? and ? require the variable, with the given message", () => {
  assert.equal(resolve("${SET:?needed}"), "value");
  assert.equal(resolve("${EMPTY?needed}"), "");
  assert.deepEqual(problems("x ${UNSET:?set UNSET first}"), [
    { index: 2, message: "variable UNSET is not set: set UNSET first" },
  ]);
  assert.deepEqual(problems("${EMPTY:?must not be empty}"), [
    { index: 0, message: "variable EMPTY is empty: must not be empty" },
  ]);
  assert.deepEqual(problems("${UNSET?}"), [{ index: 0, message: "variable UNSET is not set" }]);
  // The message may name variables itself.
  assert.deepEqual(problems("${UNSET:?ask $OTHER}"), [
    { index: 0, message: "variable UNSET is not set: ask other" },
  ]);
});

Deno.test("interpolate: an unset variable without a default is a problem at its $", () => {
  assert.deepEqual(problems("a $UNSET b ${ALSO}"), [
    {
      index: 2,
      message: "variable UNSET is not set: set it, give a default with ${UNSET:-default}, " +
        "or write $$ for a literal $",
    },
    {
      index: 11,
      message: "variable ALSO is not set: set it, give a default with ${ALSO:-default}, " +
        "or write $$ for a literal $",
    },
  ]);
});

Deno.test("interpolate: defaults nest, and are read only when used", () => {
  assert.equal(resolve("${UNSET:-${OTHER}}"), "other");
  assert.equal(resolve("${UNSET:-${ALSO:-deep}}"), "deep");
  assert.equal(resolve("${UNSET:-$OTHER/x}"), "other/x");
  assert.equal(resolve("${SET:+[$OTHER]}"), "[other]");
  // Braces in a default are counted, as Compose counts them.
  assert.equal(resolve("${UNSET:-{a}}"), "{a}");
  // A default that is not used may name a variable that is not set.
  assert.equal(resolve("${SET:-$MISSING}"), "value");
  assert.deepEqual(problems("${UNSET:-$MISSING}").map((p) => p.index), [9]);
});

Deno.test("interpolate: $$ is a literal $, and a $ before anything else stays", () => {
  assert.equal(resolve("$$"), "$");
  assert.equal(resolve("$$SET"), "$SET");
  assert.equal(resolve("$${SET}"), "${SET}");
  assert.equal(resolve("$$$SET"), "$value");
  assert.equal(resolve("cost: 5$"), "cost: 5$");
  assert.equal(resolve("$1 $- $ $."), "$1 $- $ $.");
  assert.equal(resolve("${UNSET:-$$}"), "$");
});

Deno.test("interpolate: references it does not know are problems that name the forms", () => {
  for (
    const [text, index] of [["${1A}", 0], ["x ${}", 2], ["${A:=b}", 0], ["${A/x/y}", 0]] as const
  ) {
    const [problem, ...rest] = problems(text);
    assert.deepEqual(rest, [], text);
    assert.equal(problem.index, index, text);
    assert.match(problem.message, /is not a variable reference: write \$\{NAME\}, /, text);
  }
  assert.deepEqual(problems("a ${SET"), [
    { index: 2, message: '"${" has no closing "}" (write $$ for a literal $)' },
  ]);
});

Deno.test("interpolate escapes values, not the text around them", () => {
  const escape = (value: string) => JSON.stringify(value).slice(1, -1);
  assert.equal(interpolate('"${Q}" \\n', lookup, escape).text, '"say \\"hi\\"" \\n');
  assert.equal(interpolate("${UNSET:-a\\b}", lookup, escape).text, "a\\b");
});
