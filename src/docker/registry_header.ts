/** The `X-Registry-Auth` header of a pull: how the engine takes registry credentials. */
import type { RegistryAuth } from "./engine.ts";

/**
 * The header's value: the credentials as JSON in base64url. Padded, because the engine decodes
 * with Go's `base64.URLEncoding` and, for a pull, silently drops a header it cannot decode.
 */
export function registryAuthHeader(auth: RegistryAuth): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(JSON.stringify(auth))) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_");
}
