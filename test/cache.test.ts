import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, webhookFlow } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';

/** Polls until fn() is true (NOTIFY is asynchronous); fails after `ms`. */
async function eventually(fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not reached in time');
}

describe('flow cache shared by two app instances on one database', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startTestApp({ db });
    b = await startTestApp({ db });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    await db.drop();
  });

  it('a flow changed through one instance is seen by the other instance without waiting for the TTL', async () => {
    const flow = await a.api('POST', '/api/v1/flows', webhookFlow());
    const hookOnB = `${b.url}/hooks/default/${flow.body.id}`;
    const post = () =>
      fetch(hookOnB, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect((await post()).status).toBe(200); // B's cache now holds the enabled flow

    await a.api('PATCH', `/api/v1/flows/${flow.body.id}`, { enabled: false });
    await eventually(async () => (await post()).status === 409);

    await a.api('PATCH', `/api/v1/flows/${flow.body.id}`, { enabled: true });
    await eventually(async () => (await post()).status === 200);

    await a.api('DELETE', `/api/v1/flows/${flow.body.id}`);
    await eventually(async () => (await post()).status === 404);
  });

  it('a flow created after an unknown-flow lookup is found at once (negative entries are invalidated too)', async () => {
    const missing = await fetch(`${b.url}/hooks/default/flw_does_not_exist_yet`, { method: 'POST' });
    expect(missing.status).toBe(404);
    const flow = await a.api('POST', '/api/v1/flows', webhookFlow());
    await eventually(
      async () =>
        (
          await fetch(`${b.url}/hooks/default/${flow.body.id}`, {
            method: 'POST',
            body: '{}',
            headers: { 'content-type': 'application/json' },
          })
        ).status === 200,
    );
  });
});
