/**
 * Run retention (docs/api.md §6.2): finished runs older than the tenant's `run_retention_days`
 * (default 30, `null` keeps them) are purged in small batches, node records and all; queued and
 * running runs are never purged; each tenant's setting is its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeFinishedRuns } from '../src/flows/runsStore.ts';
import { startTestApp, type TestApp, webhookFlow } from './helpers/app.ts';
import { eventually } from './helpers/receiver.ts';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ worker: true });
});
afterAll(async () => {
  await t?.close();
});

async function newTenant(name: string): Promise<string> {
  const tenant = await t.api('POST', '/api/v1/tenants', { name });
  expect(tenant.status).toBe(201);
  const key = await t.api('POST', '/api/v1/api-keys', { name: `${name} key`, tenant_id: tenant.body.id });
  expect(key.status).toBe(201);
  return key.body.key as string;
}

/** `n` finished runs of a new flow of the tenant behind `key`. */
async function finishedRuns(key: string, n: number): Promise<string[]> {
  const flow = await t.api('POST', '/api/v1/flows', webhookFlow({ response: { mode: 'ack' } }), key);
  expect(flow.status).toBe(201);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(flow.body.webhooks[0].url, { method: 'POST', body: JSON.stringify({ i }) });
    expect(res.status).toBe(200);
    ids.push(((await res.json()) as { run_id: string }).run_id);
  }
  for (const id of ids)
    await eventually(
      async () => (await t.api('GET', `/api/v1/runs/${id}`, undefined, key)).body.status === 'succeeded',
      10_000,
      `run ${id} succeeded`,
    );
  return ids;
}

const finishedDaysAgo = (ids: string[], days: number) =>
  t.db.database.pool.query(
    `update runs set created_at = now() - make_interval(days => $2), finished_at = now() - make_interval(days => $2)
     where id = any($1)`,
    [ids, days],
  );

const exists = async (key: string, id: string) =>
  (await t.api('GET', `/api/v1/runs/${id}`, undefined, key)).status;

describe('run retention', () => {
  it('has a default of 30 days, accepts null to keep runs, and refuses anything but whole days', async () => {
    const key = await newTenant('Retention settings');
    expect((await t.api('GET', '/api/v1/settings', undefined, key)).body.run_retention_days).toBe(30);
    const kept = await t.api('PATCH', '/api/v1/settings', { run_retention_days: null }, key);
    expect(kept.status).toBe(200);
    expect(kept.body.run_retention_days).toBeNull();
    expect((await t.api('GET', '/api/v1/settings', undefined, key)).body.run_retention_days).toBeNull();
    for (const bad of [0, 1.5, 3651, '7', -1]) {
      const res = await t.api('PATCH', '/api/v1/settings', { run_retention_days: bad }, key);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_request');
    }
    // The refused writes changed nothing; PUT without the field is the default again.
    expect((await t.api('GET', '/api/v1/settings', undefined, key)).body.run_retention_days).toBeNull();
    expect(
      (await t.api('PUT', '/api/v1/settings', { run_retention_days: 7 }, key)).body.run_retention_days,
    ).toBe(7);
    expect((await t.api('PUT', '/api/v1/settings', {}, key)).body.run_retention_days).toBe(30);
  });

  it('purges finished runs past each tenant retention in small batches, keeping recent, unfinished and kept-for-good runs', async () => {
    const byDefault = await newTenant('Runs kept 30 days');
    const longer = await newTenant('Runs kept 60 days');
    const forever = await newTenant('Runs kept for good');
    expect((await t.api('PATCH', '/api/v1/settings', { run_retention_days: 60 }, longer)).status).toBe(200);
    expect((await t.api('PATCH', '/api/v1/settings', { run_retention_days: null }, forever)).status).toBe(
      200,
    );

    const [oldA, oldB, oldC, recent, oldRunning] = await finishedRuns(byDefault, 5);
    const [longerOld] = await finishedRuns(longer, 1);
    const [foreverOld] = await finishedRuns(forever, 1);
    await finishedDaysAgo([oldA, oldB, oldC, oldRunning, longerOld, foreverOld], 40);
    await finishedDaysAgo([recent], 29);
    // A run still going (say, waiting on a slow API) is never purged, however old it is.
    await t.db.database.pool.query(`update runs set status = 'running', finished_at = null where id = $1`, [
      oldRunning,
    ]);

    const batches: number[] = [];
    for (
      let n = await purgeFinishedRuns(t.db.database, 1);
      n > 0;
      n = await purgeFinishedRuns(t.db.database, 1)
    )
      batches.push(n);
    expect(batches).toEqual([1, 1, 1]);

    for (const id of [oldA, oldB, oldC]) expect(await exists(byDefault, id)).toBe(404);
    expect(await exists(byDefault, recent)).toBe(200);
    expect(await exists(byDefault, oldRunning)).toBe(200);
    expect(await exists(longer, longerOld)).toBe(200);
    expect(await exists(forever, foreverOld)).toBe(200);
    const { rows } = await t.db.database.pool.query(
      'select count(*)::int as n from runs where id = any($1)',
      [[oldA, oldB, oldC]],
    );
    expect(rows[0].n).toBe(0);

    // Past 60 days the longer tenant's run goes too; the kept-for-good one stays.
    await finishedDaysAgo([longerOld, foreverOld], 61);
    expect(await purgeFinishedRuns(t.db.database)).toBe(1);
    expect(await exists(longer, longerOld)).toBe(404);
    expect(await exists(forever, foreverOld)).toBe(200);
    await t.db.database.pool.query(
      `update runs set status = 'succeeded', finished_at = now() where id = $1`,
      [oldRunning],
    );
  });
});
