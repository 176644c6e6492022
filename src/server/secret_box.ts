/**
 * The cryptography of secrets: AES-GCM 256 with a random 96-bit IV per write and the secret's name
 * as additional data, so a ciphertext moved to another name does not decrypt. Three keys are
 * derived from the one secret key with HKDF-SHA256, each for one use: encryption, the digest of a
 * value (HMAC-SHA256 of name and value: it changes exactly when the value does and, without the
 * key, says nothing about it), and the check value a store keeps to recognise its key.
 */
import { LauncherError } from "../errors.ts";

/** The length of a secret key: 32 bytes, AES-256. */
export const SECRET_KEY_BYTES = 32;
/** The length of an AES-GCM IV: 96 bits, as NIST SP 800-38D recommends. */
const IV_BYTES = 12;

/** A stored secret that this key cannot decrypt: another key wrote it, or it was altered. */
export class SecretDecryptError extends LauncherError {
  constructor(name: string) {
    super(
      "secret_undecryptable",
      `secret ${name} cannot be decrypted with this server's secret key: it was written with ` +
        "another key, or changed in the store; every server of a store needs the same key file",
    );
  }
}

/** An encrypted value as the store keeps it. */
export interface Sealed {
  /** Base64 of the ciphertext and its tag. */
  ciphertext: string;
  /** Base64 of the IV. */
  iv: string;
}

const encoder = new TextEncoder();

function base64(bytes: ArrayBuffer | Uint8Array): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

function unbase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Encrypts and decrypts secrets under one secret key. */
export class SecretBox {
  readonly #encryption: CryptoKey;
  readonly #digest: CryptoKey;
  /** The check value of this key: what a store keeps to tell whether a key is its own. */
  readonly check: string;

  private constructor(encryption: CryptoKey, digest: CryptoKey, check: string) {
    this.#encryption = encryption;
    this.#digest = digest;
    this.check = check;
  }

  /** A box over a secret key of `SECRET_KEY_BYTES` random bytes. */
  static async fromKey(key: Uint8Array): Promise<SecretBox> {
    if (key.length !== SECRET_KEY_BYTES) {
      throw new RangeError(`a secret key has ${SECRET_KEY_BYTES} bytes, not ${key.length}`);
    }
    const base = await crypto.subtle.importKey("raw", new Uint8Array(key), "HKDF", false, [
      "deriveKey",
    ]);
    const derive = (
      info: string,
      algorithm: AesKeyGenParams | HmacKeyGenParams,
      uses: KeyUsage[],
    ) =>
      crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: encoder.encode(info) },
        base,
        algorithm,
        false,
        uses,
      );
    const hmac = { name: "HMAC", hash: "SHA-256", length: 256 } as const;
    const encryption = await derive(
      "launcher secrets: encryption",
      { name: "AES-GCM", length: 256 },
      ["encrypt", "decrypt"],
    );
    const digest = await derive("launcher secrets: digest", hmac, ["sign"]);
    const checkKey = await derive("launcher secrets: key check", hmac, ["sign"]);
    const check = hex(
      await crypto.subtle.sign("HMAC", checkKey, encoder.encode("launcher secret key")),
    );
    return new SecretBox(encryption, digest, check);
  }

  /** Encrypts a value under a fresh IV, bound to the secret's name. */
  async seal(name: string, value: string): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const ciphertext = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(name) },
      this.#encryption,
      encoder.encode(value),
    );
    return { ciphertext: base64(ciphertext), iv: base64(iv) };
  }

  /** Decrypts a stored value of the secret `name`; throws `SecretDecryptError` if it cannot. */
  async unseal(name: string, sealed: Sealed): Promise<string> {
    let plain: ArrayBuffer;
    try {
      plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: unbase64(sealed.iv), additionalData: encoder.encode(name) },
        this.#encryption,
        unbase64(sealed.ciphertext),
      );
    } catch {
      throw new SecretDecryptError(name);
    }
    return new TextDecoder().decode(plain);
  }

  /** The digest of a secret's value (hex): equal values of one name give equal digests. */
  async digest(name: string, value: string): Promise<string> {
    const data = encoder.encode(`${name}\0${value}`);
    return hex(await crypto.subtle.sign("HMAC", this.#digest, data));
  }
}
