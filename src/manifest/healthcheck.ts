/** A health check's `test` in its explicit form, the one the engine runs. */
import { ValueError } from "./value_error.ts";

const KINDS = new Set(["NONE", "CMD", "CMD-SHELL"]);

/**
 * The engine's form of a test: a string is a shell command (`CMD-SHELL`), a list is a program
 * and its arguments (`CMD`) unless it starts with `NONE`, `CMD` or `CMD-SHELL` already.
 */
export function healthTest(test: string | string[]): string[] {
  if (typeof test === "string") {
    if (test.trim() === "") throw new ValueError("is empty: expected a shell command");
    return ["CMD-SHELL", test];
  }
  const [first, ...rest] = test;
  if (first === undefined) throw new ValueError("is an empty list: expected a command");
  if (!KINDS.has(first)) {
    if (first === "") throw new ValueError("names an empty program");
    return ["CMD", ...test];
  }
  if (first === "NONE" && rest.length > 0) {
    throw new ValueError("starts with NONE, which takes nothing after it");
  }
  if (first === "CMD" && (rest.length === 0 || rest[0] === "")) {
    throw new ValueError("starts with CMD but names no program after it");
  }
  if (first === "CMD-SHELL" && (rest.length !== 1 || rest[0].trim() === "")) {
    throw new ValueError("starts with CMD-SHELL, which takes exactly one shell command after it");
  }
  return [...test];
}
