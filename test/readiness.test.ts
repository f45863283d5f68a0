/**
 * /readyz (docs/api.md §7.1): 200 while the database answers and every migration this build ships is
 * applied; 503 `{status, code, msg}` otherwise, with /healthz still 200. The answer comes from a
 * check at most a second old, so the tests wait for the next check rather than expect it at once.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { knownMigrations } from '../src/db/migrate.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { usingPostgres } from './helpers/db.ts';
import { sample } from './helpers/prometheus.ts';
import { eventually } from './helpers/receiver.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function app(): Promise<TestApp> {
  const t = await startTestApp();
  cleanups.push(() => t.close());
  return t;
}

async function readyz(t: TestApp) {
  const res = await fetch(`${t.url}/readyz`);
  return { status: res.status, text: await res.text() };
}

/** Waits for /readyz to answer `status` (the answer is cached for up to a second). */
function readyzBecomes(t: TestApp, status: number) {
  return eventually(
    async () => {
      const r = await readyz(t);
      return r.status === status ? { ...r, body: JSON.parse(r.text) } : undefined;
    },
    10_000,
    `/readyz ${status}`,
  );
}

describe('/readyz', () => {
  it('is 200 with the database reachable and every migration applied', async () => {
    const t = await app();
    const r = await readyz(t);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ status: 'ready', database: usingPostgres ? 'postgres' : 'pglite' });
  });

  it('is 503 migrations_pending while a migration of this build is not applied, and 200 again after', async () => {
    const t = await app();
    const db = t.db.database.db as any;
    const last = await db
      .selectFrom('hookflow_migrations')
      .selectAll()
      .where('name', '=', knownMigrations().at(-1))
      .executeTakeFirstOrThrow();
    await db.deleteFrom('hookflow_migrations').where('name', '=', last.name).execute();
    const pending = await readyzBecomes(t, 503);
    expect(pending.body).toEqual({
      status: 'not_ready',
      code: 'migrations_pending',
      msg: `Migrations pending: ${last.name}`,
    });
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    await db.insertInto('hookflow_migrations').values(last).execute();
    expect((await readyzBecomes(t, 200)).body).toMatchObject({ status: 'ready' });
  });

  it('counts every migration as pending when the migration table is missing', async () => {
    const t = await app();
    const db = t.db.database.db;
    await db.schema.alterTable('hookflow_migrations').renameTo('hookflow_migrations_away').execute();
    const pending = await readyzBecomes(t, 503);
    expect(pending.body).toMatchObject({
      code: 'migrations_pending',
      msg: `Migrations pending: ${knownMigrations().join(', ')}`,
    });
    await db.schema.alterTable('hookflow_migrations_away').renameTo('hookflow_migrations').execute();
    await readyzBecomes(t, 200);
  });

  it('is 503 database_unreachable when the database goes away; /healthz and /metrics still answer', async () => {
    const t = await startTestApp();
    try {
      await readyzBecomes(t, 200);
      if (t.db.databaseUrl) {
        // PostgreSQL: the database really disappears under the app (its connections are cut).
        const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
        await admin.connect();
        try {
          await admin.query(
            `drop database ${pg.escapeIdentifier(new URL(t.db.databaseUrl).pathname.slice(1))} with (force)`,
          );
        } finally {
          await admin.end();
        }
      } else {
        // PGlite: the embedded database is closed under the app.
        await t.db.close();
      }
      const gone = await readyzBecomes(t, 503);
      expect(gone.body).toEqual({
        status: 'not_ready',
        code: 'database_unreachable',
        msg: 'The database is not reachable',
      });
      expect(gone.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+|stack/i);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
      const metrics = await eventually(
        async () => {
          const res = await fetch(`${t.url}/metrics`);
          const text = await res.text();
          return res.status === 200 && sample(text, 'hookflow_database_up') === 0 ? text : undefined;
        },
        10_000,
        'hookflow_database_up 0',
      );
      expect(sample(metrics, 'hookflow_run_queue_depth')).toBeUndefined();
    } finally {
      // The database went away under the running app (not the production order), so the app's own
      // close may complain about it; the data still goes.
      await t.app.close().catch(() => {});
      await t.db.drop();
    }
  });
});
