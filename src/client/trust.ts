/**
 * Trusting a server on TLS: a CA to pin (`--ca FILE`), or one fetched and checked against a join
 * string's hash. Deno's fetch verifies a chain against the roots it is given, so pinning is a
 * `Deno.HttpClient` holding the CA, passed to every request (`ClientOptions.httpClient`).
 */
import { certificatesDer, certificateSha256, PemError } from "../cert_hash.ts";
import { errorMessage, LauncherError } from "../errors.ts";
import { type FailedAttempt, UnreachableError } from "./errors.ts";

/** The CA a server handed out does not have the hash the join string pins. */
export class CaMismatchError extends LauncherError {
  constructor(server: string, what: string) {
    super("ca_mismatch", `${server} ${what}: not trusting it, and no token was sent`);
  }
}

/** A join string's server is not on TLS, or hands out no CA. */
export class JoinTlsError extends LauncherError {
  constructor(message: string) {
    super("join_needs_tls", message);
  }
}

/** A `--ca` file that cannot be read or holds no certificate. */
export class CaFileError extends LauncherError {
  constructor(flag: string, file: string, reason: string) {
    super("bad_ca_file", `${flag} ${file}: ${reason}`);
  }
}

/** An HTTP client that trusts chains to `caPem` (Deno adds it to its default roots). */
export function pinnedHttpClient(caPem: string): Deno.HttpClient {
  return Deno.createHttpClient({ caCerts: [caPem] });
}

/** Reads a CA file given by `flag` (`--ca`), checking that it holds a PEM certificate. */
export function readCaFile(flag: string, file: string): string {
  let pem: string;
  try {
    pem = Deno.readTextFileSync(file);
  } catch (error) {
    throw new CaFileError(flag, file, `cannot read it: ${errorMessage(error)}`);
  }
  try {
    certificatesDer(pem);
  } catch (error) {
    if (error instanceof PemError) throw new CaFileError(flag, file, error.message);
    throw error;
  }
  return pem;
}

/** The maximum size of a CA answer: a few certificates at most. */
const MAX_CA_BYTES = 64 * 1024;

/**
 * GETs `url` over TLS without verifying the chain: the one request made before the server is
 * trusted. It carries no token and no cookie; what it answers is believed only if its hash
 * matches. Deno's fetch cannot skip verification per request, node:https can
 * (`rejectUnauthorized: false`), and it is loaded only here.
 */
async function unverifiedGet(
  url: string,
  signal?: AbortSignal,
): Promise<{ status: number; body: string }> {
  const https = await import("node:https");
  return await new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, signal }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
        if (body.length > MAX_CA_BYTES) {
          req.destroy(new Error(`the answer is larger than ${MAX_CA_BYTES} bytes`));
        }
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/**
 * Fetches the CA from the first of `servers` that answers (`GET /api/v1/tls/ca`, no token) and
 * answers its PEM when its SHA-256 is `caSha256`. Refuses a plain-HTTP server before connecting,
 * a server without a CA, and a CA of another hash; throws `UnreachableError` when none answered.
 */
export async function fetchPinnedCa(
  servers: readonly string[],
  caSha256: string,
  signal?: AbortSignal,
): Promise<string> {
  const plain = servers.find((s) => !s.startsWith("https://"));
  if (plain !== undefined) {
    throw new JoinTlsError(
      `${plain} is plain HTTP, but the join string expects TLS: give its https:// URL ` +
        "(nothing was sent)",
    );
  }
  const tried: FailedAttempt[] = [];
  for (const server of servers) {
    let answer: { status: number; body: string };
    try {
      answer = await unverifiedGet(`${server}/api/v1/tls/ca`, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      tried.push({ url: server, reason: errorMessage(error) });
      continue;
    }
    if (answer.status !== 200) {
      throw new JoinTlsError(
        `${server} hands out no CA (GET /api/v1/tls/ca answered ${answer.status}): ` +
          "start it with --tls-ca (no token was sent)",
      );
    }
    let got: string;
    try {
      got = await certificateSha256(answer.body);
    } catch (error) {
      if (!(error instanceof PemError)) throw error;
      throw new CaMismatchError(server, `answered no CA certificate (${error.message})`);
    }
    if (got !== caSha256) {
      throw new CaMismatchError(
        server,
        `hands out a CA with SHA-256 ${got}, but the join string pins ${caSha256}`,
      );
    }
    return answer.body;
  }
  throw new UnreachableError(tried);
}
