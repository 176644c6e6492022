/** `launcher store copy`: moves an installation's store, as into PostgreSQL from SQLite. */
import { Command } from "@commander-js/extra-typings";

/** The `store` command group. */
export function storeCommand(print: (text: string) => void, log: (line: string) => void) {
  const store = new Command("store").description("work on a server's store directly");
  store.command("copy")
    .description(
      "copy an installation's store into a new, empty one (stop the servers on it first)",
    )
    .requiredOption("--from <location>", "the store to copy: sqlite:DIR, a data dir, postgres://")
    .requiredOption("--to <location>", "the new store: sqlite:DIR, a data dir, postgres://...")
    .action(async (opts) => {
      // The store layer loads only for this command.
      const { copyStoreAt, describeCopy, shownLocation, storeLocationOf } = await import(
        "../server/store_copy.ts"
      );
      const from = shownLocation(storeLocationOf(opts.from));
      const to = shownLocation(storeLocationOf(opts.to));
      log(`copying ${from} to ${to}`);
      const counts = await copyStoreAt(opts.from, opts.to, (line) => log(`  ${line}`));
      print(describeCopy(counts));
    });
  return store;
}
