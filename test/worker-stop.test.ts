/**
 * A run worker asked to stop while every slot is taken by a run that hangs (an http node waiting
 * on a service that never answers) stops after its grace period and gives the leases back — it
 * does not wait for a free slot that never comes. (Slots are shared fairly, docs/api.md §4.4: of
 * 3 slots one tenant takes 2 and the last is kept for another tenant, so two tenants fill them.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundClient } from '../src/delivery/httpClient.ts';
import { createWebhookCaller } from '../src/delivery/webhookCall.ts';
import { RunWorker } from '../src/flows/worker.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

const quiet = { info() {}, warn() {}, error() {} };

describe('RunWorker.stop with every slot taken by hanging runs', () => {
  let t: TestApp;
  let hanging: Receiver;
  let client: OutboundClient;

  beforeAll(async () => {
    hanging = await startReceiver(() => {}); // never answers
    t = await startTestApp(); // api role: the runs wait for the worker made below
    client = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });
  });
  afterAll(async () => {
    await client?.close();
    await t?.close();
    await hanging?.close();
  });

  it('returns after the grace period with the leases released', async () => {
    const hangingFlow = async (key?: string) => {
      const flow = await t.api(
        'POST',
        '/api/v1/flows',
        {
          name: 'hangs',
          nodes: [
            { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
            {
              id: 'http_1',
              type: 'http',
              config: { method: 'POST', url: `${hanging.url}/x`, timeout_ms: 300_000 },
            },
          ],
          edges: [{ from: 'webhook_1', to: 'http_1' }],
        },
        key,
      );
      expect(flow.status, JSON.stringify(flow.body)).toBe(201);
      return flow.body.webhooks[0].url as string;
    };
    const tenant = await t.api('POST', '/api/v1/tenants', { name: 'second tenant' });
    const key = await t.api('POST', '/api/v1/api-keys', { name: 'second', tenant_id: tenant.body.id });
    const urls = [
      await hangingFlow(),
      await hangingFlow(),
      await hangingFlow(),
      await hangingFlow(key.body.key),
    ];
    for (const url of urls) expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(200);

    const database = t.db.database;
    const worker = new RunWorker({
      database,
      secretKey: t.secretKey,
      client,
      webhookCall: createWebhookCaller({ database, secretKey: t.secretKey, client }),
      log: quiet,
      maxInFlight: 3,
      pollMs: 50,
      leaseMs: 60_000,
    });
    await worker.start();
    await eventually(() => hanging.received.length === 3, 10_000, 'every slot taken by hanging calls');

    const started = Date.now();
    await worker.stop(500);
    expect(Date.now() - started).toBeLessThan(5_000);
    const held = await database.db
      .selectFrom('runs')
      .select('id')
      .where('locked_by', 'is not', null)
      .execute();
    expect(held).toEqual([]);
  });
});
