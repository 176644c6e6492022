/** `launcher tls init`, and the TLS flags of `launcher serve`. */
import { Command } from "@commander-js/extra-typings";
import type { ServerTls } from "../server/tls/files.ts";
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

/** The files `tls init` writes, by their names in the folder; keys are written 0600. */
const FILES = [
  { name: "ca.pem", part: "caCert", secret: false },
  { name: "ca-key.pem", part: "caKey", secret: true },
  { name: "server.pem", part: "serverCert", secret: false },
  { name: "server-key.pem", part: "serverKey", secret: true },
] as const;

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

/** The `tls` command group. */
export function tlsCommand(print: (text: string) => void): Command {
  const tls = new Command("tls").description("certificates for serving the API over HTTPS");
  tls.command("init")
    .description(
      "create a CA (valid 10 years) and a server certificate it signs (valid 1 year) for the " +
        "given names and addresses: DIR/ca.pem, ca-key.pem, server.pem, server-key.pem",
    )
    .requiredOption("--dir <dir>", "folder to write the four files to (created when missing)")
    .option("--name <dns>", "a DNS name the server is reached by (repeatable)", collect)
    .option("--ip <address>", "an IP address the server is reached by (repeatable)", collect)
    .option("--force", "overwrite files that exist")
    .action(async (opts) => {
      const { checkSubject, generateTls } = await import("../server/tls/generate.ts");
      const subject = { names: opts.name ?? [], ips: opts.ip ?? [] };
      checkSubject(subject);
      const paths = FILES.map((f) => ({ ...f, path: `${opts.dir.replace(/\/+$/, "")}/${f.name}` }));
      if (!opts.force) {
        const taken = [];
        for (const f of paths) if (await exists(f.path)) taken.push(f.path);
        if (taken.length > 0) {
          throw new UsageError(`${taken.join(", ")} already exist; pass --force to overwrite`);
        }
      }
      const made = await generateTls(subject);
      await Deno.mkdir(opts.dir, { recursive: true });
      for (const f of paths) {
        // A key must never be readable by others, not even for a moment: remove, then create 0600.
        if (opts.force) await Deno.remove(f.path).catch(() => {});
        await Deno.writeTextFile(f.path, made[f.part], {
          createNew: true,
          mode: f.secret ? 0o600 : 0o644,
        });
      }
      const [ca, , cert, key] = paths.map((f) => f.path);
      print(`wrote ${paths.map((f) => f.path).join(", ")}`);
      print(`serve with: launcher serve --tls-cert ${cert} --tls-key ${key} --tls-ca ${ca}`);
    });
  return tls;
}
