/**
 * Web UI sessions, kept in the store so that every server of it honours them and a restart keeps
 * them. The cookie holds a random id; the store holds its SHA-256, the id of the token it signed
 * in with (never the token: the web UI checks that token row again on every request, so
 * revocation and expiry end the session at once) and the CSRF token its forms carry.
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { SessionRow, Store } from "./store/store.ts";

/** One signed-in browser. */
export interface UiSession {
  /** The cookie's value: 32 random bytes, base64url. Only the browser keeps it. */
  readonly id: string;
  /** The id of the token it signed in with. */
  readonly tokenId: string;
  /** What every form that changes something must carry (32 random bytes, base64url). */
  readonly csrf: string;
  readonly createdAt: number;
  /** When it was last used, as the store has it: written at most once a minute. */
  readonly lastUsedAt: number;
}

/** Limits of the sessions. */
export interface UiSessionOptions {
  /** A session unused for this long ends (default 12 hours; judged to the minute). */
  idleMs?: number;
  /** A session ends this long after sign-in, used or not (default 7 days). */
  maxAgeMs?: number;
  /** How many sessions a store keeps at most; the least recently used go first (default 10,000). */
  maxSessions?: number;
}

const DEFAULT_IDLE_MS = 12 * 3_600_000;
const DEFAULT_MAX_AGE_MS = 7 * 86_400_000;
const DEFAULT_MAX_SESSIONS = 10_000;

/**
 * How stale a session's stored `last_used_at` may get before a use writes it again: a page
 * refreshes every few seconds, and a write each time would be most of what the store does.
 */
export const SESSION_TOUCH_EVERY_MS = 60_000;

/** How often the duty deletes ended sessions. */
const PRUNE_EVERY_MS = 60_000;

/** A random id or secret: 32 bytes, base64url. */
function secret(): string {
  return randomBytes(32).toString("base64url");
}

/** The hex SHA-256 of a cookie's id: what the store knows a session by. */
function idHash(id: string): string {
  return createHash("sha256").update(id, "utf8").digest("hex");
}

/** Whether two secrets are equal, in time independent of where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A stored session as a request sees it. */
function sessionOf(
  id: string,
  row: SessionRow,
  lastUsedAt = Date.parse(row.last_used_at),
): UiSession {
  return {
    id,
    tokenId: row.token_id,
    csrf: row.csrf,
    createdAt: Date.parse(row.created_at),
    lastUsedAt,
  };
}

/** The web UI sessions of one store. */
export class UiSessions {
  readonly idleMs: number;
  readonly maxAgeMs: number;
  readonly maxSessions: number;
  readonly #store: Store;
  readonly #now: () => number;
  /** When this server last pruned (its duty), in Unix ms. */
  #prunedAt = -Infinity;

  constructor(store: Store, now: () => number, opts: UiSessionOptions = {}) {
    this.#store = store;
    this.#now = now;
    this.idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
  }

  /**
   * Starts a session for a token that was just checked, by the token's id; past the cap, the
   * least recently used sessions of the store end, in the same transaction.
   */
  async create(tokenId: string): Promise<UiSession> {
    const id = secret();
    const at = new Date(this.#now()).toISOString();
    const row: SessionRow = {
      id_hash: idHash(id),
      token_id: tokenId,
      csrf: secret(),
      created_at: at,
      last_used_at: at,
    };
    await this.#store.transaction(async (tx) => {
      await tx.insertSession(row);
      await tx.pruneSessionsBeyond(this.maxSessions);
    });
    return sessionOf(id, row);
  }

  /**
   * The live session of a cookie's id, its use noted (at most once a minute); undefined when none
   * or it ended (idle, or too old: it is then deleted). Its token is the caller's to check.
   */
  async get(id: string): Promise<UiSession | undefined> {
    const hash = idHash(id);
    const row = await this.#store.sessionByHash(hash);
    if (row === undefined) return undefined;
    const session = sessionOf(id, row);
    const now = this.#now();
    if (now - session.lastUsedAt >= this.idleMs || now - session.createdAt >= this.maxAgeMs) {
      // A full disk keeps it until the duty's prune; it is refused meanwhile all the same.
      await this.#store.bestEffort(() => this.#store.deleteSession(hash));
      return undefined;
    }
    if (now - session.lastUsedAt < SESSION_TOUCH_EVERY_MS) return session;
    // A full disk must not refuse pages: the session then idles from its last stored use.
    const at = new Date(now).toISOString();
    const touched = await this.#store.bestEffort(() => this.#store.touchSession(hash, at));
    return touched ? sessionOf(id, row, now) : session;
  }

  /** Ends a session: sign-out. */
  async delete(id: string): Promise<void> {
    await this.#store.deleteSession(idHash(id));
  }

  /**
   * Deletes a session found ended (its token no longer signs in), which is refused either way:
   * on a full disk it stays until the duty's prune.
   */
  async discard(id: string): Promise<void> {
    await this.#store.bestEffort(() => this.#store.deleteSession(idHash(id)));
  }

  /** Whether the duty's prune is due: at most once a minute, to spare the store a transaction. */
  pruneDue(): boolean {
    return this.#now() - this.#prunedAt >= PRUNE_EVERY_MS;
  }

  /**
   * Deletes, in `tx`, the sessions that ended: idle, too old, or whose token was revoked or
   * expired. A duty of the server holding the duty lease; returns how many.
   */
  async prune(tx: Store): Promise<number> {
    const now = this.#now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const deleted = await tx.pruneSessions(
      iso(now - this.idleMs),
      iso(now - this.maxAgeMs),
      iso(now),
    );
    this.#prunedAt = now;
    return deleted;
  }
}
