/**
 * Prepared statements for the workers' hot statements (src/db/prepared.ts): on PGlite a statement
 * marked `/* prepared *\/` goes out as a named statement with its generic plan, and leaves the
 * session's settings as they were — after success, after a failure, inside a transaction and out.
 * On PostgreSQL marked statements go out unnamed, like every other.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PREPARED } from '../src/db/prepared.ts';
import { createTestDatabase, type TestDatabase, usingPostgres } from './helpers/db.ts';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => {
  await tdb.drop();
});

type Prepared = { name: string; statement: string; generic_plans: string; custom_plans: string };

type Db = TestDatabase['database']['db'];

/** The named statements of the connection `db` runs on. */
async function prepared(db: Db): Promise<Prepared[]> {
  const r =
    await sql<Prepared>`select name, statement, generic_plans, custom_plans from pg_prepared_statements`.execute(
      db,
    );
  return r.rows;
}

/** One connection of the pool for the whole of `fn` (pg_prepared_statements is per connection). */
function onOneConnection<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  return tdb.database.db.connection().execute(fn);
}

async function planCacheMode(): Promise<string> {
  const r = await sql<{ m: string }>`select current_setting('plan_cache_mode') as m`.execute(tdb.database.db);
  return r.rows[0].m;
}

describe.skipIf(!usingPostgres)('marked statements on PostgreSQL', () => {
  it('are sent unnamed, like every other statement', async () => {
    await onOneConnection(async (db) => {
      for (let i = 0; i < 3; i++) await sql`/* prepared */ select ${i}::int + 2 as pg_unnamed`.execute(db);
      expect(await prepared(db)).toEqual([]);
    });
  });
});

describe.skipIf(usingPostgres)('prepared statements on PGlite', () => {
  it('sends a marked statement as a named statement, parsed once and reused', async () => {
    await onOneConnection(async (db) => {
      for (let i = 0; i < 8; i++) {
        const r = await sql<{ n: number }>`/* prepared */ select ${i}::int + 1 as n`.execute(db);
        expect(r.rows[0].n).toBe(i + 1);
      }
      const mine = (await prepared(db)).filter((p) => p.statement.includes('select $1::int + 1 as n'));
      expect(mine).toMatchObject([{ generic_plans: '8', custom_plans: '0' }]);
    });
  });

  it('does not prepare unmarked statements', async () => {
    await onOneConnection(async (db) => {
      await sql`select ${3}::int * 7 as unmarked_product`.execute(db);
      expect((await prepared(db)).some((p) => p.statement.includes('unmarked_product'))).toBe(false);
    });
  });

  it.skipIf(usingPostgres)(
    'plans a marked statement once on PGlite: the generic plan from the first run',
    async () => {
      await onOneConnection(async (db) => {
        for (let i = 0; i < 3; i++)
          await sql`/* prepared */ select count(*) as n from runs where status = 'queued' and run_at <= ${new Date()}`.execute(
            db,
          );
        const mine = (await prepared(db)).find((p) =>
          p.statement.includes("from runs where status = 'queued'"),
        );
        expect(mine).toMatchObject({ generic_plans: '3', custom_plans: '0' });
      });
    },
  );

  it('leaves plan_cache_mode as it was after a marked statement, failed or not, in a transaction or not', async () => {
    const before = await planCacheMode();
    expect(before).toBe('auto');
    await sql`/* prepared */ select ${1}::int as ok`.execute(tdb.database.db);
    expect(await planCacheMode()).toBe(before);

    await expect(sql`/* prepared */ select 1 / ${0}::int as boom`.execute(tdb.database.db)).rejects.toThrow(
      /division by zero/,
    );
    expect(await planCacheMode()).toBe(before);

    await expect(
      tdb.database.db.transaction().execute(async (tx) => {
        await sql`/* prepared */ select ${1}::int as ok`.execute(tx);
        expect(
          (await sql<{ m: string }>`select current_setting('plan_cache_mode') as m`.execute(tx)).rows[0].m,
        ).toBe(before);
        await sql`/* prepared */ select 1 / ${0}::int as boom`.execute(tx);
      }),
    ).rejects.toThrow(/division by zero/);
    expect(await planCacheMode()).toBe(before);

    await tdb.database.db.transaction().execute(async (tx) => {
      await sql`/* prepared */ select ${2}::int as ok`.execute(tx);
    });
    expect(await planCacheMode()).toBe(before);
  });

  it('runs marked statements with many different texts unnamed past the cap, correctly', async () => {
    await onOneConnection(async (db) => {
      for (let i = 0; i < MAX_PREPARED + 5; i++) {
        const r = await sql<{
          n: number;
          k: number;
        }>`/* prepared */ select ${i}::int as n, ${sql.raw(String(i))} as k`.execute(db);
        expect(r.rows[0]).toEqual({ n: i, k: i });
      }
      // The earlier tests' few texts took names of the pool first: the rest up to the cap are these.
      expect((await prepared(db)).length).toBe(MAX_PREPARED);
    });
  });
});
