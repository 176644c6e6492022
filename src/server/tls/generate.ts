/**
 * `tls init`'s certificates: a CA, and a server certificate it signs for the names and addresses
 * agents and clients reach the server by. ECDSA P-256 with SHA-256 (fast to make and to verify,
 * accepted by rustls, which Deno's TLS is); keys in PKCS#8 PEM.
 */
import { isIpAddress } from "../../manifest/ip_address.ts";
import { TlsNameError } from "./errors.ts";
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

/** The four PEM texts `tls init` writes. */
export interface GeneratedTls {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
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

/** Makes a new CA and a server certificate signed by it, valid from `now`. */
export async function generateTls(subject: TlsSubject, now = new Date()): Promise<GeneratedTls> {
  checkSubject(subject);
  // A minute back, so that a client whose clock is a little behind accepts them at once.
  const notBefore = new Date(now.getTime() - 60_000);
  const caKeys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=launcher CA ${now.toISOString().slice(0, 10)}`,
    notBefore,
    notAfter: new Date(now.getTime() + CA_LIFETIME_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const cn = subject.names[0] ?? subject.ips[0];
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${cn}`,
    issuer: ca.subject,
    notBefore,
    notAfter: new Date(now.getTime() + SERVER_LIFETIME_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        ...subject.names.map((value) => ({ type: "dns" as const, value })),
        ...subject.ips.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return {
    caCert: `${ca.toString("pem")}\n`,
    caKey: await keyPem(caKeys.privateKey),
    serverCert: `${server.toString("pem")}\n`,
    serverKey: await keyPem(serverKeys.privateKey),
  };
}
