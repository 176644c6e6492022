import assert from "node:assert/strict";
import { jsonProblem } from "../../src/server/http/json_text.ts";

Deno.test("jsonProblem agrees with JSON.parse and never quotes the text", () => {
  const good = [
    "{}",
    "[]",
    ' {"a": [1, -2.5e3, "x\\u00e9\\n", true, false, null, {}]} ',
    '"s"',
    "0",
  ];
  for (const text of good) assert.equal(jsonProblem(text), undefined, text);
  const bad: [string, string, number, number][] = [
    ["", "the text ends before the JSON value does", 1, 1],
    ["[1,]", "a value must come here", 1, 4],
    ['{"a" 1}', "a ':' must follow a field name", 1, 6],
    ['{"a":1,}', "a field name in double quotes must come here", 1, 8],
    ["01", "unexpected text after the JSON value", 1, 2],
    ['"abc', "a string is not closed", 1, 1],
    ['"a\\x"', "bad escape in a string", 1, 3],
    ['"a\tb"', "control character in a string", 1, 3],
    ["[1 2]", "a ',' or ']' must follow a value", 1, 4],
    ['{\n  "password": hunter2\n}', "a value must come here", 2, 15],
  ];
  for (const [text, message, line, column] of bad) {
    assert.throws(() => JSON.parse(text));
    const problem = jsonProblem(text);
    assert.deepEqual([problem?.kind, problem?.message, problem?.line, problem?.column], [
      "syntax",
      message,
      line,
      column,
    ], text);
  }
});

Deno.test("jsonProblem refuses nesting beyond its bound, however deep, without recursion", () => {
  assert.equal(jsonProblem("[".repeat(64) + "]".repeat(64)), undefined);
  const deep = jsonProblem("[".repeat(100_000) + "]".repeat(100_000));
  assert.deepEqual([deep?.kind, deep?.column], ["depth", 65]);
  assert.equal(jsonProblem('{"a":[[1]]}', 2)?.kind, "depth");
});
