/** The manifest a request carries (`POST /manifest/up` and `/manifest/diff`), as YAML or JSON. */
import type { Context } from "hono";
import type { Manifest } from "../../api/schemas.ts";
import { ManifestError, parseManifest } from "../../manifest/parse.ts";
import { BadRequestError, UnsupportedMediaTypeError } from "../../api/errors.ts";
import { describeJsonProblem, jsonProblem } from "./json_text.ts";

const YAML_TYPES = new Set(["application/x-yaml", "text/yaml", "application/yaml"]);
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/;

/** The lower-cased media type of a request, without parameters ("" when absent). */
function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

/** Whether an error is the runtime running out of stack, however a parser passed it on. */
function isStackOverflow(error: unknown): boolean {
  if (error instanceof RangeError) return /call stack/i.test(error.message);
  return error instanceof ManifestError &&
    (error.details ?? []).some((d) => /maximum call stack/i.test(d.message));
}

function tooDeep(where?: { line?: number; column?: number }): BadRequestError {
  const at = where?.line === undefined ? "" : ` (line ${where.line}, column ${where.column})`;
  return new BadRequestError(`request body is nested too deeply${at}`, [
    { message: "nests too deeply", ...(where?.line === undefined ? {} : where) },
  ]);
}

/**
 * Reads and validates the manifest of a request body, in the format its Content-Type names.
 * Throws `UnsupportedMediaTypeError`, `BadRequestError` (empty, or nested too deeply) or
 * `ManifestError`.
 */
export async function readManifestBody(c: Context): Promise<Manifest> {
  const type = mediaType(c);
  const format = YAML_TYPES.has(type) ? "yaml" : JSON_TYPE.test(type) ? "json" : undefined;
  if (format === undefined) {
    throw new UnsupportedMediaTypeError(
      `unsupported content type ${type || "(none)"}: send application/x-yaml, text/yaml, ` +
        "application/yaml or application/json",
    );
  }
  const text = await c.req.text();
  if (text.trim() === "") {
    throw new BadRequestError(`request body is empty: send the manifest as ${format}`);
  }
  if (format === "json") {
    // Syntax errors are the manifest parser's to report; only nesting is refused here.
    const problem = jsonProblem(text.replace(/^\uFEFF/, ""));
    if (problem?.kind === "depth") {
      throw new BadRequestError(
        `request body is nested too deeply: ${describeJsonProblem(problem)}`,
        [{ message: problem.message, line: problem.line, column: problem.column }],
      );
    }
  }
  try {
    return parseManifest(text, format);
  } catch (error) {
    // YAML nesting has no cheap bound to check first (indentation and flow both nest), and the
    // YAML library recurses: a hostile depth ends as a stack overflow, answered here as a 400.
    if (!isStackOverflow(error)) throw error;
    const detail = error instanceof ManifestError ? error.details?.[0] : undefined;
    throw tooDeep(detail);
  }
}
