/**
 * The labels launcher puts on every container it creates, and which of them an agent may touch:
 * only its own host's, of its own installation. Containers without them are never touched.
 */
export const LABEL_MANIFEST = "launcher.manifest";
export const LABEL_CONTAINER = "launcher.container";
export const LABEL_SPEC_HASH = "launcher.spec-hash";
export const LABEL_HOST = "launcher.host";
/** The installation (the server's cluster id) that created the container. */
export const LABEL_CLUSTER = "launcher.cluster";

/** The engine-side name of a container: `manifest_name` (`_` is in neither charset, so unique). */
export function engineName(manifest: string, container: string): string {
  return `${manifest}_${container}`;
}

/** The key the agent tracks a container under. */
export function containerKey(manifest: string, container: string): string {
  return `${manifest}/${container}`;
}

/** Who an agent is: its host, and the installation its server belongs to (once known). */
export interface Identity {
  host: string;
  cluster?: string;
}

/**
 * Why a launcher container is not this agent's to touch, or undefined when it is. A container
 * made before installations were labelled (no cluster label) belongs to the agent of its host.
 */
export function foreignReason(labels: Record<string, string>, me: Identity): string | undefined {
  const host = labels[LABEL_HOST];
  if (host !== me.host) return `it belongs to host ${host ?? "(none)"}`;
  const cluster = labels[LABEL_CLUSTER];
  if (cluster !== undefined && me.cluster !== undefined && cluster !== me.cluster) {
    return `it belongs to another installation (cluster ${cluster})`;
  }
  return undefined;
}

/** The labels of a container this agent creates. */
export function ownLabels(
  me: Identity,
  manifest: string,
  container: string,
  specHash: string,
): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_MANIFEST]: manifest,
    [LABEL_CONTAINER]: container,
    [LABEL_SPEC_HASH]: specHash,
    [LABEL_HOST]: me.host,
  };
  if (me.cluster !== undefined) labels[LABEL_CLUSTER] = me.cluster;
  return labels;
}
