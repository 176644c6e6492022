/**
 * Brings a PostgreSQL database up to the schema this launcher knows, as `migrate.ts` does for
 * SQLite: reads its schema version, refuses a database written by a newer launcher, and runs the
 * pending migrations of `PG_MIGRATIONS` in order, all in one transaction (PostgreSQL's DDL is
 * transactional, so a failure keeps none of them).
 */
import type pg from "pg";
import { PG_MIGRATIONS, type PgMigration } from "./postgres_schema.ts";
import { checkOrder, type Migrated, MigrationError, refuseNewer } from "./versions.ts";

/**
 * The advisory lock servers take to migrate one at a time: "launcher" in ASCII, as a bigint
 * (text, since it is past what a JS number holds exactly).
 */
const MIGRATION_LOCK = "7809641803437573490";

/** One row per applied migration, as in SQLite's store (see `migrate.ts`). */
const VERSION_TABLE = `
CREATE TABLE IF NOT EXISTS schema_version (
  version BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

/**
 * The database's schema version: the highest applied migration, or undefined for a database
 * without `schema_version` (a new one: no launcher wrote PostgreSQL before versions began).
 */
export async function pgSchemaVersion(client: pg.ClientBase): Promise<number | undefined> {
  const { rows } = await client.query<{ present: boolean }>(
    "SELECT to_regclass('schema_version') IS NOT NULL AS present",
  );
  if (!rows[0].present) return undefined;
  const max = await client.query<{ version: string | null }>(
    "SELECT max(version)::text AS version FROM schema_version",
  );
  return Number(max.rows[0].version ?? 0);
}

/**
 * Runs the migrations the database lacks, in one transaction under an advisory lock (servers
 * starting at once on one database take turns, and each reads the version under the lock). A
 * database at the last version is only read; a newer one is refused with `StoreTooNewError`
 * naming `location` and left as it is. Tests pass their own list of migrations.
 */
export async function migratePostgres(
  client: pg.ClientBase,
  location: string,
  migrations: PgMigration[] = PG_MIGRATIONS,
): Promise<Migrated> {
  checkOrder(migrations);
  const known = migrations.length;
  let current: PgMigration | undefined;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    const found = await pgSchemaVersion(client);
    refuseNewer(location, found, known);
    const from = found ?? 0;
    if (from < known) {
      await client.query(VERSION_TABLE);
      for (current of migrations.slice(from)) {
        await current.up(client);
        await client.query(
          "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
          [current.version, current.name, new Date().toISOString()],
        );
      }
      current = undefined;
    }
    await client.query("COMMIT");
    return { from, to: known, created: found === undefined };
  } catch (error) {
    // A connection that broke rolls back by itself; the error that says why is the one to keep.
    await client.query("ROLLBACK").catch(() => {});
    throw current === undefined ? error : new MigrationError(current, error);
  }
}
