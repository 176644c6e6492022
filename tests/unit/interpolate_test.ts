/**
 * Variables in a manifest's YAML: resolved in values only, written back in place (comments,
 * lines and styles kept), typed as the text reads, and problems named with line and column.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import type { ErrorDetail } from "../../src/errors.ts";
import { interpolateManifest } from "../../src/manifest/interpolate.ts";
import { ManifestError, parseManifest } from "../../src/manifest/parse.ts";

const VARS: Record<string, string> = {
  TAG: "1.27",
  N: "3",
  ZIP: "02134",
  VERSION: "1.10",
  EMPTY: "",
  QUOTES: `it's "quoted" \\ here`,
  LINES: "first\nsecond",
  COLON: "a: b",
  HASH: "x #y",
  LIST: "a, b]",
  YES: "true",
  ODD: "tab\tnel\u0085ls\u2028bom\ufeff",
};
const lookup = (name: string) => Object.hasOwn(VARS, name) ? VARS[name] : undefined;

/** The details of the ManifestError that interpolating `text` throws. */
function details(text: string): ErrorDetail[] {
  try {
    interpolateManifest(text, lookup);
  } catch (error) {
    assert.ok(error instanceof ManifestError);
    assert.equal(error.code, "invalid_manifest");
    return error.details ?? [];
  }
  assert.fail("interpolateManifest did not throw");
}

Deno.test("interpolateManifest resolves values and leaves comments, keys and lines alone", () => {
  const text = `# deploy with TAG=\${TAG} \${NOT_SET}
name: shop # \${NOT_SET} here is only a comment
containers:
  - name: web
    host: a
    image: "nginx:\${TAG}"   # pinned
    cmd: sh -c 'echo $$HOME'
    environment:
      \${KEY}: $$LITERAL
      MODE: \${MODE:-prod}
`;
  const out = interpolateManifest(text, lookup);
  assert.equal(
    out,
    text.replace('"nginx:${TAG}"', '"nginx:1.27"').replace("$$HOME", "$HOME")
      .replace("$$LITERAL", "$LITERAL").replace("${MODE:-prod}", "prod"),
  );
  assert.equal(out.split("\n").length, text.split("\n").length);
  const manifest = parseManifest(out, "yaml");
  assert.equal(manifest.containers[0].spec.image, "nginx:1.27");
  assert.deepEqual(manifest.containers[0].spec.environment, {
    "${KEY}": "$LITERAL",
    MODE: "prod",
  });
});

Deno.test("interpolateManifest returns text without a $ as it is", () => {
  const text = "name: shop\ncontainers: []\n";
  assert.equal(interpolateManifest(text, lookup), text);
});

Deno.test("a plain value takes the type its new text reads as, unless that would change it", () => {
  const text = [
    "replicas: ${N}",
    "flag: ${YES}",
    "zip: ${ZIP}",
    "version: ${VERSION}",
    "empty: ${EMPTY}",
    "tagged: !!str ${N}",
    "quoted: '${N}'",
    "",
  ].join("\n");
  const out = interpolateManifest(text, lookup);
  assert.deepEqual(parse(out), {
    replicas: 3,
    flag: true,
    zip: "02134",
    version: "1.10",
    empty: "",
    tagged: "3",
    quoted: "3",
  });
  assert.match(out, /^replicas: 3$/m);
  assert.match(out, /^zip: "02134"$/m);
});

Deno.test("a value cannot add structure: whatever it holds stays one string", () => {
  const text = [
    "plain: ${COLON}",
    "hash: ${HASH}",
    "lines: ${LINES}",
    'double: "<${QUOTES}>"',
    "single: '<${QUOTES}>'",
    'flow: ["${LIST}", x]',
    "flowmap: { k: '${COLON}' }",
    "joined: pre-${COLON}",
    "odd: ${ODD}",
    'oddquoted: "${ODD}"',
    "",
  ].join("\n");
  const out = interpolateManifest(text, lookup);
  assert.deepEqual(parse(out), {
    plain: "a: b",
    hash: "x #y",
    lines: "first\nsecond",
    double: `<${VARS.QUOTES}>`,
    single: `<${VARS.QUOTES}>`,
    flow: ["a, b]", "x"],
    flowmap: { k: "a: b" },
    joined: "pre-a: b",
    odd: VARS.ODD,
    oddquoted: VARS.ODD,
  });
  // Quoted values keep their style; each value stays on its line.
  assert.match(out, /^double: "<it's \\"quoted\\" \\\\ here>"$/m);
  assert.match(out, /^single: '<it''s "quoted" \\ here>'$/m);
  assert.equal(out.split("\n").length, text.split("\n").length);
});

