/** Env files as Compose reads them: every value form, comments, references, and bad lines. */
import assert from "node:assert/strict";
import type { ErrorDetail } from "../../src/errors.ts";
import { EnvFileError, parseEnvFile } from "../../src/manifest/env_file.ts";

const ENVIRONMENT: Record<string, string> = { HOME: "/root", TAG: "from-environment" };
const lookup = (name: string) => Object.hasOwn(ENVIRONMENT, name) ? ENVIRONMENT[name] : undefined;

/** The variables of an env file, as a plain object. */
function read(text: string): Record<string, string> {
  return Object.fromEntries(parseEnvFile(text, lookup));
}

/** The details of the EnvFileError that reading `text` throws. */
function details(text: string): ErrorDetail[] {
  try {
    parseEnvFile(text, lookup);
  } catch (error) {
    assert.ok(error instanceof EnvFileError);
    assert.equal(error.code, "invalid_env_file");
    return error.details ?? [];
  }
  assert.fail("parseEnvFile did not throw");
}

Deno.test("parseEnvFile reads NAME=value lines, blank lines, comments and export", () => {
  const text = [
    "# a comment",
    "",
    "   ",
    "PLAIN=value",
    "export EXPORTED=yes",
    "SPACED = around the equals sign  ",
    "EMPTY=",
    "  INDENTED=ok",
    "dotted.name-1=ok",
    "",
  ].join("\n");
  assert.deepEqual(read(text), {
    PLAIN: "value",
    EXPORTED: "yes",
    SPACED: "around the equals sign",
    EMPTY: "",
    INDENTED: "ok",
    "dotted.name-1": "ok",
  });
});

Deno.test("an unquoted value ends at a # with a blank before it", () => {
  assert.deepEqual(read("A=value # comment\nB=a#b\nC= # only a comment\nD=x\t#tab\n"), {
    A: "value",
    B: "a#b",
    C: "",
    D: "x",
  });
});

Deno.test("single-quoted values are literal, but for \\'", () => {
  assert.deepEqual(read("A='$HOME \\n ${TAG} # not a comment' # comment\nB='it\\'s'\nC=''\n"), {
    A: "$HOME \\n ${TAG} # not a comment",
    B: "it's",
    C: "",
  });
});

Deno.test("double-quoted values have escapes and references", () => {
  const text =
    'A="line\\nnext\\ttab \\"q\\" back\\\\slash \\$HOME $HOME # kept" # comment\nB=""\nC="\\0101\\a\\q"\n';
  assert.deepEqual(read(text), {
    A: 'line\nnext\ttab "q" back\\slash $HOME /root # kept',
    B: "",
    C: "A\x07\\q",
  });
});

Deno.test("a quoted value may span lines", () => {
  assert.deepEqual(read("KEY='-----BEGIN-----\nabc\n-----END-----'\nNEXT=\"a\nb\"\nLAST=1\n"), {
    KEY: "-----BEGIN-----\nabc\n-----END-----",
    NEXT: "a\nb",
    LAST: "1",
  });
});

Deno.test("references name the environment first, then the lines above", () => {
  const text = "BASE=/srv\nDATA=$BASE/data\nTAG=from-file\nIMAGE=app:${TAG}\nD=${NOPE:-dflt}\n";
  assert.deepEqual(read(text), {
    BASE: "/srv",
    DATA: "/srv/data",
    TAG: "from-file",
    IMAGE: "app:from-environment",
    D: "dflt",
  });
});

Deno.test("a name alone, CRLF line ends and a byte order mark are read as Compose reads them", () => {
  assert.deepEqual(read("\uFEFFA=1\r\nHOME\r\nB='x'\r\nC=\"y\" \r\n"), { A: "1", B: "x", C: "y" });
});

Deno.test("every bad line is named with its line and column", () => {
  const text = [
    "OK=1",
    "NO_EQUALS value",
    "=value",
    "A=${MISSING}",
    "B='unterminated",
    "",
  ].join("\n");
  assert.deepEqual(details(text), [
    { message: 'expected "=" after NO_EQUALS', line: 2, column: 11 },
    { message: 'expected NAME=value, not "=value"', line: 3, column: 1 },
    {
      message: "variable MISSING is not set: set it, give a default with ${MISSING:-default}, " +
        "or write $$ for a literal $",
      line: 4,
      column: 3,
    },
    { message: "the value has no closing '", line: 5, column: 3 },
  ]);
  assert.deepEqual(details('A="x" y\nB="z"'), [
    { message: 'unexpected text after the closing "', line: 1, column: 7 },
  ]);
});
