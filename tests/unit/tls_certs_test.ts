/**
 * `tls init`'s certificates (names, key usage, lifetimes, the CA's signature) and the checks
 * `serve` runs on its TLS files before it starts, each naming the flag and the file.
 */
import assert from "node:assert/strict";
import { certificateSha256 } from "../../src/cert_hash.ts";
import { TlsFileError, TlsNameError } from "../../src/server/tls/errors.ts";
import { readServerTls } from "../../src/server/tls/files.ts";
import {
  CA_LIFETIME_DAYS,
  checkSubject,
  generateCa,
  loadCa,
  SERVER_LIFETIME_DAYS,
  signServer,
} from "../../src/server/tls/generate.ts";
import { x509 } from "../../src/server/tls/x509.ts";

const DAY_MS = 86_400_000;
const NOW = new Date("2026-06-01T12:00:00Z");

Deno.test("the server certificate names every --name and --ip, for server auth only", async () => {
  const ca = await generateCa(NOW);
  const pem = await signServer(ca, {
    names: ["ctl.example.com", "ctl"],
    ips: ["10.0.0.5", "fd00::5"],
  }, NOW);
  const cert = new x509.X509Certificate(pem.cert);
  assert.equal(cert.subject, "CN=ctl.example.com");
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  assert.ok(san);
  assert.deepEqual(san.names.toJSON(), [
    { type: "dns", value: "ctl.example.com" },
    { type: "dns", value: "ctl" },
    { type: "ip", value: "10.0.0.5" },
    { type: "ip", value: "fd00::5" },
  ]);
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  assert.equal(usage?.usages, x509.KeyUsageFlags.digitalSignature);
  assert.equal(usage?.critical, true);
  const extended = cert.getExtension(x509.ExtendedKeyUsageExtension);
  assert.deepEqual([...(extended?.usages ?? [])], [x509.ExtendedKeyUsage.serverAuth]);
  assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, false);
  assert.ok(await cert.verify({ publicKey: ca.cert, signatureOnly: true }), "the CA signed it");
  assert.equal(cert.issuer, ca.cert.subject);
});

Deno.test("the CA lives ten years, signs certificates and no other CA (path length 0)", async () => {
  const ca = await generateCa(NOW);
  const cert = new x509.X509Certificate(ca.pem.cert);
  assert.equal(cert.notAfter.getTime(), NOW.getTime() + CA_LIFETIME_DAYS * DAY_MS);
  assert.equal(cert.notBefore.getTime(), NOW.getTime() - 60_000, "a minute of clock skew");
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  assert.equal(basic?.ca, true);
  assert.equal(basic?.pathLength, 0);
  assert.equal(
    cert.getExtension(x509.KeyUsagesExtension)?.usages,
    x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
  );
  assert.ok(await cert.isSelfSigned());
  const server = new x509.X509Certificate(
    (await signServer(ca, { names: ["ctl"], ips: [] }, NOW)).cert,
  );
  assert.equal(server.notAfter.getTime(), NOW.getTime() + SERVER_LIFETIME_DAYS * DAY_MS);
  assert.match(ca.pem.key, /^-----BEGIN PRIVATE KEY-----\n/);
});

Deno.test("a CA read back from its files signs as the one that was made", async () => {
  const ca = await generateCa(NOW);
  const loaded = await loadCa(ca.pem, { cert: "ca.pem", key: "ca-key.pem" });
  const cert = new x509.X509Certificate(
    (await signServer(loaded, { names: [], ips: ["10.0.0.5"] }, NOW)).cert,
  );
  assert.ok(await cert.verify({ publicKey: ca.cert, signatureOnly: true }));
  await assert.rejects(
    loadCa({ cert: ca.pem.cert, key: "not a key" }, { cert: "ca.pem", key: "d/ca-key.pem" }),
    /d\/ca-key\.pem holds no ECDSA P-256 key/,
  );
});

Deno.test("names and addresses are checked before any key is made", () => {
  const bad: [string[], string[], RegExp][] = [
    [[], [], /at least one --name or --ip/],
    [["bad name"], [], /--name "bad name" is not a DNS name/],
    [["-lead.example"], [], /is not a DNS name/],
    [["ok.example"], ["10.0.0"], /--ip "10.0.0" is not an IP address/],
  ];
  for (const [names, ips, message] of bad) {
    assert.throws(
      () => checkSubject({ names, ips }),
      (e) => e instanceof TlsNameError && message.test(e.message),
    );
  }
  checkSubject({ names: ["*.example.com", "localhost"], ips: ["::1"] });
});