Deno.test("block scalars keep their style, and their lines where the values allow", () => {
  const text = [
    "script: |",
    "  echo ${TAG}",
    "  echo $$PATH",
    "list:",
    "  - >",
    "    ${LINES}",
    "  - |-",
    "    ${TAG}",
    "end: x",
    "",
  ].join("\n");
  const out = interpolateManifest(text, lookup);
  assert.deepEqual(parse(out), {
    script: "echo 1.27\necho $PATH\n",
    list: ["first\nsecond\n", "1.27"],
    end: "x",
  });
  assert.ok(out.startsWith("script: |\n  echo 1.27\n  echo $PATH\n"));
});

Deno.test("an unquoted value over several lines is joined onto one line", () => {
  const out = interpolateManifest("cmd: echo\n  ${TAG}\n  done\nnext: x\n", lookup);
  assert.equal(out, "cmd: echo 1.27 done\nnext: x\n");
});

Deno.test("an anchored value is resolved once and its aliases follow it", () => {
  const out = interpolateManifest("a: &tag nginx:${TAG}\nb: *tag\n", lookup);
  assert.deepEqual(parse(out), { a: "nginx:1.27", b: "nginx:1.27" });
});

Deno.test("every unresolved reference is named with its path, line and column", () => {
  const text = [
    "name: shop",
    "containers:",
    "  - name: web",
    "    image: nginx:${MISSING}",
    '    cmd: ["echo", "a ${NEEDED:?set NEEDED to the greeting}"]',
    "    environment:",
    "      A: ${EMPTY:?must not be empty}",
    "    healthcheck:",
    "      test: |",
    "        curl -f localhost",
    "        test ${BAD NAME}",
    "",
  ].join("\n");
  const notSet = ", give a default with ${MISSING:-default}, or write $$ for a literal $";
  assert.deepEqual(details(text), [
    {
      path: "containers[0].image",
      message: `variable MISSING is not set: set it${notSet}`,
      line: 4,
      column: 18,
    },
    {
      path: "containers[0].cmd[1]",
      message: "variable NEEDED is not set: set NEEDED to the greeting",
      line: 5,
      column: 22,
    },
    {
      path: "containers[0].environment.A",
      message: "variable EMPTY is empty: must not be empty",
      line: 7,
      column: 10,
    },
    {
      path: "containers[0].healthcheck.test",
      message: '"${BAD NAME}" is not a variable reference: write ${NAME}, ${NAME:-default}, ' +
        "${NAME-default}, ${NAME:?message}, ${NAME?message}, ${NAME:+value} or ${NAME+value} " +
        "(or $$ for a literal $)",
      line: 11,
      column: 14,
    },
  ]);
});

Deno.test("an unclosed ${ is named where it starts", () => {
  assert.deepEqual(details("name: shop\nimage: x${TAG\n"), [
    {
      path: "image",
      message: '"${" has no closing "}" (write $$ for a literal $)',
      line: 2,
      column: 9,
    },
  ]);
});

Deno.test("an unquoted ${ in [...] or {...} is named, not left to YAML's puzzling message", () => {
  assert.deepEqual(details('cmd: [echo, ${TAG}]\nenv: { A: ${TAG} }\nok: "${TAG}"\n'), [
    {
      path: "cmd[1]",
      message: 'a value with "${" inside [...] or {...} must be quoted, as "${NAME}"',
      line: 1,
      column: 13,
    },
    {
      path: "env.A",
      message: 'a value with "${" inside [...] or {...} must be quoted, as "${NAME}"',
      line: 2,
      column: 11,
    },
  ]);
});

Deno.test("text YAML cannot read is left for the manifest parser to report", () => {
  const text = 'name: "shop\nimage: ${MISSING}\n';
  assert.equal(interpolateManifest(text, lookup), text);
});

Deno.test("text nested too deeply for YAML is left for the manifest parser to refuse", () => {
  const text = `a: ${"[".repeat(1000)}"\${TAG}"${"]".repeat(1000)}\n`;
  assert.equal(interpolateManifest(text, lookup), text);
  assert.throws(() => parseManifest(text, "yaml"), /nested too deeply/);
});
