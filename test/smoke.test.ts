import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, webhookFlow } from './helpers/app.ts';

describe('accepting a webhook end to end', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('stores the request as a queued run before answering 200 with the run id', async () => {
    const flow = await t.api('POST', '/api/v1/flows', webhookFlow());
    expect(flow.status).toBe(201);
    const res = await fetch(flow.body.webhooks[0].url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ order: { id: 'A1' } }),
    });
    expect(res.status).toBe(200);
    const ack = await res.json();
    expect(ack).toMatchObject({ status: 'accepted', run_id: expect.stringMatching(/^run_/) });
    const run = await t.api('GET', `/api/v1/runs/${ack.run_id}`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      status: 'queued',
      flow_id: flow.body.id,
      trigger: { method: 'POST', body: { order: { id: 'A1' } } },
    });
  });
});
