/**
 * Token auth: the password is exchanged for random tokens, which are stored only as SHA-256
 * hashes; the password is compared in constant time.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { Buffer } from "node:buffer";
import type { Store } from "./store.ts";

/** SHA-256 of a UTF-8 string, as raw bytes. */
function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Issues and checks tokens against one store and one password. */
export class TokenAuth {
  readonly #store: Store;
  readonly #passwordDigest: Buffer;
  readonly #hasPassword: boolean;

  constructor(store: Store, password: string) {
    this.#store = store;
    this.#passwordDigest = sha256(password);
    this.#hasPassword = password.length > 0;
  }

  /** Whether `candidate` is the password; an empty configured password matches nothing. */
  checkPassword(candidate: string): boolean {
    // Comparing digests keeps the comparison constant-time whatever the candidate's length.
    return timingSafeEqual(sha256(candidate), this.#passwordDigest) && this.#hasPassword;
  }

  /** Creates a token (32 random bytes, base64url), stores its hash and returns it once. */
  createToken(): string {
    const token = randomBytes(32).toString("base64url");
    this.#store.insertToken(
      randomUUID(),
      sha256(token).toString("hex"),
      new Date().toISOString(),
    );
    return token;
  }

  /** Whether a token was issued by this server (looked up by its hash). */
  verifyToken(token: string): boolean {
    return this.#store.hasTokenHash(sha256(token).toString("hex"));
  }
}
