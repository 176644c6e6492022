/**
 * What placement needs to know about the fleet, read from the store: every registered host with
 * its labels, size and availability, and the room, fixed ports and replicas its containers take.
 */
import type { NormalizedSpec, ParsedSpec, Placement } from "../api/schemas.ts";
import type { HostRegistry } from "./hosts.ts";
import type { PlacementAsk, PlacementHost } from "./placement.ts";
import type { ContainerRow, Store } from "./store/store.ts";

/** What a container takes on its host: CPU, memory and fixed host ports. */
interface Footprint {
  nanoCpus: number;
  memory: number;
  ports: string[];
}

/** A spec's footprint: its limits (the `resources` field, else the options) and fixed ports. */
function footprint(spec: NormalizedSpec): Footprint {
  return {
    nanoCpus: spec.resources.nanoCpus ?? spec.runOptions.nanoCpus ?? 0,
    memory: spec.resources.memory ?? spec.runOptions.memory ?? 0,
    ports: spec.ports.flatMap((port) =>
      port.hostPort === undefined ? [] : [`${port.hostPort}/${port.protocol}`]
    ),
  };
}

/** The key replicas of one spec share: `manifest/spec`. */
export function templateKey(manifest: string, template: string): string {
  return `${manifest}/${template}`;
}

/** The placement ask of one instance of a placed spec. */
export function askOf(
  manifest: string,
  template: string,
  spec: NormalizedSpec,
  placement: Placement,
  extra: Pick<PlacementAsk, "prefer" | "avoid"> = {},
): PlacementAsk {
  return {
    template: templateKey(manifest, template),
    ...footprint(spec),
    labels: placement.labels,
    hosts: placement.hosts,
    strategy: placement.strategy,
    ...extra,
  };
}

/** The ask of a stored placed instance. */
export function rowAsk(
  row: ContainerRow,
  extra: Pick<PlacementAsk, "prefer" | "avoid"> = {},
): PlacementAsk {
  return askOf(
    row.manifest,
    row.template,
    JSON.parse(row.normalized) as NormalizedSpec,
    JSON.parse(row.placement) as Placement,
    extra,
  );
}

/** The spec as written, normalized and hashed, of a stored row. */
export function rowSpec(row: ContainerRow): ParsedSpec {
  return {
    spec: JSON.parse(row.spec),
    normalized: JSON.parse(row.normalized) as NormalizedSpec,
    hash: row.spec_hash,
  };
}

/**
 * Every registered host with the room its containers take. Rows desired removed give their room
 * back at once (their agent removes them next), and so do the rows `skip` names
 * (`manifest/name`): those the caller is about to replace. Read in the caller's transaction.
 */
export async function fleetRoom(
  tx: Store,
  hosts: HostRegistry,
  skip: ReadonlySet<string> = new Set(),
): Promise<PlacementHost[]> {
  const byName = new Map<string, PlacementHost>();
  for (const status of await hosts.list(tx)) {
    if (!status.registered) continue;
    byName.set(status.name, {
      name: status.name,
      ...(status.online ? status.draining ? { unavailable: "draining" } : {} : {
        unavailable: "offline",
      }),
      labels: status.labels,
      nanoCpus: (status.cpus ?? 0) * 1e9,
      memory: status.memory ?? 0,
      usedNanoCpus: 0,
      usedMemory: 0,
      ports: new Set(),
      templates: new Map(),
    });
  }
  for (const row of await tx.allContainers()) {
    if (row.desired === "removed" || skip.has(`${row.manifest}/${row.name}`)) continue;
    const host = byName.get(row.host);
    if (host === undefined) continue;
    take(host, JSON.parse(row.normalized) as NormalizedSpec, row);
  }
  return [...byName.values()];
}

/** Counts a container's footprint (and, for a placed one, its replica) on a host. */
function take(
  host: PlacementHost,
  spec: NormalizedSpec,
  of: { manifest: string; template: string },
): void {
  const { nanoCpus, memory, ports } = footprint(spec);
  host.usedNanoCpus += nanoCpus;
  host.usedMemory += memory;
  for (const port of ports) host.ports.add(port);
  if (of.template !== "") {
    const key = templateKey(of.manifest, of.template);
    host.templates.set(key, (host.templates.get(key) ?? 0) + 1);
  }
}

/** Takes the room of a pinned container on its host, before anything is placed around it. */
export function reservePinned(fleet: PlacementHost[], spec: NormalizedSpec): void {
  const host = fleet.find((h) => h.name === spec.host);
  if (host !== undefined) take(host, spec, { manifest: "", template: "" });
}
