/**
 * `tls init`'s certificates: a CA, and a server certificate it signs for the names and addresses
 * agents and clients reach the server by. ECDSA P-256 with SHA-256 (fast to make and to verify,
 * accepted by rustls, which Deno's TLS is); keys in PKCS#8 PEM.
 */
import { isIpAddress } from "../../manifest/ip_address.ts";
import { errorMessage } from "../../errors.ts";
import { TlsFileError, TlsNameError } from "./errors.ts";
import { x509 } from "./x509.ts";

/** How long the CA is valid: ten years, since replacing it means re-joining every agent. */
export const CA_LIFETIME_DAYS = 3650;
/** How long the server certificate is valid: one year; renew it with the same CA. */
export const SERVER_LIFETIME_DAYS = 365;

const DAY_MS = 86_400_000;
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
/** A DNS name, or a wildcard of one level (`*.example.com`). */
const DNS_NAME =
  /^(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** What the server certificate is for. */
export interface TlsSubject {
  /** DNS names (at least one, or an address); the first is also the certificate's CN. */
  names: readonly string[];
  /** IP addresses the server is reached by. */
  ips: readonly string[];
}

/** Checks the names and addresses before any key is made. */
export function checkSubject(subject: TlsSubject): void {
  if (subject.names.length === 0 && subject.ips.length === 0) {
    throw new TlsNameError("give at least one --name or --ip the server is reached by");
  }
  for (const name of subject.names) {
    if (name.length > 253 || !DNS_NAME.test(name)) {
      throw new TlsNameError(`--name "${name}" is not a DNS name`);
    }
  }
  for (const ip of subject.ips) {
    if (!isIpAddress(ip)) throw new TlsNameError(`--ip "${ip}" is not an IP address`);
  }
}

/** A random positive serial number of 16 bytes, in hex. */
function serialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01; // no leading zero byte, so the DER integer keeps its 16 bytes
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A private key as PKCS#8 PEM. */
async function keyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", key);
  return `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n`;
}

/** A CA that signs: its certificate and its private key. */
export interface SigningCa {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

/** PEM texts of a certificate and its key. */
export interface CertAndKey {
  cert: string;
  key: string;
}

/** Makes a new CA, valid from a minute before `now` for `CA_LIFETIME_DAYS`. */
export async function generateCa(now = new Date()): Promise<SigningCa & { pem: CertAndKey }> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=launcher CA ${now.toISOString().slice(0, 10)}`,
    // A minute back, so that a machine whose clock is a little behind accepts it at once.
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CA_LIFETIME_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    cert,
    key: keys.privateKey,
    pem: { cert: `${cert.toString("pem")}\n`, key: await keyPem(keys.privateKey) },
  };
}

/**
 * Reads a CA that `tls init` made (an ECDSA P-256 key in PKCS#8), to sign a new server
 * certificate with it; `where` names the files in errors.
 */
export async function loadCa(pem: CertAndKey, where: CertAndKey): Promise<SigningCa> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(pem.cert);
  } catch (error) {
    throw new TlsFileError(`${where.cert} holds no readable certificate: ${errorMessage(error)}`);
  }
  const body = /-----BEGIN PRIVATE KEY-----([^-]*)-----END PRIVATE KEY-----/.exec(pem.key);
  let key: CryptoKey;
  try {
    if (body === null) throw new Error("no PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----)");
    const der = Uint8Array.from(atob(body[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    key = await crypto.subtle.importKey("pkcs8", der, ALGORITHM, false, ["sign"]);
  } catch (error) {
    throw new TlsFileError(
      `${where.key} holds no ECDSA P-256 key as tls init writes: ${errorMessage(error)}`,
    );
  }
  return { cert, key };
}

/**
 * Makes a server key and a certificate for `subject` that `ca` signs, valid from a minute before
 * `now` for `SERVER_LIFETIME_DAYS` (or `lifetimeDays`).
 */
export async function signServer(
  ca: SigningCa,
  subject: TlsSubject,
  now = new Date(),
  lifetimeDays = SERVER_LIFETIME_DAYS,
): Promise<CertAndKey> {
  checkSubject(subject);
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${subject.names[0] ?? subject.ips[0]}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + lifetimeDays * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        ...subject.names.map((value) => ({ type: "dns" as const, value })),
        ...subject.ips.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { cert: `${cert.toString("pem")}\n`, key: await keyPem(keys.privateKey) };
}