Deno.test("a CA's hash is the SHA-256 of its DER, as x509 thumbprints are", async () => {
  const ca = await generateCa(NOW);
  const thumbprint = new Uint8Array(await ca.cert.getThumbprint("SHA-256"));
  const hex = Array.from(thumbprint, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(await certificateSha256(ca.pem.cert), hex);
});

/** Writes the files of a CA and a server certificate valid at `made` into a temporary folder. */
async function tlsFiles(made: Date, lifetimeDays?: number) {
  const dir = await Deno.makeTempDir({ prefix: "launcher-tls-" });
  const ca = await generateCa(made);
  const server = await signServer(
    ca,
    { names: ["localhost"], ips: ["127.0.0.1"] },
    made,
    lifetimeDays,
  );
  const other = await generateCa(made);
  const files = {
    dir,
    ca: `${dir}/ca.pem`,
    caKey: `${dir}/ca-key.pem`,
    cert: `${dir}/server.pem`,
    key: `${dir}/server-key.pem`,
    otherCa: `${dir}/other-ca.pem`,
  };
  await Deno.writeTextFile(files.ca, ca.pem.cert);
  await Deno.writeTextFile(files.caKey, ca.pem.key);
  await Deno.writeTextFile(files.cert, server.cert);
  await Deno.writeTextFile(files.key, server.key);
  await Deno.writeTextFile(files.otherCa, other.pem.cert);
  return files;
}

/** Asserts that reading these files fails with a message matching `message`. */
async function refused(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof TlsFileError, String(error));
    assert.equal(error.code, "tls_file");
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("serve's TLS files: good ones are read with the CA", async () => {
  const f = await tlsFiles(new Date());
  try {
    const tls = await readServerTls({ certFile: f.cert, keyFile: f.key, caFile: f.ca });
    assert.equal(tls.cert, await Deno.readTextFile(f.cert));
    assert.equal(tls.ca, await Deno.readTextFile(f.ca));
    assert.equal((await readServerTls({ certFile: f.cert, keyFile: f.key })).ca, undefined);
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("serve's TLS files: each problem is refused, naming the flag and the file", async () => {
  const f = await tlsFiles(new Date());
  try {
    const missing = `${f.dir}/missing.pem`;
    await refused(
      readServerTls({ certFile: missing, keyFile: f.key }),
      new RegExp(`^cannot read --tls-cert ${missing}: No such file`),
    );
    await refused(
      readServerTls({ certFile: f.cert, keyFile: missing }),
      new RegExp(`^cannot read --tls-key ${missing}`),
    );
    // Root reads files whatever their mode: a folder in the file's place is unreadable for all.
    await refused(
      readServerTls({ certFile: f.cert, keyFile: f.dir }),
      new RegExp(`^cannot read --tls-key ${f.dir}: Is a directory`),
    );
    await refused(
      readServerTls({ certFile: f.key, keyFile: f.key }),
      new RegExp(`^--tls-cert ${f.key} holds no PEM certificate`),
    );
    await refused(
      readServerTls({ certFile: f.cert, keyFile: f.cert }),
      new RegExp(`^--tls-key ${f.cert} holds no PEM private key`),
    );
    await refused(
      readServerTls({ certFile: f.cert, keyFile: f.caKey }),
      new RegExp(
        `^--tls-key ${f.caKey} is not the key of the certificate in --tls-cert ${f.cert}$`,
      ),
    );
    await refused(
      readServerTls({ certFile: f.cert, keyFile: f.key, caFile: f.otherCa }),
      new RegExp(`^--tls-cert ${f.cert} is not signed by the CA in --tls-ca ${f.otherCa}$`),
    );
    await refused(
      readServerTls({ certFile: f.cert, keyFile: f.key, caFile: missing }),
      new RegExp(`^cannot read --tls-ca ${missing}`),
    );
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("serve's TLS files: a certificate not valid now is refused with its dates", async () => {
  const expired = await tlsFiles(new Date(Date.now() - 3 * DAY_MS), 1);
  const early = await tlsFiles(new Date(Date.now() + 3 * DAY_MS));
  try {
    await refused(
      readServerTls({ certFile: expired.cert, keyFile: expired.key }),
      new RegExp(`^--tls-cert ${expired.cert}: the certificate expired on \\d{4}-`),
    );
    await refused(
      readServerTls({ certFile: early.cert, keyFile: early.key }),
      new RegExp(`^--tls-cert ${early.cert}: the certificate is not valid before \\d{4}-`),
    );
  } finally {
    await Deno.remove(expired.dir, { recursive: true });
    await Deno.remove(early.dir, { recursive: true });
  }
});
