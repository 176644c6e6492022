/** `launcher tls init`, and the TLS flags of `launcher serve`. */
import { Command } from "@commander-js/extra-typings";
import type { ServerTls } from "../server/tls/files.ts";
import type { CertAndKey, SigningCa } from "../server/tls/generate.ts";
import { errorMessage } from "../errors.ts";
import { UsageError } from "./errors.ts";

/** The flags of `serve` that turn TLS on. */
export interface ServeTlsFlags {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

/**
 * The checked TLS files of `serve`, or undefined without `--tls-cert`. The x509 library loads
 * only here, so a server without TLS does not pay for it.
 */
export async function serverTls(flags: ServeTlsFlags): Promise<ServerTls | undefined> {
  if (flags.tlsCert === undefined && flags.tlsKey === undefined) {
    if (flags.tlsCa !== undefined) {
      throw new UsageError("--tls-ca goes with --tls-cert and --tls-key");
    }
    return undefined;
  }
  if (flags.tlsCert === undefined || flags.tlsKey === undefined) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  const { readServerTls } = await import("../server/tls/files.ts");
  return await readServerTls({
    certFile: flags.tlsCert,
    keyFile: flags.tlsKey,
    ...(flags.tlsCa === undefined ? {} : { caFile: flags.tlsCa }),
  });
}

/** Adds one value of a repeatable flag. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Where `tls init` writes in `dir`: the CA's pair, and the server's. */
function filesIn(dir: string) {
  const base = dir.replace(/\/+$/, "");
  return {
    ca: { cert: `${base}/ca.pem`, key: `${base}/ca-key.pem` },
    server: { cert: `${base}/server.pem`, key: `${base}/server-key.pem` },
  };
}

/** Whether a path exists (a dangling link counts: writing would follow it). */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Refuses to go on when any of `paths` exists, naming them all. */
async function refuseExisting(paths: string[]): Promise<void> {
  const taken = [];
  for (const path of paths) if (await exists(path)) taken.push(path);
  if (taken.length > 0) {
    throw new UsageError(`${taken.join(", ")} already exist; pass --force to overwrite`);
  }
}

/** Writes a certificate (0644) and its key (0600; never readable by others, not for a moment). */
async function writePair(paths: CertAndKey, pem: CertAndKey, force: boolean): Promise<void> {
  for (
    const [path, text, mode] of [[paths.cert, pem.cert, 0o644], [
      paths.key,
      pem.key,
      0o600,
    ]] as const
  ) {
    if (force) await Deno.remove(path).catch(() => {});
    await Deno.writeTextFile(path, text, { createNew: true, mode });
  }
}

/** Reads a file `tls init --keep-ca` needs, or says which and why not. */
async function readCaPart(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(`--keep-ca: cannot read ${path}: ${errorMessage(error)}`);
  }
}

/** The `tls` command group. */
export function tlsCommand(print: (text: string) => void): Command {
  const tls = new Command("tls").description("certificates for serving the API over HTTPS");
  tls.command("init")
    .description(
      "create a CA (valid 10 years) and a server certificate it signs (valid 1 year) for the " +
        "given names and addresses: DIR/ca.pem, ca-key.pem, server.pem, server-key.pem " +
        "(keys 0600). With --keep-ca, sign a new server certificate with the CA already in DIR",
    )
    .requiredOption("--dir <dir>", "folder to write the files to (created when missing)")
    .option("--name <dns>", "a DNS name the server is reached by (repeatable)", collect)
    .option("--ip <address>", "an IP address the server is reached by (repeatable)", collect)
    .option("--keep-ca", "keep DIR/ca.pem and ca-key.pem; renew the server's certificate only")
    .option("--force", "overwrite files that exist")
    .action(async (opts) => {
      const { checkSubject, generateCa, loadCa, signServer } = await import(
        "../server/tls/generate.ts"
      );
      const subject = { names: opts.name ?? [], ips: opts.ip ?? [] };
      checkSubject(subject);
      const files = filesIn(opts.dir);
      const writing = opts.keepCa ? [files.server] : [files.ca, files.server];
      if (!opts.force) await refuseExisting(writing.flatMap((pair) => [pair.cert, pair.key]));
      let ca: SigningCa;
      if (opts.keepCa) {
        const pem = { cert: await readCaPart(files.ca.cert), key: await readCaPart(files.ca.key) };
        ca = await loadCa(pem, files.ca);
      } else {
        const made = await generateCa();
        await Deno.mkdir(opts.dir, { recursive: true });
        await writePair(files.ca, made.pem, opts.force === true);
        ca = made;
      }
      await writePair(files.server, await signServer(ca, subject), opts.force === true);
      print(`wrote ${writing.flatMap((pair) => [pair.cert, pair.key]).join(", ")}`);
      print(
        `serve with: launcher serve --tls-cert ${files.server.cert} --tls-key ${files.server.key} ` +
          `--tls-ca ${files.ca.cert}`,
      );
    });
  return tls;
}
