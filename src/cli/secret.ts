/** `launcher secret set|ls|rm`: values the server keeps encrypted and hands only to their hosts. */
import { Command } from "@commander-js/extra-typings";
import type { SecretInfo, SecretSetResult } from "../api/schemas.ts";
import { caOption, clientFor, outputOption, tokenOption, urlOption } from "./context.ts";
import { UsageError } from "./errors.ts";
import { age, table } from "./output.ts";
import { promptPassword } from "./password.ts";

/**
 * A secret's value from standard input: typed at a terminal without echo, or everything piped in,
 * less one trailing newline (`echo` adds one; any other byte is the value's). Empty is refused.
 */
export async function secretValue(name: string): Promise<string> {
  const value = Deno.stdin.isTerminal()
    ? await promptPassword(`Value of secret ${name}: `)
    : (await new Response(Deno.stdin.readable).text()).replace(/\r?\n$/, "");
  if (value === "") throw new UsageError(`no value for secret ${name} on standard input`);
  return value;
}

/** What `secret set` did, in one line. */
export function setText(result: SecretSetResult): string {
  if (result.created) return `secret ${result.name} created`;
  if (!result.changed) return `secret ${result.name} unchanged (same value)`;
  const n = result.recreated.length;
  return n === 0
    ? `secret ${result.name} updated`
    : `secret ${result.name} updated; recreating ${n} container${n === 1 ? "" : "s"}: ${
      result.recreated.join(", ")
    }`;
}

/** The `secret ls` table: names, times and users, never a value (the API has none to give). */
export function secretTable(list: SecretInfo[], now = Date.now()): string {
  const rows = list.map((s) => [
    s.name,
    `${age(s.createdAt, now)} ago`,
    `${age(s.updatedAt, now)} ago`,
    s.manifests.length === 0 ? "-" : s.manifests.join(","),
  ]);
  return table(["NAME", "CREATED", "UPDATED", "USED BY"], rows);
}

/** The `secret` command group. */
export function secretCommand(print: (text: string) => void): Command {
  const secret = new Command("secret").description(
    "manage secrets: values kept encrypted by the server, referred to in a manifest as " +
      "environment: { VAR: { secret: NAME } }",
  );

  secret.command("set")
    .description(
      "set a secret's value, read from standard input (typed without echo at a terminal; piped " +
        "in less one trailing newline). A new value recreates the containers that use it",
    )
    .argument("<name>", "secret name, [a-z0-9][a-z0-9-]{0,62}")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (name, opts) => {
      const value = await secretValue(name);
      print(setText(await clientFor(opts).setSecret(name, value)));
    });

  secret.command("ls")
    .description("list secrets: names, times and the manifests using each (never a value)")
    .addOption(outputOption())
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (opts) => {
      const list = await clientFor(opts).listSecrets();
      print(opts.output === "json" ? JSON.stringify(list, null, 2) : secretTable(list));
    });

  secret.command("rm")
    .description("remove a secret; refused while a manifest uses it")
    .argument("<name>", "secret name")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption())
    .action(async (name, opts) => {
      await clientFor(opts).removeSecret(name);
      print(`secret ${name} removed`);
    });

  return secret;
}
