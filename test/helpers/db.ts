/**
 * A fresh database per test file: in-memory (or on-disk) PGlite by default; with TEST_DATABASE_URL
 * a new PostgreSQL database created for the file and dropped afterwards. Migrations applied.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Database, openDatabase } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

export type TestDatabase = {
  database: Database;
  /** What to pass as DATABASE_URL / DATA_DIR to open the same data again (another app, a child process). */
  databaseUrl?: string;
  dataDir: string;
  /** Closes the connection but keeps the data (for restart tests); `open` reopens it. */
  close(): Promise<void>;
  open(): Promise<Database>;
  /** Closes and removes everything. */
  drop(): Promise<void>;
};

export const usingPostgres = Boolean(process.env.TEST_DATABASE_URL);

export async function createTestDatabase(opts: { onDisk?: boolean } = {}): Promise<TestDatabase> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hookflow-test-'));
  let databaseUrl: string | undefined;
  if (process.env.TEST_DATABASE_URL) {
    const name = `hookflow_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(process.env.TEST_DATABASE_URL);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
  }
  const openIt = async () => {
    const database = await openDatabase({
      databaseUrl,
      dataDir: databaseUrl || opts.onDisk ? dataDir : 'memory://',
      poolSize: 5,
    });
    await migrateToLatest(database.db);
    return database;
  };
  let database = await openIt();
  let open = true;
  const t: TestDatabase = {
    get database() {
      return database;
    },
    databaseUrl,
    dataDir,
    async close() {
      if (open) await database.close();
      open = false;
    },
    async open() {
      database = await openIt();
      open = true;
      return database;
    },
    async drop() {
      await t.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (databaseUrl) {
        const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
        await admin.connect();
        await admin.query(`drop database if exists ${new URL(databaseUrl).pathname.slice(1)} with (force)`);
        await admin.end();
      }
    },
  };
  return t;
}
