/**
 * Web UI sessions, kept in this server's memory: the cookie holds a random id, and the session
 * behind it holds the token it was signed in with (checked again on every request, so revocation
 * and expiry end it) and the CSRF token its forms carry.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";

/** One signed-in browser. */
export interface Session {
  /** The cookie's value: 32 random bytes, base64url. */
  readonly id: string;
  /** The token it signed in with; never sent back to the browser. */
  readonly token: string;
  /** What every form that changes something must carry (32 random bytes, base64url). */
  readonly csrf: string;
  readonly createdAt: number;
  lastUsedAt: number;
}

/** Limits of a session store. */
export interface SessionOptions {
  /** A session unused for this long ends (default 12 hours). */
  idleMs?: number;
  /** A session ends this long after sign-in, used or not (default 7 days). */
  maxAgeMs?: number;
  /** How many sessions are kept at most; the least recently used goes first (default 10,000). */
  maxSessions?: number;
  now: () => number;
}

const DEFAULT_IDLE_MS = 12 * 3_600_000;
const DEFAULT_MAX_AGE_MS = 7 * 86_400_000;
const DEFAULT_MAX_SESSIONS = 10_000;

/** A random id or secret: 32 bytes, base64url. */
function secret(): string {
  return randomBytes(32).toString("base64url");
}

/** Whether two secrets are equal, in time independent of where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The sessions of this server process, by id. */
export class SessionStore {
  readonly idleMs: number;
  readonly maxAgeMs: number;
  readonly #max: number;
  readonly #now: () => number;
  /** In insertion order, refreshed on use: the first is the least recently used. */
  readonly #sessions = new Map<string, Session>();

  constructor(opts: SessionOptions) {
    this.idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#max = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.#now = opts.now;
  }

  /** Starts a session for a token that was just checked. */
  create(token: string): Session {
    const now = this.#now();
    const session: Session = {
      id: secret(),
      token,
      csrf: secret(),
      createdAt: now,
      lastUsedAt: now,
    };
    this.#sessions.set(session.id, session);
    for (const id of this.#sessions.keys()) {
      if (this.#sessions.size <= this.#max) break;
      this.#sessions.delete(id);
    }
    return session;
  }

  /** The live session of a cookie's id, marked as used now; undefined when none or it ended. */
  get(id: string): Session | undefined {
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.#now();
    if (now - session.lastUsedAt >= this.idleMs || now - session.createdAt >= this.maxAgeMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastUsedAt = now;
    this.#sessions.delete(id);
    this.#sessions.set(id, session);
    return session;
  }

  /** Ends a session (sign-out, or its token no longer passes). */
  delete(id: string): void {
    this.#sessions.delete(id);
  }

  /** How many sessions are kept. */
  get size(): number {
    return this.#sessions.size;
  }
}
