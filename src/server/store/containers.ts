/** Statements on manifests and their containers. */
import {
  CONTAINER_COLUMNS,
  type ContainerRow,
  type HostCountRow,
  type ManifestRow,
  type StateCountRow,
} from "./rows.ts";
import { assignments, placeholders, type Prepare, valuesOf } from "./sqlite.ts";

const SELECT = `SELECT ${CONTAINER_COLUMNS.join(", ")} FROM containers`;
/** An update writes every column but the key and the creation time. */
const UPDATED_COLUMNS = CONTAINER_COLUMNS.filter((col) =>
  !["manifest", "name", "created_at"].includes(col)
);

/** The manifest and container statements, prepared once, as typed methods. */
export function containerStatements(p: Prepare) {
  const s = {
    manifestExists: p("SELECT 1 AS one FROM manifests WHERE name = $name"),
    upsertManifest: p(
      "INSERT INTO manifests (name, policy, created_at, updated_at) " +
        "VALUES ($name, $policy, $now, $now) ON CONFLICT (name) DO UPDATE SET " +
        "policy = excluded.policy, updated_at = excluded.updated_at",
    ),
    manifest: p("SELECT name, policy, created_at, updated_at FROM manifests WHERE name = $name"),
    deleteManifestIfEmpty: p(
      "DELETE FROM manifests WHERE name = $name " +
        "AND NOT EXISTS (SELECT 1 FROM containers WHERE manifest = $name)",
    ),
    allManifests: p("SELECT name, policy, created_at, updated_at FROM manifests ORDER BY name"),
    unplaced: p(`${SELECT} WHERE host = '' AND desired != 'removed' ORDER BY manifest, name`),
    placed: p(`${SELECT} WHERE template != '' ORDER BY manifest, name`),
    placedHosts: p(
      "SELECT DISTINCT host FROM containers " +
        "WHERE template != '' AND host != '' AND desired != 'removed' ORDER BY host",
    ),
    replacing: p(`${SELECT} WHERE replaces != '' ORDER BY manifest, name`),
    containersOfManifest: p(`${SELECT} WHERE manifest = $manifest ORDER BY name`),
    allContainers: p(`${SELECT} ORDER BY manifest, name`),
    containersOfHost: p(`${SELECT} WHERE host = $host ORDER BY manifest, name`),
    containersOfHosts: p(
      `${SELECT} WHERE host IN (SELECT value FROM json_each($hosts)) ORDER BY host, manifest, name`,
    ),
    containersByHostAndName: p(`${SELECT} WHERE host = $host AND name = $name ORDER BY manifest`),
    container: p(`${SELECT} WHERE manifest = $manifest AND name = $name`),
    insertContainer: p(
      `INSERT INTO containers (${CONTAINER_COLUMNS.join(", ")}) ` +
        `VALUES (${placeholders(CONTAINER_COLUMNS)})`,
    ),
    updateContainer: p(
      `UPDATE containers SET ${assignments(UPDATED_COLUMNS)} ` +
        "WHERE manifest = $manifest AND name = $name",
    ),
    deleteContainer: p("DELETE FROM containers WHERE manifest = $manifest AND name = $name"),
    hostCounts: p(
      "SELECT host, sum(state = 'running') AS running, count(*) AS total FROM containers " +
        "GROUP BY host ORDER BY host",
    ),
    stateCounts: p(
      "SELECT host, state, count(*) AS count FROM containers GROUP BY host, state " +
        "ORDER BY host, state",
    ),
  };
  return {
    /** Whether a manifest row exists. */
    hasManifest(name: string): boolean {
      return s.manifestExists.get({ name }) !== undefined;
    },

    /** Creates a manifest row, or refreshes its policy and `updated_at`. */
    upsertManifest(name: string, policy: string, now: string): void {
      s.upsertManifest.run({ name, policy, now });
    },

    /** One manifest row. */
    manifest(name: string): ManifestRow | undefined {
      return s.manifest.get<ManifestRow>({ name });
    },

    /** Placed instances waiting for a host (host ""), not being removed. */
    unplacedContainers(): ContainerRow[] {
      return s.unplaced.all<ContainerRow>();
    },

    /** Every placed instance, wherever it is. */
    placedContainers(): ContainerRow[] {
      return s.placed.all<ContainerRow>();
    },

    /** The hosts placed instances not being removed are on, by name. */
    placedHosts(): string[] {
      return s.placedHosts.all<{ host: string }>().map((row) => String(row.host));
    },

    /** Instances that replace another one (a drain or a start-first update in progress). */
    replacingContainers(): ContainerRow[] {
      return s.replacing.all<ContainerRow>();
    },

    /** Deletes a manifest row once none of its containers is left. */
    deleteManifestIfEmpty(name: string): void {
      s.deleteManifestIfEmpty.run({ name });
    },

    /** Every manifest row, by name. */
    allManifests(): ManifestRow[] {
      return s.allManifests.all<ManifestRow>();
    },

    /** Containers of one manifest, by name. */
    containersOfManifest(manifest: string): ContainerRow[] {
      return s.containersOfManifest.all<ContainerRow>({ manifest });
    },

    /** Every container, by manifest then name. */
    allContainers(): ContainerRow[] {
      return s.allContainers.all<ContainerRow>();
    },

    /** Containers placed on one host, by manifest then name. */
    containersOfHost(host: string): ContainerRow[] {
      return s.containersOfHost.all<ContainerRow>({ host });
    },

    /** Containers placed on any of `hosts`, by host, manifest then name. */
    containersOfHosts(hosts: readonly string[]): ContainerRow[] {
      return s.containersOfHosts.all<ContainerRow>({ hosts: JSON.stringify(hosts) });
    },

    /** Containers with one name on one host, across manifests. */
    containersByHostAndName(host: string, name: string): ContainerRow[] {
      return s.containersByHostAndName.all<ContainerRow>({ host, name });
    },

    /** One container by its key. */
    container(manifest: string, name: string): ContainerRow | undefined {
      return s.container.get<ContainerRow>({ manifest, name });
    },

    /** Inserts a new container row. */
    insertContainer(row: ContainerRow): void {
      s.insertContainer.runValues(valuesOf(row, CONTAINER_COLUMNS));
    },

    /** Inserts new container rows. */
    insertContainers(rows: readonly ContainerRow[]): void {
      for (const row of rows) s.insertContainer.runValues(valuesOf(row, CONTAINER_COLUMNS));
    },

    /** Writes every column of an existing container row but its key and `created_at`. */
    updateContainer(row: ContainerRow): void {
      const { created_at: _created, ...values } = row;
      s.updateContainer.run(values);
    },

    /** Deletes one container row. */
    deleteContainer(manifest: string, name: string): void {
      s.deleteContainer.run({ manifest, name });
    },

    /** Per host with containers: how many are running and how many there are. */
    hostCounts(): HostCountRow[] {
      return s.hostCounts.all<HostCountRow>().map((row) => ({
        host: String(row.host),
        running: Number(row.running),
        total: Number(row.total),
      }));
    },

    /** Per host and state with containers, by host then state: how many are in it. */
    stateCounts(): StateCountRow[] {
      return s.stateCounts.all<StateCountRow>().map((row) => ({
        host: String(row.host),
        state: String(row.state),
        count: Number(row.count),
      }));
    },
  };
}

/** The manifest and container methods of the store. */
export type ContainerStatements = ReturnType<typeof containerStatements>;
