/** The launcher version, shown by `--version` and reported by agents. */
export const VERSION = "0.1.0";
