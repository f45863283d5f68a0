import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

describe('delivering a run event to an endpoint', () => {
  let t: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestApp({
      worker: { pollMs: 100 },
      env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' },
    });
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('signs flow.completed with Standard Webhooks and the envelope of docs/api.md §5.5', async () => {
    const ep = await t.api('POST', '/api/v1/endpoints', {
      name: 'sink',
      url: `${receiver.url}/hook`,
      events: ['flow.completed'],
    });
    expect(ep.status, JSON.stringify(ep.body)).toBe(201);
    const f = await t.api('POST', '/api/v1/flows', {
      name: 'deliver',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: {} },
        { id: 'set_1', type: 'set', config: { values: { 'vars.n': '${Webhook::Body.n}' } } },
      ],
      edges: [{ from: 'webhook_1', to: 'set_1' }],
    });
    const ack = await (
      await fetch(f.body.webhooks[0].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"n":5}',
      })
    ).json();
    const got = await eventually(() => receiver.received.find((r) => r.body.includes(ack.run_id)));
    const payload = new Webhook(ep.body.signing_secret).verify(
      got.body,
      got.headers as Record<string, string>,
    ) as any;
    expect(payload).toMatchObject({
      event_type: 'flow.completed',
      current_context: { tenant_id: 'default', flow_id: f.body.id, run_id: ack.run_id },
      data: { run_id: ack.run_id, status: 'succeeded', vars: { n: 5 } },
    });
    expect(Date.parse(payload.event_time)).toBeGreaterThan(0);
    expect(got.headers['user-agent']).toMatch(/^Hookflow\//);
    expect(got.headers['content-type']).toBe('application/json');
    expect(receiver.received.filter((r) => r.body.includes(ack.run_id))).toHaveLength(1);
  });
});
