/** The manifest a request carries (`POST /manifest/up` and `/manifest/diff`), as YAML or JSON. */
import type { Context } from "hono";
import type { Manifest, ManifestSource } from "../../api/schemas.ts";
import { parseManifest, type ParseOptions } from "../../manifest/parse.ts";
import { BadRequestError, UnsupportedMediaTypeError } from "../../api/errors.ts";

/** The media types a manifest is read as YAML in. */
export const YAML_MEDIA_TYPES = ["application/x-yaml", "text/yaml", "application/yaml"] as const;
const YAML_TYPES = new Set<string>(YAML_MEDIA_TYPES);
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/;

/** The lower-cased media type of a request, without parameters ("" when absent). */
function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * Reads and validates the manifest of a request body, in the format its Content-Type names, and
 * keeps the text as sent (`up` stores it as a revision). `options` check what the text alone
 * cannot tell (that each secret referred to exists). Throws `UnsupportedMediaTypeError`,
 * `BadRequestError` (empty) or `ManifestError`.
 */
export async function readManifestSource(
  c: Context,
  options: ParseOptions = {},
): Promise<{ manifest: Manifest; source: ManifestSource }> {
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
  // The parser refuses what nests too deeply before anything recurses, with line and column.
  return { manifest: parseManifest(text, format, options), source: { text, format } };
}

/** Reads and validates the manifest of a request body, as `readManifestSource` does. */
export async function readManifestBody(c: Context, options: ParseOptions = {}): Promise<Manifest> {
  return (await readManifestSource(c, options)).manifest;
}
