/** Where specs refer to secrets: the variables whose value is `{ secret: NAME }`. */
import { formatPath } from "./issues.ts";
import type { NormalizedSpec } from "./normalized.ts";
import type { Manifest } from "./schema.ts";

/** One variable of a manifest's container that refers to a secret. */
export interface SecretUse {
  /** The container's index in the manifest's `containers`. */
  index: number;
  variable: string;
  secret: string;
}

/** The names of the secrets a normalized spec refers to, each once, sorted. */
export function secretsOf(spec: NormalizedSpec): string[] {
  const names = new Set<string>();
  for (const value of Object.values(spec.environment)) {
    if (typeof value !== "string") names.add(value.secret);
  }
  return [...names].sort();
}

/** Every variable of a manifest that refers to a secret, in the order written. */
export function secretUses(manifest: Manifest): SecretUse[] {
  return manifest.containers.flatMap((entry, index) =>
    Object.entries(entry.normalized.environment).flatMap(([variable, value]) =>
      typeof value === "string" ? [] : [{ index, variable, secret: value.secret }]
    )
  );
}

/** The path of a variable's secret in a manifest, as errors name it. */
export function secretPath(use: SecretUse): string {
  return formatPath(["containers", use.index, "environment", use.variable, "secret"]);
}
