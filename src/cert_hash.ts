/**
 * The SHA-256 of a certificate, the way join strings name a CA: over its DER bytes (what
 * `openssl x509 -outform der | sha256sum` hashes), in lowercase hex. Both the server (which hands
 * out the hash with agent tokens) and the client (which checks a fetched CA against it) use it.
 */
import { LauncherError } from "./errors.ts";

/** A PEM text holds no certificate, or one that is not base64. */
export class PemError extends LauncherError {
  constructor(message: string) {
    super("bad_pem", message);
  }
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g;

/** The DER bytes of every certificate in a PEM text, in order. */
export function certificatesDer(pem: string): Uint8Array<ArrayBuffer>[] {
  const ders: Uint8Array<ArrayBuffer>[] = [];
  for (const match of pem.matchAll(CERTIFICATE)) {
    const base64 = match[1].replace(/\s+/g, "");
    let binary: string;
    try {
      binary = atob(base64);
    } catch {
      throw new PemError("a certificate block is not valid base64");
    }
    ders.push(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  }
  if (ders.length === 0) {
    throw new PemError("no PEM certificate (-----BEGIN CERTIFICATE-----) found");
  }
  return ders;
}

/** The SHA-256 of the first certificate of a PEM text, as 64 lowercase hex digits. */
export async function certificateSha256(pem: string): Promise<string> {
  const der = certificatesDer(pem)[0];
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
