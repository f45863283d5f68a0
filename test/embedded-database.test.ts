/**
 * The embedded database on disk: a new DATA_DIR gets its cluster from a short-lived child process
 * (initdb grows a WebAssembly heap that never shrinks; bench `--only memory` measures the effect),
 * a start killed half-way through initdb leaves nothing that a later start trips over, and the
 * cluster runs with small shared buffers.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createPgliteCluster, openDatabase, PGLITE_SHARED_BUFFERS } from '../src/db/connect.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'hookflow-embedded-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the embedded database in DATA_DIR', () => {
  it('a new DATA_DIR gets a complete cluster, opened with small shared buffers', async () => {
    const dataDir = tempDir();
    const database = await openDatabase({ dataDir });
    try {
      expect(existsSync(path.join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);
      // Nothing is left of the child's working folder.
      expect(readdirSync(dataDir).sort()).toEqual(['hookflow.lock', 'pglite']);
      const { rows } = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(database.db);
      expect(rows[0]?.shared_buffers).toBe(PGLITE_SHARED_BUFFERS);
      await sql`create table kept (v text)`.execute(database.db);
      await sql`insert into kept values ('survives a restart')`.execute(database.db);
    } finally {
      await database.close();
    }
    const reopened = await openDatabase({ dataDir });
    try {
      const { rows } = await sql<{ v: string }>`select v from kept`.execute(reopened.db);
      expect(rows).toEqual([{ v: 'survives a restart' }]);
    } finally {
      await reopened.close();
    }
  });

  it('a start killed during initdb leaves nothing a later start trips over', async () => {
    const dataDir = tempDir();
    // What a start killed half-way leaves: the child's working folder, never a cluster in place.
    mkdirSync(path.join(dataDir, 'pglite.initdb-4242', 'base'), { recursive: true });
    writeFileSync(path.join(dataDir, 'pglite.initdb-4242', 'postgresql.conf'), '# half written');
    // And an empty cluster folder without PG_VERSION (a start of an older version killed in initdb).
    mkdirSync(path.join(dataDir, 'pglite', 'global'), { recursive: true });
    const database = await openDatabase({ dataDir });
    try {
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db);
      expect(rows).toEqual([{ one: 1 }]);
      expect(existsSync(path.join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);
      expect(readdirSync(dataDir).sort()).toEqual(['hookflow.lock', 'pglite']);
    } finally {
      await database.close();
    }
  });

  it('an existing cluster is opened as it is, without a new initdb', async () => {
    const dir = path.join(tempDir(), 'pglite');
    await createPgliteCluster(dir);
    const marker = path.join(dir, 'left-by-the-user');
    writeFileSync(marker, 'x');
    await createPgliteCluster(dir);
    expect(existsSync(marker)).toBe(true);
  });

  it('a cluster that cannot be created fails with a clear message and keeps no working folder', async () => {
    const parent = tempDir();
    const file = path.join(parent, 'not-a-folder');
    writeFileSync(file, 'x');
    await expect(createPgliteCluster(path.join(file, 'pglite'))).rejects.toThrow(
      /^Could not create the embedded database in .*not-a-folder\/pglite: /,
    );
    expect(readdirSync(parent)).toEqual(['not-a-folder']);
  });
});
