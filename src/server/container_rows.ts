/** Container rows as the API shows them, and the columns a new spec starts from. */
import type {
  ContainerStatus,
  Desired,
  NormalizedSpec,
  ParsedSpec,
  SpecConfig,
  State,
} from "../api/schemas.ts";
import type { ContainerRow, Store } from "./store/store.ts";

/** Turns a stored row into the API's `ContainerStatus`, omitting absent optional fields. */
export function toStatus(row: ContainerRow): ContainerStatus {
  const status: ContainerStatus = {
    manifestName: row.manifest,
    config: JSON.parse(row.spec) as SpecConfig,
    normalized: JSON.parse(row.normalized) as NormalizedSpec,
    host: row.host,
    desired: row.desired as Desired,
    state: row.state as State,
    specHash: row.spec_hash,
    generation: row.generation,
    restartGeneration: row.restart_generation,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.container_id !== null) status.containerId = row.container_id;
  if (row.exit_code !== null) status.exitCode = row.exit_code;
  if (row.error !== null) status.error = row.error;
  if (row.health !== null) status.health = row.health;
  if (row.force === 1) status.force = true;
  if (row.template !== "") status.template = row.template;
  return status;
}

/**
 * The columns of a container whose spec is new to its agent: desired running, nothing seen yet.
 * A placed instance without a host yet (`pending` says why) waits with its reason as its error.
 */
export function freshSpec({ spec, normalized, hash }: ParsedSpec, pending?: string) {
  return {
    host: normalized.host,
    spec: JSON.stringify(spec),
    normalized: JSON.stringify(normalized),
    spec_hash: hash,
    desired: "running" as const,
    state: "pending" as const,
    container_id: null,
    exit_code: null,
    error: pending ?? null,
    health: null,
    force: 0,
  };
}

/**
 * Sets what is desired, as a new intent; `force` (container rm) asks for a removal without a
 * graceful stop. Call inside a transaction, with its `tx`.
 */
export async function setDesired(
  tx: Store,
  row: ContainerRow,
  desired: Desired,
  now: string,
  force = false,
): Promise<void> {
  // A placed container still waiting for a host runs nowhere: no agent will report it gone.
  if (desired === "removed" && row.host === "") {
    await tx.deleteContainer(row.manifest, row.name);
    return;
  }
  await tx.updateContainer({
    ...row,
    desired,
    generation: row.generation + 1,
    // A removal asked once with force stays forced; anything else takes it back.
    force: force || (desired === "removed" && row.force === 1) ? 1 : 0,
    updated_at: now,
  });
}
