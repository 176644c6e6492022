/**
 * Image references, checked at the door against the grammar of Docker's distribution/reference:
 * `[DOMAIN[:PORT]/]PATH[:TAG][@ALGORITHM:HEX]`. A reference the engine would refuse, or one that
 * carries spaces or shell characters, never reaches an agent.
 */
import { quote } from "./describe.ts";
import { ValueError } from "./value_error.ts";

/** The longest name (domain and path, without tag or digest) the engine accepts. */
const MAX_NAME_LENGTH = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):(.*)$/;
/** Characters a reference may hold at all; anything else is named in the message. */
const ALLOWED = /^[A-Za-z0-9._\-:/@[\]]$/;

/** Hex digits of the digests the engine verifies, by algorithm. */
const DIGEST_HEX_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** Checks an image reference; throws {@link ValueError} saying what is wrong with it. */
export function checkImageReference(reference: string): string {
  const reason = referenceProblem(reference);
  if (reason !== undefined) {
    throw new ValueError(`${quote(reference)} is not a valid image reference: ${reason}`);
  }
  return reference;
}

/** What makes `reference` invalid, or undefined when it is a valid reference. */
function referenceProblem(reference: string): string | undefined {
  for (const char of reference) {
    if (ALLOWED.test(char)) continue;
    if (/\s/.test(char)) return "it contains whitespace";
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return "it contains a control character";
    return `it contains ${quote(char)}, which no reference may hold`;
  }
  const at = reference.indexOf("@");
  const nameAndTag = at < 0 ? reference : reference.slice(0, at);
  if (at >= 0) {
    const problem = digestProblem(reference.slice(at + 1));
    if (problem) return problem;
  }
  // A colon after the last slash starts the tag; one before it is the registry's port.
  const colon = nameAndTag.lastIndexOf(":");
  const hasTag = colon > nameAndTag.lastIndexOf("/");
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  if (hasTag) {
    const tag = nameAndTag.slice(colon + 1);
    if (tag === "") return "the tag after ':' is empty";
    if (!TAG.test(tag)) {
      return `the tag ${quote(tag)} must be 1 to 128 letters, digits, '_', '.' and '-', ` +
        "not starting with '.' or '-'";
    }
  }
  if (name === "") return "the repository name is empty";
  if (name.length > MAX_NAME_LENGTH) {
    return `the name is ${name.length} characters long, more than ${MAX_NAME_LENGTH}`;
  }
  const components = name.split("/");
  // As the docker CLI decides: the first part names a registry when it has a dot or a port, is
  // localhost, or has capitals (repository paths never do).
  const first = components[0];
  const isDomain = components.length > 1 &&
    (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase());
  if (isDomain) {
    const problem = domainProblem(first);
    if (problem) return problem;
  }
  for (const component of isDomain ? components.slice(1) : components) {
    if (component === "") return "a part of the path between '/' is empty";
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT.test(component.toLowerCase())) {
      return "the repository name must be lowercase";
    }
    return `the path part ${quote(component)} must be lowercase letters and digits, ` +
      "separated by single '.', '_', '__' or dashes";
  }
  return undefined;
}

/** What is wrong with a registry host (`registry.example.com:5000`, `[::1]:5000`), if anything. */
function domainProblem(domain: string): string | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:]+)(?::(.*))?$/.exec(domain);
  const host = match?.[1] ?? "";
  const port = match?.[2];
  const hostOk = host.startsWith("[")
    ? URL.canParse(`http://${host}/`)
    : host.split(".").every((part) => DOMAIN_COMPONENT.test(part));
  if (!match || !hostOk) return `the registry ${quote(domain)} is not a host name`;
  if (port !== undefined && !/^\d+$/.test(port)) {
    return `the registry ${quote(domain)} has a port that is not a number`;
  }
  return undefined;
}

/** What is wrong with the digest after '@', if anything. */
function digestProblem(digest: string): string | undefined {
  const match = DIGEST.exec(digest);
  if (!match) return "the digest after '@' must be ALGORITHM:HEX, such as sha256:<64 hex digits>";
  const [, algorithm, hex] = match;
  const length = DIGEST_HEX_LENGTHS[algorithm];
  if (length === undefined) {
    return `the digest algorithm ${quote(algorithm)} is not sha256, sha384 or sha512`;
  }
  if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
    return `a ${algorithm} digest is ${length} lowercase hex digits`;
  }
  return undefined;
}
