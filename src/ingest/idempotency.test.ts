import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.ts';
import { acceptIdempotent, purgeExpiredIdempotencyKeys } from './idempotency.ts';

describe('idempotency keys', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    await t.database.db
      .insertInto('flows')
      .values({
        tenant_id: 'default',
        id: 'flw_1',
        name: 'f',
        enabled: true,
        nodes: '[]',
        edges: '[]',
        settings: '{}',
      })
      .execute();
  });
  afterAll(async () => {
    await t.drop();
  });

  const run = (id: string) => ({
    tenantId: 'default',
    id,
    flowId: 'flw_1',
    triggerNodeId: 'webhook_1',
    trigger: '{}',
    rawBody: null,
  });
  const response = (body: string) => ({
    status: 200,
    headers: { 'content-type': 'text/plain' },
    body: Buffer.from(body),
  });

  it('replays the first answer within the window and stores one run', async () => {
    const a = await acceptIdempotent(t.database, {
      run: run('run_a'),
      key: 'k1',
      windowS: 60,
      response: response('first'),
    });
    const b = await acceptIdempotent(t.database, {
      run: run('run_b'),
      key: 'k1',
      windowS: 60,
      response: response('second'),
    });
    expect(a.replayed).toBe(false);
    expect(b).toMatchObject({
      replayed: true,
      response: { status: 200, headers: { 'content-type': 'text/plain' } },
    });
    expect(b.replayed && b.response.body.toString()).toBe('first');
    const runs = await t.database.db
      .selectFrom('runs')
      .select('id')
      .where('id', 'in', ['run_a', 'run_b'])
      .execute();
    expect(runs.map((r) => r.id)).toEqual(['run_a']);
  });

  it('accepts the key again once its window has passed, and purges expired keys', async () => {
    await acceptIdempotent(t.database, {
      run: run('run_c'),
      key: 'k2',
      windowS: 60,
      response: response('c'),
    });
    await sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = 'k2'`.execute(
      t.database.db,
    );
    const again = await acceptIdempotent(t.database, {
      run: run('run_d'),
      key: 'k2',
      windowS: 60,
      response: response('d'),
    });
    expect(again.replayed).toBe(false);
    await sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = 'k2'`.execute(
      t.database.db,
    );
    expect(await purgeExpiredIdempotencyKeys(t.database)).toBe(1);
    const left = await t.database.db
      .selectFrom('idempotency_keys')
      .select('key')
      .where('key', '=', 'k2')
      .execute();
    expect(left).toEqual([]);
  });
});
