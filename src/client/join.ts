/**
 * Join strings: one line that gives an agent both its token and the server's CA, pinned by hash.
 *
 *     launcher1:<sha256>:<token>
 *
 * `launcher1` names the format (and its version), `<sha256>` is the SHA-256 of the CA
 * certificate's DER in 64 lowercase hex digits (`openssl x509 -in ca.pem -outform der |
 * sha256sum`), and `<token>` is the agent token as `token generate` prints it. The agent fetches the
 * CA from the server, refuses it unless its hash matches, and trusts only chains to it afterwards
 * (docs/security.md).
 */
import { LauncherError } from "../errors.ts";

const PREFIX = "launcher1";
const HASH = /^[0-9a-f]{64}$/;
/** What a token may hold: `token generate` prints base64url. */
const TOKEN = /^[A-Za-z0-9_-]+$/;

/** A join string that does not follow the format. */
export class JoinStringError extends LauncherError {
  constructor(reason: string) {
    super(
      "bad_join_string",
      `the join string is not ${PREFIX}:<64 hex digits of the CA's SHA-256>:<token>: ${reason}`,
    );
  }
}

/** What a join string holds. */
export interface JoinString {
  /** SHA-256 of the CA certificate's DER, lowercase hex. */
  caSha256: string;
  token: string;
}

/** Parses a join string; errors say which part is wrong and never echo the token. */
export function parseJoinString(text: string): JoinString {
  const parts = text.trim().split(":");
  if (parts[0] !== PREFIX) throw new JoinStringError(`it does not start with "${PREFIX}:"`);
  if (parts.length !== 3) throw new JoinStringError(`it has ${parts.length} parts, not 3`);
  const [, hash, token] = parts;
  if (!HASH.test(hash)) {
    throw new JoinStringError("the CA hash is not 64 lowercase hex digits");
  }
  if (!TOKEN.test(token)) throw new JoinStringError("the token is empty or holds other characters");
  return { caSha256: hash, token };
}

/** The join string for a CA hash and a token. */
export function formatJoinString(join: JoinString): string {
  return `${PREFIX}:${join.caSha256}:${join.token}`;
}
