/**
 * Exactly one run per tick across processes (docs/api.md §4.8), proved with two real Hookflow
 * processes on one PostgreSQL database — both run a scheduler — and a schedule ticking every
 * second: each tick has its one claimed row and its one run, and no second passes without one.
 * The embedded database is one process only, so this runs with TEST_DATABASE_URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase, usingPostgres } from './helpers/db.ts';
import { eventually } from './helpers/receiver.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'hf_schedule_processes_bootstrap_key_01234';
const SECRET = Buffer.alloc(32, 9).toString('base64');

describe.skipIf(!usingPostgres)('a schedule with two processes on one PostgreSQL database', () => {
  let db: TestDatabase;
  const children: ChildProcess[] = [];
  const ports: number[] = [];

  const start = async (role: 'all' | 'worker') => {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(root, 'bin/hookflow.js'), 'start', '--role', role], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: path.join(db.dataDir, `p${children.length}`),
        DATABASE_URL: db.databaseUrl,
        LOG_LEVEL: 'warn',
        HOOKFLOW_BOOTSTRAP_KEY: KEY,
        HOOKFLOW_SECRET_KEY: SECRET,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    ports.push(port);
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      30_000,
      `hookflow (${role}) ready`,
    );
  };
  const stopAll = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise((resolve) => {
            if (c.exitCode !== null) return resolve(null);
            c.once('exit', resolve);
            c.kill('SIGTERM');
          }),
      ),
    );
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await db?.drop();
  });

  it('starts exactly one run per tick, with no tick missed', async () => {
    await start('all');
    await start('worker');
    const res = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/flows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Every second',
        nodes: [
          { id: 'schedule_1', type: 'schedule', config: { cron: '* * * * * *' } },
          { id: 'set_1', type: 'set', config: { values: { 'vars.at': '${Schedule.time}' } } },
        ],
        edges: [{ from: 'schedule_1', to: 'set_1' }],
      }),
    });
    expect(res.status).toBe(201);
    const flow = (await res.json()) as { id: string };
    const count = async () =>
      Number(
        (
          await sql<{ n: string }>`select count(*) as n from runs where flow_id = ${flow.id}`.execute(
            db.database.db,
          )
        ).rows[0].n,
      );
    await eventually(async () => (await count()) >= 6, 20_000, 'six ticks');
    await stopAll();

    const runs = (
      await sql<{ id: string; time: string; status: string; at: string | null }>`
        select id, trigger->'body'->>'time' as time, status, vars->>'at' as at
        from runs where flow_id = ${flow.id} order by time`.execute(db.database.db)
    ).rows;
    const ticks = (
      await sql<{ tick_at: Date; run_id: string }>`
        select tick_at, run_id from schedule_ticks where flow_id = ${flow.id} order by tick_at`.execute(
        db.database.db,
      )
    ).rows;
    expect(runs.length).toBeGreaterThanOrEqual(6);
    // One run per tick: as many runs as claimed ticks, each tick's run its own, no time twice.
    expect(new Set(runs.map((r) => r.time)).size).toBe(runs.length);
    expect(ticks.map((t) => t.run_id).sort()).toEqual(runs.map((r) => r.id).sort());
    expect(ticks.map((t) => t.tick_at.toISOString())).toEqual(runs.map((r) => r.time));
    // No second skipped between the first tick and the last.
    const seconds = runs.map((r) => Date.parse(r.time) / 1000);
    expect(seconds.at(-1)! - seconds[0] + 1).toBe(runs.length);
    // The runs ran (in either process), each reading its own tick.
    for (const r of runs.filter((x) => x.status === 'succeeded')) expect(r.at).toBe(r.time);
  }, 60_000);
});
