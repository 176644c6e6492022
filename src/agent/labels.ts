/** The labels launcher puts on every container it creates; nothing without them is touched. */
export const LABEL_MANIFEST = "launcher.manifest";
export const LABEL_CONTAINER = "launcher.container";
export const LABEL_SPEC_HASH = "launcher.spec-hash";
export const LABEL_HOST = "launcher.host";

/** The engine-side name of a container: `manifest_name` (`_` is in neither charset, so unique). */
export function engineName(manifest: string, container: string): string {
  return `${manifest}_${container}`;
}

/** The key the agent tracks a container under. */
export function containerKey(manifest: string, container: string): string {
  return `${manifest}/${container}`;
}
