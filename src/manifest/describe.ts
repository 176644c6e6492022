/** Values as messages name them: `the string "x"`, `the number 3`, `a list`, `empty`. */

/**
 * A value as a person would name it in a message, in the words of the text it came from: a YAML
 * manifest has mappings and empty values, a JSON body objects, `null` and nothing.
 */
export function describe(value: unknown, words: "yaml" | "json" = "yaml"): string {
  if (value === null || value === undefined) {
    return words === "yaml" ? "empty" : value === null ? "null" : "nothing";
  }
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return words === "yaml" ? "a mapping" : "an object";
  if (typeof value === "string") {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "boolean") return String(value);
  return `a ${typeof value}`;
}

/** The longest value a message quotes in full; longer ones are cut, so messages stay lines. */
const QUOTE_LIMIT = 100;

/** A value quoted for a message, as JSON, cut short when it is long. */
export function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}...` : text);
}
