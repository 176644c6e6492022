/**
 * Token auth: the password is exchanged for random tokens, which are stored only as SHA-256
 * hashes; the password is compared in constant time. Each token has a role (admin, agent of one
 * host, read), may expire and may be revoked.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Buffer } from "node:buffer";
import type { Role, TokenCreated, TokenInfo } from "../api/schemas.ts";
import { NotFoundError, UnauthorizedError } from "../api/errors.ts";
import { LauncherError } from "../errors.ts";
import type { Store, TokenRow } from "./store/store.ts";

/** Who a request speaks for: the token it came with, its role and, for an agent, its host. */
export interface Principal {
  tokenId: string;
  role: Role;
  host?: string;
}

/** What a new token may do and for how long. */
export interface TokenGrant {
  role: Role;
  /** Required for, and only for, role agent. */
  host?: string;
  /** Lifetime; a token without one does not expire. */
  ttlMs?: number;
}

/** Options of the token auth. */
export interface TokenAuthOptions {
  /** The clock, for tests. */
  now?: () => number;
}

/** How stale `last_used_at` may get before a use writes it again: one write per token a minute. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** SHA-256 of a UTF-8 string, as raw bytes. */
function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** A stored token as the API lists it. */
function tokenInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    role: row.role as Role,
    ...(row.host === null ? {} : { host: row.host }),
    createdAt: row.created_at,
    ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
    ...(row.last_used_at === null ? {} : { lastUsedAt: row.last_used_at }),
    revoked: row.revoked !== 0,
  };
}

/** The server was started without a token password, so nobody could ever get a token. */
export class EmptyPasswordError extends LauncherError {
  constructor() {
    super("empty_password", "the token password must not be empty");
  }
}

/** Issues, checks, lists and revokes tokens against one store and one password. */
export class TokenAuth {
  readonly #store: Store;
  readonly #passwordDigest: Buffer;
  readonly #hasPassword: boolean;
  readonly #now: () => number;
  /** Last-used times a full disk kept out of the store (ISO), by token id. */
  readonly #unsaved = new Map<string, string>();

  constructor(store: Store, password: string, opts: TokenAuthOptions = {}) {
    this.#store = store;
    this.#passwordDigest = sha256(password);
    this.#hasPassword = password.length > 0;
    this.#now = opts.now ?? Date.now;
  }

  /** Whether `candidate` is the password; an empty configured password matches nothing. */
  checkPassword(candidate: string): boolean {
    // Comparing digests keeps the comparison constant-time whatever the candidate's length.
    return timingSafeEqual(sha256(candidate), this.#passwordDigest) && this.#hasPassword;
  }

  /** Creates a token (32 random bytes, base64url), stores its hash and returns it once. */
  async createToken(grant: TokenGrant = { role: "admin" }): Promise<TokenCreated> {
    const token = randomBytes(32).toString("base64url");
    const now = this.#now();
    const row: TokenRow = {
      id: randomBytes(6).toString("hex"),
      hash: sha256(token).toString("hex"),
      role: grant.role,
      host: grant.host ?? null,
      created_at: new Date(now).toISOString(),
      expires_at: grant.ttlMs === undefined ? null : new Date(now + grant.ttlMs).toISOString(),
      last_used_at: null,
      revoked: 0,
    };
    await this.#store.insertToken(row);
    const { id, role, host, expiresAt } = tokenInfo(row);
    return {
      id,
      token,
      role,
      ...(host === undefined ? {} : { host }),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    };
  }

  /**
   * The principal of a token issued by this server, noting its use; throws
   * `UnauthorizedError` for an unknown, revoked or expired token.
   */
  async authenticate(token: string): Promise<Principal> {
    return await this.#principalOf(await this.#store.tokenByHash(sha256(token).toString("hex")));
  }

  /**
   * The principal of the token with this id (a web UI session's), noting its use: the same
   * checks as `authenticate`, so a revoked, expired or missing token throws `UnauthorizedError`.
   */
  async principalOfTokenId(id: string): Promise<Principal> {
    return await this.#principalOf(await this.#store.tokenById(id));
  }

  /** The principal of a stored token that still signs in, noting its use; else why not. */
  async #principalOf(row: TokenRow | undefined): Promise<Principal> {
    if (row === undefined) throw new UnauthorizedError("invalid token");
    if (row.revoked !== 0) throw new UnauthorizedError("token revoked");
    const now = this.#now();
    if (row.expires_at !== null && Date.parse(row.expires_at) <= now) {
      throw new UnauthorizedError("token expired");
    }
    // Agents poll and report all the time: a write per request would be all the store does.
    if (now - this.#lastUsed(row) >= LAST_USED_RESOLUTION_MS) {
      const at = new Date(now).toISOString();
      // A full disk must not refuse requests: the time waits in memory for a later write.
      if (await this.#store.bestEffort(() => this.#store.touchToken(row.id, at))) {
        this.#unsaved.delete(row.id);
      } else this.#unsaved.set(row.id, at);
    }
    return {
      tokenId: row.id,
      role: row.role as Role,
      ...(row.host === null ? {} : { host: row.host }),
    };
  }

  /** Every token, oldest first, without secrets. */
  async listTokens(): Promise<TokenInfo[]> {
    return (await this.#store.allTokens()).map((row) =>
      tokenInfo({ ...row, last_used_at: this.#unsaved.get(row.id) ?? row.last_used_at })
    );
  }

  /** When a token was last used, in Unix ms (-Infinity: never), unsaved uses included. */
  #lastUsed(row: TokenRow): number {
    const at = this.#unsaved.get(row.id) ?? row.last_used_at;
    return at === null ? -Infinity : Date.parse(at);
  }

  /**
   * Revokes a token at once (revoking twice is fine), and deletes the web UI sessions it signed
   * in (which would be refused anyway); an unknown id is `NotFoundError`.
   */
  async revokeToken(id: string): Promise<void> {
    await this.#store.transaction(async (tx) => {
      if (!await tx.revokeToken(id)) throw new NotFoundError(`no token with id ${id}`);
      await tx.deleteSessionsOfToken(id);
    });
  }
}
