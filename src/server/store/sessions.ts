/** Statements on web UI sessions: hashes of cookie ids, the id of each one's token, CSRF tokens. */
import { SESSION_COLUMNS, type SessionRow } from "./rows.ts";
import { params, type Prepare } from "./sqlite.ts";

/** The session statements, prepared once, as typed methods. */
export function sessionStatements(p: Prepare) {
  const s = {
    insertSession: p(
      `INSERT INTO ui_sessions (${SESSION_COLUMNS.join(", ")}) VALUES (${params(SESSION_COLUMNS)})`,
    ),
    sessionByHash: p(
      `SELECT ${SESSION_COLUMNS.join(", ")} FROM ui_sessions WHERE id_hash = $id_hash`,
    ),
    touchSession: p("UPDATE ui_sessions SET last_used_at = $now WHERE id_hash = $id_hash"),
    deleteSession: p("DELETE FROM ui_sessions WHERE id_hash = $id_hash"),
    deleteSessionsOfToken: p("DELETE FROM ui_sessions WHERE token_id = $token_id"),
    pruneSessions: p(
      "DELETE FROM ui_sessions WHERE last_used_at <= $used_by OR created_at <= $made_by " +
        "OR token_id IN (SELECT id FROM tokens WHERE revoked != 0 " +
        "OR (expires_at IS NOT NULL AND expires_at <= $now))",
    ),
    pruneSessionsBeyond: p(
      "DELETE FROM ui_sessions WHERE id_hash IN (SELECT id_hash FROM ui_sessions " +
        "ORDER BY last_used_at, created_at, id_hash " +
        "LIMIT max(0, (SELECT count(*) FROM ui_sessions) - $keep))",
    ),
  };
  return {
    /** Stores a new session; its token must exist. */
    insertSession(row: SessionRow): void {
      s.insertSession.run(row);
    },

    /** The session with this id hash, expired ones included. */
    sessionByHash(idHash: string): SessionRow | undefined {
      return s.sessionByHash.get<SessionRow>({ id_hash: idHash });
    },

    /** Records when a session was last used. */
    touchSession(idHash: string, now: string): void {
      s.touchSession.run({ id_hash: idHash, now });
    },

    /** Deletes a session; false when none has this id hash. */
    deleteSession(idHash: string): boolean {
      return s.deleteSession.run({ id_hash: idHash }).changes > 0;
    },

    /** Deletes every session of a token; returns how many. */
    deleteSessionsOfToken(tokenId: string): number {
      return s.deleteSessionsOfToken.run({ token_id: tokenId }).changes;
    },

    /** Deletes sessions idle or old past the cutoffs, or whose token no longer signs in. */
    pruneSessions(usedBy: string, madeBy: string, now: string): number {
      return s.pruneSessions.run({ used_by: usedBy, made_by: madeBy, now }).changes;
    },

    /** Deletes the least recently used sessions beyond the newest `keep`; returns how many. */
    pruneSessionsBeyond(keep: number): number {
      return s.pruneSessionsBeyond.run({ keep }).changes;
    },
  };
}

/** The session methods of the store. */
export type SessionStatements = ReturnType<typeof sessionStatements>;
