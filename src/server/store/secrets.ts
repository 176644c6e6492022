/** Statements on secrets: encrypted values, and the check value of the key they need. */
import { SECRET_COLUMNS, type SecretRow } from "./rows.ts";
import { params, type Prepare } from "./sqlite.ts";

/** The key in `meta` holding the check value of the secret key. */
const KEY_CHECK = "secret_key_check";

/** The secret statements, prepared once, as typed methods. */
export function secretStatements(p: Prepare) {
  const overwrite = SECRET_COLUMNS.filter((col) => col !== "name" && col !== "created_at")
    .map((col) => `${col} = excluded.${col}`).join(", ");
  const s = {
    allSecrets: p(`SELECT ${SECRET_COLUMNS.join(", ")} FROM secrets ORDER BY name`),
    secret: p(`SELECT ${SECRET_COLUMNS.join(", ")} FROM secrets WHERE name = $name`),
    putSecret: p(
      `INSERT INTO secrets (${SECRET_COLUMNS.join(", ")}) VALUES (${params(SECRET_COLUMNS)}) ` +
        `ON CONFLICT (name) DO UPDATE SET ${overwrite}`,
    ),
    deleteSecret: p("DELETE FROM secrets WHERE name = $name"),
    keyCheck: p(`SELECT value FROM meta WHERE key = '${KEY_CHECK}'`),
    setKeyCheck: p(
      `INSERT INTO meta (key, value) VALUES ('${KEY_CHECK}', $check) ON CONFLICT (key) DO NOTHING`,
    ),
  };
  return {
    /** Every secret, by name. */
    allSecrets(): SecretRow[] {
      return s.allSecrets.all<SecretRow>();
    },

    /** One secret. */
    secret(name: string): SecretRow | undefined {
      return s.secret.get<SecretRow>({ name });
    },

    /** Writes a secret, replacing the one of its name (whose `created_at` is kept). */
    putSecret(row: SecretRow): void {
      s.putSecret.run(row);
    },

    /** Deletes a secret; false when none has this name. */
    deleteSecret(name: string): boolean {
      return s.deleteSecret.run({ name }).changes > 0;
    },

    /** The check value of the key secrets are encrypted with. */
    secretKeyCheck(): string | undefined {
      const row = s.keyCheck.get<{ value: string }>();
      return row?.value;
    },

    /** Records the check value of the key, once. */
    setSecretKeyCheck(check: string): void {
      s.setKeyCheck.run({ check });
    },
  };
}

/** The secret methods of the store. */
export type SecretStatements = ReturnType<typeof secretStatements>;
