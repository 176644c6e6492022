/**
 * Statements on host indexes and the installation's id: each host's index takes the next value of one global counter (kept
 * in `meta`), so an index never goes back, even for a host that was forgotten and came back.
 */
import type { HostIndexRow } from "./rows.ts";
import type { Prepare } from "./sqlite.ts";

/** The key in `meta` holding the global index counter. */
const INDEX_COUNTER = "index";
/** The key in `meta` holding the installation's id. */
const CLUSTER_KEY = "cluster";

/** The host index statements, prepared once, as typed methods. */
export function indexStatements(p: Prepare) {
  const s = {
    hostIndex: p("SELECT idx FROM hosts WHERE name = $name"),
    hostIndexes: p(
      "SELECT name, idx FROM hosts WHERE name IN (SELECT value FROM json_each($names)) " +
        "ORDER BY name",
    ),
    setHostIndex: p(
      "INSERT INTO hosts (name, idx) VALUES ($name, $idx) " +
        "ON CONFLICT (name) DO UPDATE SET idx = excluded.idx",
    ),
    getMeta: p("SELECT value FROM meta WHERE key = $key"),
    setMeta: p(
      "INSERT INTO meta (key, value) VALUES ($key, $value) " +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
  };
  const bump = (hosts: readonly string[]): HostIndexRow[] => {
    const unique = [...new Set(hosts)];
    if (unique.length === 0) return [];
    const row = s.getMeta.get<{ value: string }>({ key: INDEX_COUNTER });
    const last = row === undefined ? 0 : Number(row.value);
    s.setMeta.run({ key: INDEX_COUNTER, value: String(last + unique.length) });
    return unique.map((name, i) => {
      s.setHostIndex.run({ name, idx: last + i + 1 });
      return { name, idx: last + i + 1 };
    });
  };
  return {
    /** A host's index; 0 for a host nothing was ever planned on. */
    hostIndex(host: string): number {
      const row = s.hostIndex.get<{ idx: number }>({ name: host });
      return row === undefined ? 0 : Number(row.idx);
    },

    /** The indexes of those of `hosts` that have one, by name. */
    hostIndexes(hosts: readonly string[]): HostIndexRow[] {
      return s.hostIndexes.all<HostIndexRow>({ names: JSON.stringify(hosts) }).map((row) => ({
        name: String(row.name),
        idx: Number(row.idx),
      }));
    },

    /**
     * This installation's id, made when the store was first opened: agents label what they
     * create with it and leave containers of other installations alone.
     */
    clusterId(): string {
      return String(s.getMeta.get<{ value: string }>({ key: CLUSTER_KEY })?.value);
    },

    /** Sets a host's index to the next value of the global counter and returns it. */
    bumpHostIndex(host: string): number {
      return bump([host])[0].idx;
    },

    /** `bumpHostIndex` for each of `hosts` (each once), in order. */
    bumpHostIndexes(hosts: readonly string[]): HostIndexRow[] {
      return bump(hosts);
    },
  };
}

/** The host index methods of the store. */
export type IndexStatements = ReturnType<typeof indexStatements>;
