/** Entrypoint of the launcher executable: hands the arguments to the CLI. */
import { run } from "./src/cli/main.ts";

Deno.exit(await run(Deno.args));
