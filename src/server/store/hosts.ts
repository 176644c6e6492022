/** Statements on `host_info`: what agents registered about their hosts, and draining. */
import { HOST_COLUMNS, type HostRow } from "./rows.ts";
import { params, type Prepare } from "./sqlite.ts";

const SELECT = `SELECT ${HOST_COLUMNS.join(", ")} FROM host_info`;
/** An upsert overwrites every column but the key. */
const OVERWRITE = HOST_COLUMNS.filter((col) => col !== "name")
  .map((col) => `${col} = excluded.${col}`).join(", ");

/** The host statements, prepared once, as typed methods. */
export function hostStatements(p: Prepare) {
  const s = {
    hostInfo: p(`${SELECT} WHERE name = $name`),
    hostInfos: p(`${SELECT} WHERE name IN (SELECT value FROM json_each($names)) ORDER BY name`),
    allHostInfo: p(`${SELECT} ORDER BY name`),
    upsertHostInfo: p(
      `INSERT INTO host_info (${HOST_COLUMNS.join(", ")}) VALUES (${params(HOST_COLUMNS)}) ` +
        `ON CONFLICT (name) DO UPDATE SET ${OVERWRITE}`,
    ),
    touchHostInfo: p("UPDATE host_info SET last_seen = $now WHERE name = $name"),
    touchHostInfos: p(
      "UPDATE host_info SET last_seen = $now WHERE name IN (SELECT value FROM json_each($names))",
    ),
    deleteHostInfo: p("DELETE FROM host_info WHERE name = $name"),
  };
  return {
    /** What is known of one host beyond its index, if anything. */
    hostInfo(name: string): HostRow | undefined {
      return s.hostInfo.get<HostRow>({ name });
    },

    /** The rows of those of `names` that have one, by name. */
    hostInfos(names: readonly string[]): HostRow[] {
      return s.hostInfos.all<HostRow>({ names: JSON.stringify(names) });
    },

    /** Every host with a `host_info` row, by name. */
    allHostInfo(): HostRow[] {
      return s.allHostInfo.all<HostRow>();
    },

    /** Writes every column of a host's row, creating it when missing. */
    upsertHostInfo(row: HostRow): void {
      s.upsertHostInfo.run(row);
    },

    /** Records when a host's agent was last seen; nothing happens for a host without a row. */
    touchHostInfo(name: string, now: string): void {
      s.touchHostInfo.run({ name, now });
    },

    /** `touchHostInfo` for each of `names`. */
    touchHostInfos(names: readonly string[], now: string): void {
      s.touchHostInfos.run({ names: JSON.stringify(names), now });
    },

    /** Forgets a host's row (its index, in `hosts`, is kept so it never goes back). */
    deleteHostInfo(name: string): void {
      s.deleteHostInfo.run({ name });
    },
  };
}

/** The host methods of the store. */
export type HostStatements = ReturnType<typeof hostStatements>;
