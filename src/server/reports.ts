/** Finding the container a request names, and applying what its agent reports about it. */
import type { StateReport } from "../api/schemas.ts";
import { ConflictError, NotFoundError } from "../api/errors.ts";
import { type EventLog, stateEvent } from "./events.ts";
import type { ContainerRow, Store } from "./store/store.ts";

/** Finds one container by manifest and name, or by host and name when no manifest is given. */
export async function findContainer(
  db: Store,
  host: string,
  name: string,
  manifest?: string,
): Promise<ContainerRow> {
  if (manifest !== undefined) {
    const row = await db.container(manifest, name);
    if (row === undefined || row.host !== host) {
      throw new NotFoundError(`container ${name} of manifest ${manifest} not found on ${host}`);
    }
    return row;
  }
  const rows = await db.containersByHostAndName(host, name);
  if (rows.length === 0) throw new NotFoundError(`container ${name} not found on ${host}`);
  if (rows.length > 1) {
    const manifests = rows.map((row) => row.manifest).join(", ");
    throw new ConflictError(
      `container ${name} on ${host} is in manifests ${manifests}; pass --manifest`,
    );
  }
  return rows[0];
}

/**
 * Applies one agent report inside the caller's transaction (`tx`): records the state change as an event,
 * and forgets a container reported removed once its removal was asked. A report about a spec the
 * container no longer has is stale (it was sent before the agent heard of the new one): it is
 * dropped, so `ps`, `--wait` and the events judge the current spec only. A report names the hash
 * its agent was handed (`handedOut`: with secrets, not the stored one). Returns whether it was
 * applied.
 */
export async function applyReport(
  tx: Store,
  events: EventLog,
  r: StateReport,
  now: string,
  actor: string,
  handedOut: (row: ContainerRow) => Promise<string> = (row) => Promise.resolve(row.spec_hash),
): Promise<boolean> {
  const row = await findContainer(tx, r.host, r.name, r.manifest);
  if (r.specHash !== undefined && r.specHash !== await handedOut(row)) return false;
  const event = stateEvent(row, r, actor);
  if (event !== undefined) await events.record(tx, [event]);
  if (r.state === "removed" && row.desired === "removed") {
    await tx.deleteContainer(row.manifest, row.name);
    await tx.deleteManifestIfEmpty(row.manifest);
    return true;
  }
  await tx.updateContainer({
    ...row,
    state: r.state,
    container_id: r.containerId ?? null,
    exit_code: r.exitCode ?? null,
    error: r.error ?? null,
    health: r.health ?? null,
    updated_at: now,
  });
  return true;
}
