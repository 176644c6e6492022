/** Entrypoints and commands: a string split into words like a POSIX shell would, or a list. */
import { quote } from "./describe.ts";
import { LauncherError } from "../errors.ts";

/** A command string that cannot be split (an unterminated quote or a trailing backslash). */
export class CommandError extends LauncherError {
  constructor(message: string) {
    super("invalid_command", message);
  }
}

/** Characters a backslash escapes inside double quotes; before any other it stays literal. */
const DOUBLE_QUOTE_ESCAPES = new Set(["$", "`", '"', "\\", "\n"]);

/**
 * Splits a command into words: whitespace separates words, single quotes keep everything
 * literal, double quotes keep everything but `\$ \` \" \\`, and a backslash outside quotes
 * escapes the next character. Nothing is expanded: `$HOME` and `*` stay as written.
 * A list is returned as a copy, unchanged.
 */
export function splitCommand(value: string | string[]): string[] {
  if (Array.isArray(value)) return [...value];
  const words: string[] = [];
  let word = "";
  // A word exists once anything, even an empty pair of quotes, has been seen.
  let inWord = false;
  let i = 0;
  while (i < value.length) {
    const char = value[i];
    if (char === " " || char === "\t" || char === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (char === "'") {
      const close = value.indexOf("'", i + 1);
      if (close < 0) throw unterminated(value, "single", i);
      word += value.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (char === '"') {
      const open = i++;
      while (value[i] !== '"') {
        if (i >= value.length) throw unterminated(value, "double", open);
        if (value[i] === "\\" && DOUBLE_QUOTE_ESCAPES.has(value[i + 1])) {
          if (value[i + 1] !== "\n") word += value[i + 1];
          i += 2;
        } else {
          word += value[i];
          i++;
        }
      }
      inWord = true;
      i++;
    } else if (char === "\\") {
      if (i + 1 >= value.length) {
        throw new CommandError(`command ${quote(value)} ends with a lone backslash`);
      }
      // A backslash before a newline joins lines, as in a shell script.
      if (value[i + 1] !== "\n") {
        word += value[i + 1];
        inWord = true;
      }
      i += 2;
    } else {
      word += char;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function unterminated(value: string, kind: "single" | "double", at: number): CommandError {
  return new CommandError(
    `command ${quote(value)} has an unterminated ${kind} quote at character ${at + 1}`,
  );
}
