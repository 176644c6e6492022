/**
 * What the migration runners of every store share: what opening a store did to its schema, the
 * errors of a store written by a newer launcher and of a failed migration, and the rule that a
 * list of migrations runs 1, 2, 3 with no gap.
 */
import { errorMessage, LauncherError } from "../../errors.ts";

/** What opening a store did to its schema. */
export interface Migrated {
  /** The version found: 0 for a store from before versions, and for a new one. */
  from: number;
  to: number;
  /** Whether the store was new (no table at all), so that `from` is no older launcher's. */
  created: boolean;
}

/** One step of a schema, as the runners name it. */
export interface NamedMigration {
  version: number;
  /** What the step does, in snake_case; stored beside the version. */
  name: string;
}

/** The store was written by a newer launcher, whose schema this one does not know. */
export class StoreTooNewError extends LauncherError {
  constructor(path: string, version: number, known: number) {
    super(
      "store_too_new",
      `the store at ${path} was written by a newer launcher (schema version ${version}; ` +
        `this launcher knows up to ${known}): upgrade launcher, or restore a backup`,
    );
  }
}

/** A migration failed; nothing of any migration was kept. */
export class MigrationError extends LauncherError {
  constructor(migration: NamedMigration, cause: unknown) {
    super(
      "migration_failed",
      `schema migration ${migration.version} (${migration.name}) failed: ${errorMessage(cause)}`,
    );
  }
}

/**
 * Throws when the list's versions are not 1, 2, 3 in order: a gap or a repeat would skip a step on
 * some stores, a programming error caught at once.
 */
export function checkOrder(migrations: NamedMigration[]): void {
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) {
      throw new Error(`migration ${migration.name} has version ${migration.version}, not ${i + 1}`);
    }
  });
}

/** Refuses a store newer than the migrations this launcher has (`undefined`: a new store). */
export function refuseNewer(location: string, version: number | undefined, known: number): void {
  if (version !== undefined && version > known) {
    throw new StoreTooNewError(location, version, known);
  }
}
