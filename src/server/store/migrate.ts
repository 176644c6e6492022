/**
 * Brings a store up to the schema this launcher knows: reads the store's schema version, refuses a
 * store written by a newer launcher, and runs the pending migrations of `MIGRATIONS` in order, all
 * in one transaction.
 */
import type { DatabaseSync } from "node:sqlite";
import { type Migration, MIGRATIONS } from "./schema.ts";
import { isDiskFull } from "./sqlite.ts";
import { checkOrder, type Migrated, MigrationError, refuseNewer } from "./versions.ts";

/**
 * One row per applied migration rather than a single version number: the version is the highest
 * row, rows are only ever inserted (no row to update, the same on every SQL database), and they
 * say when each step ran, which is what one asks of a store that misbehaves after an upgrade.
 */
const VERSION_TABLE = `
CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
) STRICT;
`;

/**
 * The store's schema version: the highest applied migration, 0 for a store from before versions
 * (it has tables but no `schema_version`), and undefined for a new, empty one.
 */
export function schemaVersion(db: DatabaseSync): number | undefined {
  const tables = db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
  ).all().map((row) => String(row.name));
  if (tables.includes("schema_version")) {
    const row = db.prepare("SELECT max(version) AS version FROM schema_version").get();
    return Number(row?.version ?? 0);
  }
  return tables.length > 0 ? 0 : undefined;
}

/**
 * Runs the migrations the store lacks, in one `BEGIN IMMEDIATE` transaction: on any failure none
 * of them is kept. A store at the last version is only read; a newer one is refused with
 * `StoreTooNewError` and left as it is. Tests pass their own list of migrations.
 */
export function migrate(db: DatabaseSync, migrations: Migration[] = MIGRATIONS): Migrated {
  checkOrder(migrations);
  const known = migrations.length;
  const found = schemaVersion(db);
  check(db, found, known);
  const created = found === undefined;
  if (found === known) return { from: known, to: known, created };

  db.exec("BEGIN IMMEDIATE");
  let current: Migration | undefined;
  let from: number;
  try {
    // Read again under the write lock: another server on the same file may have just migrated.
    from = schemaVersion(db) ?? 0;
    check(db, from, known);
    db.exec(VERSION_TABLE);
    const record = db.prepare(
      "INSERT INTO schema_version (version, name, applied_at) VALUES ($version, $name, $at)",
    );
    for (current of migrations.slice(from)) {
      current.up(db);
      record.run({ version: current.version, name: current.name, at: new Date().toISOString() });
    }
    current = undefined;
    db.exec("COMMIT");
  } catch (error) {
    // SQLite may have rolled back already (a full disk): a ROLLBACK would then fail and hide why.
    if (db.isTransaction) db.exec("ROLLBACK");
    // A full disk keeps its own error, which the store's open error words for it.
    throw current === undefined || isDiskFull(error) ? error : new MigrationError(current, error);
  }
  return { from, to: known, created };
}

/** Refuses a store newer than the migrations this launcher has. */
function check(db: DatabaseSync, version: number | undefined, known: number): void {
  if (version === undefined || version <= known) return;
  const file = db.prepare("PRAGMA database_list").all().find((row) => row.name === "main")?.file;
  refuseNewer(String(file ?? "(unknown)"), version, known);
}
