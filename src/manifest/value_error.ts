/**
 * A value of a spec that does not parse. The message is a predicate ("has malformed value ...")
 * that the caller completes with what holds the value: an option's name or a field's.
 */
import { quote } from "./describe.ts";
import { LauncherError } from "../errors.ts";

/** A value that does not parse; `message` reads after the name of what holds it. */
export class ValueError extends LauncherError {
  constructor(message: string) {
    super("invalid_value", message);
  }
}

/** A value that is not in the expected syntax. */
export function malformed(value: string, expected: string): ValueError {
  return new ValueError(`has malformed value ${quote(value)}: ${expected}`);
}
