import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, usingPostgres } from './helpers/db.ts';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const compression = async () =>
    (
      await sql<{ col: string; c: string }>`
        select attrelid::regclass || '.' || attname as col, attcompression as c from pg_attribute
        where (attrelid = 'events'::regclass and attname = 'data')
           or (attrelid = 'runs'::regclass and attname in ('trigger', 'nodes', 'raw_body'))
        order by 1`.execute(db.database.db)
    ).rows;

  it.runIf(usingPostgres)('large documents are compressed with lz4 on PostgreSQL', async () => {
    expect(await compression()).toEqual([
      { col: 'events.data', c: 'l' },
      { col: 'runs.nodes', c: 'l' },
      { col: 'runs.raw_body', c: 'l' },
      { col: 'runs.trigger', c: 'l' },
    ]);
  });

  it.skipIf(usingPostgres)(
    'a server without lz4 (embedded PGlite) keeps the default and migrates',
    async () => {
      expect((await compression()).every((r) => r.c === '')).toBe(true);
      const applied = await sql<{ name: string }>`select name from hookflow_migrations order by name`.execute(
        db.database.db,
      );
      expect(applied.rows.map((r) => r.name)).toContain('0004_lz4');
    },
  );

  it('the messages of a run are found through an index on (tenant_id, context->>run_id)', async () => {
    const r = await sql<{ indexdef: string }>`
      select indexdef from pg_indexes where tablename = 'events' and indexname = 'events_tenant_run'`.execute(
      db.database.db,
    );
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0].indexdef).toMatch(/\(tenant_id, \(\(context ->> 'run_id'::text\)\)\)/);
  });
});
