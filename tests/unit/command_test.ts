import assert from "node:assert/strict";
import { CommandError, splitCommand } from "../../src/manifest/command.ts";

Deno.test("splitCommand splits words like a POSIX shell, without expansion", () => {
  const cases: [string, string[]][] = [
    ["", []],
    ["   ", []],
    ["/docker-entrypoint.sh", ["/docker-entrypoint.sh"]],
    ["nginx -g 'daemon off;'", ["nginx", "-g", "daemon off;"]],
    ['  echo\t"a  b"\n c  ', ["echo", "a  b", "c"]],
    ["echo '' \"\"", ["echo", "", ""]],
    ["a'b'\"c\"d", ["abcd"]],
    ["echo a\\ b", ["echo", "a b"]],
    ["echo \\'x\\'", ["echo", "'x'"]],
    ['echo "a \\"q\\" \\\\ \\$HOME \\n"', ["echo", 'a "q" \\ $HOME \\n']],
    ["echo 'a\\nb'", ["echo", "a\\nb"]],
    ["echo $HOME *", ["echo", "$HOME", "*"]],
    ["sh -c 'echo \"$1\"' --", ["sh", "-c", 'echo "$1"', "--"]],
    ["one \\\ntwo", ["one", "two"]],
    ['"line \\\ncontinued"', ["line continued"]],
  ];
  for (const [text, words] of cases) assert.deepEqual(splitCommand(text), words, text);
});

Deno.test("splitCommand returns a list as a copy", () => {
  const list = ["nginx", "-g", "daemon off;"];
  const split = splitCommand(list);
  assert.deepEqual(split, list);
  assert.notEqual(split, list);
});

Deno.test("splitCommand throws on an unterminated quote or a lone backslash", () => {
  const cases: [string, string][] = [
    ["echo 'hi", `command "echo 'hi" has an unterminated single quote at character 6`],
    ['echo "hi', 'command "echo \\"hi" has an unterminated double quote at character 6'],
    ['echo "a\\"', 'command "echo \\"a\\\\\\"" has an unterminated double quote at character 6'],
    ["echo \\", 'command "echo \\\\" ends with a lone backslash'],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => splitCommand(text), (error) => {
      assert.ok(error instanceof CommandError, text);
      assert.equal(error.message, message);
      return true;
    });
  }
});
