/** `launcher token generate|ls|revoke`: create, list and revoke API tokens. */
import { Command, Option } from "@commander-js/extra-typings";
import { type Role, ROLES, type TokenInfo, type TokenScope } from "../api/schemas.ts";
import { parseDuration } from "../duration.ts";
import { caOption, clientFor, outputOption, tokenOption, urlOption } from "./context.ts";
import { UsageError } from "./errors.ts";
import { age, table } from "./output.ts";
import { passwordFromStdin, promptPassword } from "./password.ts";
import { plainHttpWarning } from "./plain_http.ts";
import { certificateSha256 } from "../cert_hash.ts";
import { formatJoinString } from "../client/join.ts";

/** The scope `generate` asks for, checked before anything is sent. */
function scopeOf(opts: { role: Role; host?: string; ttl?: string }): TokenScope {
  const { role } = opts;
  if (role === "agent" && !opts.host) throw new UsageError("--role agent needs --host HOST");
  if (role !== "agent" && opts.host) throw new UsageError("--host goes only with --role agent");
  if (opts.ttl !== undefined && parseDuration(opts.ttl) < 1) {
    throw new UsageError("--ttl must be longer than 0");
  }
  return {
    role,
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}),
  };
}

/** A token's state as `token ls` shows it. */
function status(t: TokenInfo, now: number): string {
  if (t.revoked) return "revoked";
  if (t.expiresAt !== undefined && Date.parse(t.expiresAt) <= now) return "expired";
  return "active";
}

/**
 * Time left, in the largest unit, rounded to the nearest: a 30d token listed a second after it
 * was made shows `30d`, where truncating would show `29d`.
 */
function timeLeft(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

/** The `token ls` table: times relative to now, never a secret (the API has none to give). */
export function tokenTable(list: TokenInfo[], now = Date.now()): string {
  const rows = list.map((t) => [
    t.id,
    t.role,
    t.host ?? "-",
    status(t, now),
    `${age(t.createdAt, now)} ago`,
    t.expiresAt === undefined
      ? "never"
      : Date.parse(t.expiresAt) > now
      ? `in ${timeLeft(Date.parse(t.expiresAt) - now)}`
      : `${age(t.expiresAt, now)} ago`,
    t.lastUsedAt === undefined ? "never" : `${age(t.lastUsedAt, now)} ago`,
  ]);
  return table(["ID", "ROLE", "HOST", "STATUS", "CREATED", "EXPIRES", "LAST USED"], rows);
}

/** The `token` command group. */
export function tokenCommand(print: (text: string) => void): Command {
  const token = new Command("token").description("manage API tokens");

  token.command("generate")
    .description(
      "create a token and print it alone. With --password-stdin, or when no token is set, it " +
        "trades the token password (typed at a prompt, or read from standard input); otherwise " +
        "the admin token of --token or LAUNCHER_TOKEN creates it",
    )
    .addOption(new Option("--role <role>", "what the token may do").choices(ROLES).default("admin"))
    .option("--host <host>", "the one host an agent token acts for (with --role agent)")
    .option("--ttl <duration>", "lifetime, such as 30d or 12h (default: no expiry)")
    .option("--password-stdin", "read the token password from standard input")
    .option(
      "--join",
      "print a join string (launcher1:<CA SHA-256>:<token>) for `agent --join`: the token with " +
        "the hash of the CA the server hands out (needs --role agent and a server on TLS)",
    )
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (opts) => {
      const scope = scopeOf(opts);
      if (opts.join && scope.role !== "agent") {
        throw new UsageError("--join makes a join string for an agent: give --role agent --host H");
      }
      const byPassword = opts.passwordStdin || !opts.token;
      const client = clientFor(byPassword ? { url: opts.url, ca: opts.ca } : opts);
      // The CA comes over the connection the CLI already trusts, before any token is made.
      const caSha256 = opts.join ? await certificateSha256(await client.tlsCa()) : undefined;
      let token: string;
      if (byPassword) {
        const password = opts.passwordStdin
          ? await passwordFromStdin()
          : await promptPassword("Token password: ");
        const warning = plainHttpWarning(opts.url, "the token password");
        if (warning) console.error(warning);
        token = await client.createToken(password, scope);
      } else {
        token = (await client.issueToken(scope)).token;
      }
      print(caSha256 === undefined ? token : formatJoinString({ caSha256, token }));
    });

  token.command("ls")
    .description("list tokens: id, role, host, status and times (never their secrets)")
    .addOption(outputOption())
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (opts) => {
      const list = await clientFor(opts).listTokens();
      print(opts.output === "json" ? JSON.stringify(list, null, 2) : tokenTable(list));
    });

  token.command("revoke")
    .description("revoke a token at once, by its id (see token ls)")
    .argument("<id>", "token id")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (id, opts) => {
      await clientFor(opts).revokeToken(id);
      print(`token ${id} revoked`);
    });

  return token;
}
