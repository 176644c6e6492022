/**
 * The server's TLS files (`serve --tls-cert --tls-key [--tls-ca]`), read and checked before the
 * server starts, each error naming the flag and file: missing or unreadable, no certificate or
 * key in it, a certificate not valid now, a key that is not the certificate's, a certificate the
 * CA did not sign.
 */
import { errorMessage } from "../../errors.ts";
import { TlsFileError } from "./errors.ts";
import { x509 } from "./x509.ts";

/** Where the server's TLS files are. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** The CA that signed the certificate, handed out to joining agents (`GET /tls/ca`). */
  caFile?: string;
}

/** The checked PEM texts Deno.serve and the CA route take. */
export interface ServerTls {
  /** The certificate chain, leaf first. */
  cert: string;
  key: string;
  /** The CA's PEM, handed out to joining agents. */
  ca?: string;
}

/** Reads a file named by `flag`, or says which and why not. */
async function readFlagFile(flag: string, file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    throw new TlsFileError(`cannot read ${flag} ${file}: ${errorMessage(error)}`);
  }
}

/** The first certificate of a PEM file, parsed. */
function parseCertificate(flag: string, file: string, pem: string): x509.X509Certificate {
  const block = /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/.exec(pem);
  if (block === null) {
    throw new TlsFileError(
      `${flag} ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  try {
    return new x509.X509Certificate(block[0]);
  } catch (error) {
    throw new TlsFileError(
      `${flag} ${file} holds an unreadable certificate: ${errorMessage(error)}`,
    );
  }
}

/** Refuses a certificate that is not valid at `now`. */
function checkValidity(flag: string, file: string, cert: x509.X509Certificate, now: Date): void {
  if (cert.notAfter.getTime() < now.getTime()) {
    throw new TlsFileError(
      `${flag} ${file}: the certificate expired on ${cert.notAfter.toISOString()}`,
    );
  }
  if (cert.notBefore.getTime() > now.getTime()) {
    throw new TlsFileError(
      `${flag} ${file}: the certificate is not valid before ${cert.notBefore.toISOString()}`,
    );
  }
}

/**
 * Whether `key` is the private key of `cert`'s leaf. rustls, the TLS stack Deno.serve runs on,
 * judges the pair: a throwaway listener on a free loopback port agrees with serve on every key
 * format (PKCS#8, SEC1, PKCS#1), where WebCrypto would read PKCS#8 only.
 */
function checkPair(files: TlsFiles, cert: string, key: string): void {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    throw new TlsFileError(`--tls-key ${files.keyFile} holds no PEM private key`);
  }
  let listener: Deno.TlsListener;
  try {
    listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
  } catch (error) {
    const reason = errorMessage(error);
    throw new TlsFileError(
      /KeyMismatch|not be consistent/.test(reason)
        ? `--tls-key ${files.keyFile} is not the key of the certificate in --tls-cert ${files.certFile}`
        : `--tls-key ${files.keyFile} with --tls-cert ${files.certFile}: ${reason}`,
    );
  }
  listener.close();
}

/** Reads and checks the server's TLS files, as of `now`. */
export async function readServerTls(files: TlsFiles, now = new Date()): Promise<ServerTls> {
  const cert = await readFlagFile("--tls-cert", files.certFile);
  const key = await readFlagFile("--tls-key", files.keyFile);
  const leaf = parseCertificate("--tls-cert", files.certFile, cert);
  checkValidity("--tls-cert", files.certFile, leaf, now);
  checkPair(files, cert, key);
  if (files.caFile === undefined) return { cert, key };
  const caPem = await readFlagFile("--tls-ca", files.caFile);
  const ca = parseCertificate("--tls-ca", files.caFile, caPem);
  checkValidity("--tls-ca", files.caFile, ca, now);
  const signed = leaf.issuer === ca.subject &&
    await leaf.verify({ publicKey: ca, signatureOnly: true }).catch(() => false);
  if (!signed) {
    throw new TlsFileError(
      `--tls-cert ${files.certFile} is not signed by the CA in --tls-ca ${files.caFile}`,
    );
  }
  return { cert, key, ca: caPem };
}
