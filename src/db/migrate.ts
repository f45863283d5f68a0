/**
 * Forward-only numbered SQL migrations (migrations/NNNN_name.sql), applied through kysely's Migrator:
 * on PostgreSQL it takes a lock row inside a transaction, so many processes may start at once and
 * only one applies each migration. A database newer than this binary is refused.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
/** kysely's record of applied migrations: one row per name. */
const MIGRATION_TABLE = 'hookflow_migrations';
/** PostgreSQL's "undefined_table". */
const UNDEFINED_TABLE = '42P01';

class SqlFileMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const file of knownMigrations()) {
      const text = readFileSync(path.join(MIGRATIONS_DIR, `${file}.sql`), 'utf8');
      out[file] = { up: async (db) => void (await sql.raw(text).execute(db)) };
    }
    return out;
  }
}

/** Names of the migrations this build ships, in order. */
export function knownMigrations(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => f.replace(/\.sql$/, ''));
}

function migrator(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: new SqlFileMigrationProvider(),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: 'hookflow_migrations_lock',
  });
}

export class MigrationError extends Error {}

/** Applies pending migrations; returns the names applied now. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) {
    const msg = error instanceof Error ? error.message : String(error);
    if (/corrupted migrations/.test(msg))
      throw new MigrationError(
        `The database has migrations this version of Hookflow does not know (${msg}). Upgrade Hookflow before starting it against this database.`,
      );
    throw new MigrationError(`Migration failed: ${msg}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Migrations this build knows that the database has not applied (empty = current): one read of the
 * migration table (none yet = nothing applied). `known` defaults to this build's files.
 */
export async function pendingMigrations(db: Kysely<any>, known = knownMigrations()): Promise<string[]> {
  let applied: Set<string>;
  try {
    const r = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(db);
    applied = new Set(r.rows.map((row) => row.name));
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNDEFINED_TABLE) throw err;
    applied = new Set();
  }
  return known.filter((name) => !applied.has(name));
}
