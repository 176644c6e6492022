/** Statements on tokens: only their hashes are stored. */
import { TOKEN_COLUMNS, type TokenRow } from "./rows.ts";
import { params, type Prepare } from "./sqlite.ts";

const SELECT = `SELECT ${TOKEN_COLUMNS.join(", ")} FROM tokens`;

/** The token statements, prepared once, as typed methods. */
export function tokenStatements(p: Prepare) {
  const s = {
    insertToken: p(
      `INSERT INTO tokens (${TOKEN_COLUMNS.join(", ")}) VALUES (${params(TOKEN_COLUMNS)})`,
    ),
    tokenByHash: p(`${SELECT} WHERE hash = $hash`),
    tokenById: p(`${SELECT} WHERE id = $id`),
    allTokens: p(`${SELECT} ORDER BY created_at, rowid`),
    touchToken: p("UPDATE tokens SET last_used_at = $now WHERE id = $id"),
    revokeToken: p("UPDATE tokens SET revoked = 1 WHERE id = $id"),
  };
  return {
    /** Stores a new token (its hash, never the token). */
    insertToken(row: TokenRow): void {
      s.insertToken.run(row);
    },

    /** The token with this hash, revoked or expired ones included. */
    tokenByHash(hash: string): TokenRow | undefined {
      return s.tokenByHash.get<TokenRow>({ hash });
    },

    /** The token with this id, revoked or expired ones included. */
    tokenById(id: string): TokenRow | undefined {
      return s.tokenById.get<TokenRow>({ id });
    },

    /** Every token, oldest first. */
    allTokens(): TokenRow[] {
      return s.allTokens.all<TokenRow>();
    },

    /** Records when a token was last used. */
    touchToken(id: string, now: string): void {
      s.touchToken.run({ id, now });
    },

    /** Marks a token revoked; false when no token has this id. */
    revokeToken(id: string): boolean {
      return s.revokeToken.run({ id }).changes > 0;
    },
  };
}

/** The token methods of the store. */
export type TokenStatements = ReturnType<typeof tokenStatements>;
