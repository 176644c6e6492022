/** `launcher token generate`: trade the token password for an API token. */
import { Command } from "@commander-js/extra-typings";
import { clientFor, urlOption } from "./context.ts";
import { passwordFromStdin, promptPassword } from "./password.ts";

/** The `token` command group. */
export function tokenCommand(print: (text: string) => void): Command {
  const token = new Command("token").description("manage API tokens");
  token.command("generate")
    .description("create a token with the token password; prints the token alone")
    .addOption(urlOption())
    .option("--password-stdin", "read the password from standard input")
    .action(async (opts) => {
      const password = opts.passwordStdin
        ? await passwordFromStdin()
        : await promptPassword("Token password: ");
      print(await clientFor(opts).createToken(password));
    });
  return token;
}
