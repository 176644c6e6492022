import assert from "node:assert/strict";
import { checkImageReference } from "../../src/manifest/image.ts";
import { ManifestError, parseManifest } from "../../src/manifest/parse.ts";
import { ValueError } from "../../src/manifest/value_error.ts";

/** Values as messages quote them: cut after 100 characters. */
function quote(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}...` : text);
}

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

Deno.test("checkImageReference takes what Docker's reference grammar takes", () => {
  for (
    const reference of [
      "nginx",
      "nginx:1.27",
      "library/nginx:latest",
      "localhost/x",
      "localhost:5000/x",
      `registry:5000/a/b:1.2@${DIGEST}`,
      `nginx@${DIGEST}`,
      "registry.example.com/team/app-name_2:v1.0-rc.1",
      "a__b/c--d/e.f:TAG_1",
      "[::1]:5000/x:1",
      "Registry.Example.com/x",
      "a".repeat(255),
      `sha512ref@sha512:${"a".repeat(128)}`,
    ]
  ) {
    assert.equal(checkImageReference(reference), reference);
  }
});

Deno.test("checkImageReference refuses hostile and malformed references, saying why", () => {
  const refuses = (reference: string, reason: string) =>
    assert.throws(() => checkImageReference(reference), (error) => {
      assert.ok(error instanceof ValueError, reference);
      assert.equal(error.message, `${quote(reference)} is not a valid image reference: ${reason}`);
      return true;
    });
  refuses("nginx latest", "it contains whitespace");
  refuses("nginx\n", "it contains whitespace");
  refuses("nginx\u0000", "it contains a control character");
  refuses("nginx;rm -rf /", 'it contains ";", which no reference may hold');
  refuses("$(id)", 'it contains "$", which no reference may hold');
  refuses("`id`", 'it contains "`", which no reference may hold');
  refuses("nginx|sh", 'it contains "|", which no reference may hold');
  refuses("Nginx", "the repository name must be lowercase");
  refuses("library/Nginx", "the repository name must be lowercase");
  refuses("nginx:", "the tag after ':' is empty");
  refuses(
    "nginx:-1",
    `the tag "-1" must be 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'`,
  );
  refuses(
    `nginx:${"a".repeat(129)}`,
    `the tag ${quote("a".repeat(129))} must be 1 to 128 letters, digits, '_', '.' and '-', ` +
      "not starting with '.' or '-'",
  );
  refuses("a".repeat(300), "the name is 300 characters long, more than 255");
  refuses(":1", "the repository name is empty");
  refuses("a//b", "a part of the path between '/' is empty");
  refuses("a/", "a part of the path between '/' is empty");
  refuses(
    "a/-b",
    `the path part "-b" must be lowercase letters and digits, separated by single '.', '_', ` +
      "'__' or dashes",
  );
  refuses(
    "a/b..c",
    `the path part "b..c" must be lowercase letters and digits, separated by single '.', '_', ` +
      "'__' or dashes",
  );
  refuses("-registry.io/x", 'the registry "-registry.io" is not a host name');
  refuses("registry.io:http/x", 'the registry "registry.io:http" has a port that is not a number');
  refuses("nginx@sha256:abc", "a sha256 digest is 64 lowercase hex digits");
  refuses(`nginx@sha256:${"A".repeat(64)}`, "a sha256 digest is 64 lowercase hex digits");
  refuses(
    `nginx@md5:${"a".repeat(32)}`,
    'the digest algorithm "md5" is not sha256, sha384 or sha512',
  );
  refuses(
    "nginx@latest",
    "the digest after '@' must be ALGORITHM:HEX, such as sha256:<64 hex digits>",
  );
});

Deno.test("parseManifest refuses a bad image reference at its line and column", () => {
  const text = 'name: shop\ncontainers:\n  - name: web\n    host: a\n    image: "nginx latest"\n';
  assert.throws(() => parseManifest(text, "yaml"), (error) => {
    assert.ok(error instanceof ManifestError);
    assert.deepEqual(error.details, [{
      path: "containers[0].image",
      message: 'image "nginx latest" is not a valid image reference: it contains whitespace',
      line: 5,
      column: 12,
    }]);
    return true;
  });
  const image = (value: string) =>
    parseManifest(
      JSON.stringify({ name: "shop", containers: [{ name: "web", host: "a", image: value }] }),
      "json",
    ).containers[0].normalized.image;
  assert.equal(image(`registry:5000/a/b:1.2@${DIGEST}`), `registry:5000/a/b:1.2@${DIGEST}`);
  assert.equal(image("localhost/x"), "localhost/x");
});
