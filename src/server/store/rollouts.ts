/** Statements on rollouts: at most one per manifest, the one in progress or the last one. */
import { ROLLOUT_COLUMNS, type RolloutRow } from "./rows.ts";
import { params, type Prepare } from "./sqlite.ts";

const SELECT = `SELECT ${ROLLOUT_COLUMNS.join(", ")} FROM rollouts`;
const OVERWRITE = ROLLOUT_COLUMNS.filter((col) => col !== "manifest")
  .map((col) => `${col} = excluded.${col}`).join(", ");

/** The rollout statements, prepared once, as typed methods. */
export function rolloutStatements(p: Prepare) {
  const s = {
    rollout: p(`${SELECT} WHERE manifest = $manifest`),
    active: p(`${SELECT} WHERE status = 'running' ORDER BY manifest`),
    all: p(`${SELECT} ORDER BY manifest`),
    put: p(
      `INSERT INTO rollouts (${ROLLOUT_COLUMNS.join(", ")}) VALUES (${params(ROLLOUT_COLUMNS)}) ` +
        `ON CONFLICT (manifest) DO UPDATE SET ${OVERWRITE}`,
    ),
  };
  return {
    /** The rollout of a manifest, in progress or last. */
    rollout(manifest: string): RolloutRow | undefined {
      return s.rollout.get<RolloutRow>({ manifest });
    },

    /** Rollouts in progress. */
    activeRollouts(): RolloutRow[] {
      return s.active.all<RolloutRow>();
    },

    /** Every manifest's rollout, in progress or last. */
    allRollouts(): RolloutRow[] {
      return s.all.all<RolloutRow>();
    },

    /** Writes a manifest's rollout, replacing the one it had. */
    putRollout(row: RolloutRow): void {
      s.put.run(row);
    },
  };
}

/** The rollout methods of the store. */
export type RolloutStatements = ReturnType<typeof rolloutStatements>;
