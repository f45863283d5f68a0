/**
 * Messages over real HTTP, a real database, real delivery workers and real receivers on 127.0.0.1
 * (docs/api.md §5.4–§5.9): POST /events fans out to subscribed endpoints; messages, deliveries and
 * attempts are readable; retries follow a short schedule to "failed"; a manual retry is tried once;
 * recover resends failed deliveries; the retention purge; tenant isolation and validation.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeDeliveredMessages } from '../src/delivery/messages.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

let t: TestApp;
const receivers: Receiver[] = [];

beforeAll(async () => {
  t = await startTestApp({
    worker: true,
    env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32', HOOKFLOW_RETRY_SCHEDULE: '0,0.2,0.2' },
  });
});
afterAll(async () => {
  await t?.close();
  for (const r of receivers) await r.close();
});

const ok = (_req: unknown, res: import('node:http').ServerResponse) => {
  res.setHeader('content-type', 'application/json');
  res.end('{"ok":true}');
};
const fail500 = (_req: unknown, res: import('node:http').ServerResponse) => {
  res.statusCode = 500;
  res.end('receiver is down');
};

async function receiver(handler: Receiver['handler'] = ok): Promise<Receiver> {
  const r = await startReceiver(handler);
  receivers.push(r);
  return r;
}

async function newTenant(name = 'Tenant'): Promise<{ tenantId: string; key: string }> {
  const tenant = await t.api('POST', '/api/v1/tenants', { name });
  expect(tenant.status).toBe(201);
  const key = await t.api('POST', '/api/v1/api-keys', { name: `${name} key`, tenant_id: tenant.body.id });
  expect(key.status).toBe(201);
  return { tenantId: tenant.body.id, key: key.body.key };
}

async function endpoint(key: string, url: string, events: string[], extra: Record<string, unknown> = {}) {
  const r = await t.api('POST', '/api/v1/endpoints', { name: 'Receiver', url, events, ...extra }, key);
  expect(r.status).toBe(201);
  return r.body.id as string;
}

async function publish(key: string, eventType: string, data: unknown = {}) {
  const r = await t.api('POST', '/api/v1/events', { event_type: eventType, data }, key);
  expect(r.status).toBe(202);
  return r.body as { id: string; event_type: string; created_at: string };
}

async function message(key: string, id: string) {
  const r = await t.api('GET', `/api/v1/messages/${id}`, undefined, key);
  expect(r.status).toBe(200);
  return r.body;
}

/** Waits until the delivery of `messageId` to `endpointId` has `status` (and `attempts`, if given). */
async function deliveryReaches(
  key: string,
  messageId: string,
  endpointId: string,
  status: string,
  attempts?: number,
) {
  return eventually(
    async () => {
      const m = await message(key, messageId);
      const d = m.deliveries.find((x: { endpoint_id: string }) => x.endpoint_id === endpointId);
      return d && d.status === status && (attempts === undefined || d.attempts === attempts) ? d : undefined;
    },
    15_000,
    `delivery ${messageId} → ${endpointId} ${status}${attempts === undefined ? '' : ` after ${attempts} attempts`}`,
  );
}

async function attempts(key: string, messageId: string) {
  const r = await t.api('GET', `/api/v1/messages/${messageId}/attempts`, undefined, key);
  expect(r.status).toBe(200);
  return r.body.data as any[];
}

const deliveryId = (messageId: string, endpointId: string) =>
  `dlv_${createHash('md5').update(`${messageId}:${endpointId}`).digest('hex').slice(0, 26)}`;

describe('publish and read messages', () => {
  let key: string;
  let tenantId: string;
  let orders: Receiver;
  let invoices: Receiver;
  let all: Receiver;
  let ordersEp: string;
  let invoicesEp: string;
  let allEp: string;

  beforeAll(async () => {
    ({ key, tenantId } = await newTenant('Publisher'));
    orders = await receiver();
    invoices = await receiver();
    all = await receiver();
    ordersEp = await endpoint(key, orders.url, ['order.created']);
    invoicesEp = await endpoint(key, invoices.url, ['invoice.paid']);
    allEp = await endpoint(key, all.url, ['*']);
  });

  it('delivers to subscribed endpoints and "*", not to others; messages, deliveries and attempts are readable', async () => {
    const ev = await publish(key, 'order.created', { order: { id: 'o-1', total: 42 } });
    expect(ev).toMatchObject({ id: expect.stringMatching(/^evt_/), event_type: 'order.created' });
    expect(Number.isNaN(Date.parse(ev.created_at))).toBe(false);

    await deliveryReaches(key, ev.id, ordersEp, 'delivered');
    await deliveryReaches(key, ev.id, allEp, 'delivered');
    const m = await message(key, ev.id);
    expect(m).toMatchObject({
      id: ev.id,
      event_type: 'order.created',
      created_at: ev.created_at,
      source: 'api',
      payload: {
        event_time: ev.created_at,
        event_type: 'order.created',
        current_context: { tenant_id: tenantId },
        data: { order: { id: 'o-1', total: 42 } },
      },
    });
    // The endpoint subscribed to another type has no delivery at all.
    expect(m.deliveries.map((d: { endpoint_id: string }) => d.endpoint_id).sort()).toEqual(
      [ordersEp, allEp].sort(),
    );
    const d = m.deliveries.find((x: { endpoint_id: string }) => x.endpoint_id === ordersEp);
    expect(d).toMatchObject({
      id: deliveryId(ev.id, ordersEp),
      status: 'delivered',
      attempts: 1,
      manual: false,
      next_attempt_at: null,
      last_response_status: 200,
      last_error: null,
    });
    expect(Number.isNaN(Date.parse(d.delivered_at))).toBe(false);

    // The receivers got the envelope, signed, with the message id as webhook-id.
    for (const r of [orders, all]) {
      const got = r.received.filter((x) => x.headers['webhook-id'] === ev.id);
      expect(got).toHaveLength(1);
      expect(JSON.parse(got[0].body)).toEqual(m.payload);
      expect(got[0].headers['webhook-signature']).toMatch(/^v1,/);
    }
    expect(invoices.received).toHaveLength(0);

    const list = await attempts(key, ev.id);
    expect(list).toHaveLength(2);
    for (const a of list)
      expect(a).toMatchObject({
        id: expect.stringMatching(/^att_/),
        status: 'succeeded',
        response_status: 200,
        response_body: '{"ok":true}',
        error: null,
        manual: false,
      });
    expect(list.map((a) => a.endpoint_id).sort()).toEqual([ordersEp, allEp].sort());
    expect(typeof list[0].duration_ms).toBe('number');
    const one = await t.api('GET', `/api/v1/messages/${ev.id}/attempts?endpoint_id=${allEp}`, undefined, key);
    expect(one.body.data.map((a: { endpoint_id: string }) => a.endpoint_id)).toEqual([allEp]);

    const listed = await t.api('GET', '/api/v1/messages', undefined, key);
    expect(listed.status).toBe(200);
    expect(listed.body.data.find((x: { id: string }) => x.id === ev.id)).toEqual({
      id: ev.id,
      event_type: 'order.created',
      created_at: ev.created_at,
      source: 'api',
      held: false,
      delivery_summary: { pending: 0, delivered: 2, failed: 0, cancelled: 0 },
    });
  });

  it('a message to "*" only: filters by event type and endpoint, newest first with a cursor', async () => {
    const inv = await publish(key, 'invoice.paid', { n: 1 });
    const other = await publish(key, 'shipment.sent', { n: 2 });
    await deliveryReaches(key, other.id, allEp, 'delivered');
    await deliveryReaches(key, inv.id, invoicesEp, 'delivered');
    expect(orders.received.some((x) => x.headers['webhook-id'] === other.id)).toBe(false);
    expect(orders.received.some((x) => x.headers['webhook-id'] === inv.id)).toBe(false);

    const byType = await t.api('GET', '/api/v1/messages?event_type=shipment.sent', undefined, key);
    expect(byType.body.data.map((x: { id: string }) => x.id)).toEqual([other.id]);
    const byEndpoint = await t.api('GET', `/api/v1/messages?endpoint_id=${invoicesEp}`, undefined, key);
    expect(byEndpoint.body.data.map((x: { id: string }) => x.id)).toEqual([inv.id]);
    const none = await t.api(
      'GET',
      `/api/v1/messages?endpoint_id=${ordersEp}&event_type=invoice.paid`,
      undefined,
      key,
    );
    expect(none.body).toEqual({ data: [], next_cursor: null });

    const all3 = (await t.api('GET', '/api/v1/messages', undefined, key)).body.data.map(
      (x: { id: string }) => x.id,
    );
    expect(all3.length).toBeGreaterThanOrEqual(3);
    expect([...all3].sort().reverse()).toEqual(all3);
    const page1 = await t.api('GET', '/api/v1/messages?limit=2', undefined, key);
    expect(page1.body.data.map((x: { id: string }) => x.id)).toEqual(all3.slice(0, 2));
    expect(page1.body.next_cursor).toBe(all3[1]);
    const page2 = await t.api(
      'GET',
      `/api/v1/messages?limit=2&cursor=${page1.body.next_cursor}`,
      undefined,
      key,
    );
    expect(page2.body.data.map((x: { id: string }) => x.id)).toEqual(all3.slice(2, 4));
  });

  it('lists the event-type catalog: builtin types and the custom ones used, sorted, once each', async () => {
    await publish(key, 'order.created');
    const r = await t.api('GET', '/api/v1/event-types', undefined, key);
    expect(r.status).toBe(200);
    const names = r.body.data.map((x: { name: string }) => x.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    for (const b of [
      'flow.completed',
      'flow.failed',
      'run.started',
      'webhook.received',
      'endpoint.disabled',
      'message.attempt.exhausted',
    ])
      expect(r.body.data).toContainEqual({ name: b, builtin: true });
    for (const c of ['order.created', 'invoice.paid', 'shipment.sent'])
      expect(r.body.data).toContainEqual({ name: c, builtin: false });

    // Another tenant sees the builtin types only.
    const other = await newTenant('Catalog');
    const theirs = await t.api('GET', '/api/v1/event-types', undefined, other.key);
    expect(theirs.body.data.every((x: { builtin: boolean }) => x.builtin)).toBe(true);
    expect(theirs.body.data).toHaveLength(6);
  });

  it('a manual retry sends a message to an endpoint that was not subscribed; 409 while a worker holds it', async () => {
    const ev = await publish(key, 'order.created', { n: 'again' });
    await deliveryReaches(key, ev.id, ordersEp, 'delivered');
    const r = await t.api('POST', `/api/v1/messages/${ev.id}/retry`, { endpoint_id: invoicesEp }, key);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({
      id: deliveryId(ev.id, invoicesEp),
      message_id: ev.id,
      endpoint_id: invoicesEp,
      status: 'pending',
      manual: true,
      attempts: 0,
    });
    await deliveryReaches(key, ev.id, invoicesEp, 'delivered', 1);
    expect(invoices.received.filter((x) => x.headers['webhook-id'] === ev.id)).toHaveLength(1);

    // A delivery under a worker's live lease cannot be retried.
    await t.db.database.pool.query(
      `update deliveries set locked_until = now() + interval '1 minute', locked_by = 'another worker' where id = $1`,
      [deliveryId(ev.id, ordersEp)],
    );
    const busy = await t.api('POST', `/api/v1/messages/${ev.id}/retry`, { endpoint_id: ordersEp }, key);
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('delivery_in_progress');
    // An expired lease does not block.
    await t.db.database.pool.query(
      `update deliveries set locked_until = now() - interval '1 second' where id = $1`,
      [deliveryId(ev.id, ordersEp)],
    );
    const again = await t.api('POST', `/api/v1/messages/${ev.id}/retry`, { endpoint_id: ordersEp }, key);
    expect(again.status).toBe(202);
    await deliveryReaches(key, ev.id, ordersEp, 'delivered', 2);
    expect(orders.received.filter((x) => x.headers['webhook-id'] === ev.id)).toHaveLength(2);
    const list = await attempts(key, ev.id);
    expect(list.filter((a) => a.endpoint_id === ordersEp).map((a) => a.manual)).toEqual([false, true]);
  });

  it('a retry of a delivery still on its automatic schedule moves it to now and keeps the schedule', async () => {
    const ev = await publish(key, 'order.created', { n: 'waiting' });
    await deliveryReaches(key, ev.id, ordersEp, 'delivered');
    // As if its first attempt had failed and the next one were an hour away.
    await t.db.database.pool.query(
      `update deliveries set status = 'pending', manual = false, next_attempt_at = now() + interval '1 hour',
         delivered_at = null where id = $1`,
      [deliveryId(ev.id, ordersEp)],
    );
    const r = await t.api('POST', `/api/v1/messages/${ev.id}/retry`, { endpoint_id: ordersEp }, key);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ status: 'pending', manual: false });
    expect(Date.parse(r.body.next_attempt_at)).toBeLessThan(Date.now() + 60_000);
    await deliveryReaches(key, ev.id, ordersEp, 'delivered', 2);
  });
});

describe('retries, manual retry, recover', () => {
  let key: string;
  let rcv: Receiver;
  let ep: string;
  let startedAt: string;
  let first: string;
  let second: string;

  beforeAll(async () => {
    ({ key } = await newTenant('Failing'));
    startedAt = new Date(Date.now() - 1000).toISOString();
    rcv = await receiver(fail500);
    ep = await endpoint(key, rcv.url, ['order.created']);
  });

  it('a receiver answering 500 gets the schedule (3 attempts), then the delivery is failed', async () => {
    first = (await publish(key, 'order.created', { n: 1 })).id;
    const d = await deliveryReaches(key, first, ep, 'failed', 3);
    expect(d).toMatchObject({
      next_attempt_at: null,
      last_response_status: 500,
      last_error: expect.stringContaining('500'),
      delivered_at: null,
      manual: false,
    });
    const list = await attempts(key, first);
    expect(list).toHaveLength(3);
    for (const a of list)
      expect(a).toMatchObject({
        endpoint_id: ep,
        status: 'failed',
        response_status: 500,
        response_body: 'receiver is down',
        manual: false,
      });
    expect(list.map((a) => a.id)).toEqual(list.map((a) => a.id).sort());
    expect(rcv.received.filter((x) => x.headers['webhook-id'] === first)).toHaveLength(3);
    // Every retry carries the same webhook-id.
    const listed = await t.api('GET', '/api/v1/messages?event_type=order.created', undefined, key);
    expect(listed.body.data[0].delivery_summary).toEqual({
      pending: 0,
      delivered: 0,
      failed: 1,
      cancelled: 0,
    });
    // The exhaustion is itself an event (a message) of the tenant.
    await eventually(async () => {
      const ex = await t.api('GET', '/api/v1/messages?event_type=message.attempt.exhausted', undefined, key);
      return ex.body.data.length === 1;
    });
  });

  it('a manual retry with the receiver fixed delivers it, marked manual', async () => {
    rcv.handler = ok;
    const r = await t.api('POST', `/api/v1/messages/${first}/retry`, { endpoint_id: ep }, key);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ id: deliveryId(first, ep), status: 'pending', manual: true, attempts: 3 });
    const d = await deliveryReaches(key, first, ep, 'delivered', 4);
    expect(d).toMatchObject({ last_response_status: 200, last_error: null, next_attempt_at: null });
    const list = await attempts(key, first);
    expect(list.map((a) => [a.status, a.manual])).toEqual([
      ['failed', false],
      ['failed', false],
      ['failed', false],
      ['succeeded', true],
    ]);
  });

  it('a manual retry that fails is not rescheduled', async () => {
    rcv.handler = fail500;
    second = (await publish(key, 'order.created', { n: 2 })).id;
    await deliveryReaches(key, second, ep, 'failed', 3);
    const r = await t.api('POST', `/api/v1/messages/${second}/retry`, { endpoint_id: ep }, key);
    expect(r.status).toBe(202);
    const d = await deliveryReaches(key, second, ep, 'failed', 4);
    // failed with no next attempt: nothing will claim it again
    expect(d).toMatchObject({ manual: true, next_attempt_at: null, last_response_status: 500 });
    const list = await attempts(key, second);
    expect(list.map((a) => a.manual)).toEqual([false, false, false, true]);
    const row = await t.db.database.pool.query(
      'select status, next_attempt_at from deliveries where id = $1',
      [deliveryId(second, ep)],
    );
    expect(row.rows[0]).toEqual({ status: 'failed', next_attempt_at: null });
  });

  it('recover resends the failed deliveries since a time, on a fresh schedule', async () => {
    rcv.handler = ok;
    const later = await t.api(
      'POST',
      `/api/v1/endpoints/${ep}/recover`,
      { since: new Date().toISOString() },
      key,
    );
    expect(later.status).toBe(202);
    expect(later.body).toEqual({ recovered: 0 });

    const r = await t.api('POST', `/api/v1/endpoints/${ep}/recover`, { since: startedAt }, key);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ recovered: 1 });
    const d = await deliveryReaches(key, second, ep, 'delivered', 1);
    expect(d.manual).toBe(false);
    const list = await attempts(key, second);
    expect(list.map((a) => [a.status, a.manual])).toEqual([
      ['failed', false],
      ['failed', false],
      ['failed', false],
      ['failed', true],
      ['succeeded', false],
    ]);
    // The delivered one was left alone.
    expect((await message(key, first)).deliveries[0]).toMatchObject({ status: 'delivered', attempts: 4 });
  });

  it('recover is refused for a disabled endpoint', async () => {
    const off = await endpoint(key, rcv.url, ['order.created'], { enabled: false });
    const r = await t.api('POST', `/api/v1/endpoints/${off}/recover`, { since: startedAt }, key);
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('endpoint_disabled');
  });
});

describe('retention', () => {
  it('purges old finished messages per tenant retention, keeps recent ones and pending deliveries', async () => {
    const a = await newTenant('Retention default');
    const b = await newTenant('Retention long');
    expect((await t.api('PATCH', '/api/v1/settings', { retention_days: 60 }, b.key)).status).toBe(200);
    const rcv = await receiver();
    const epA = await endpoint(a.key, rcv.url, ['*']);
    const epB = await endpoint(b.key, rcv.url, ['*']);

    const oldDone = await publish(a.key, 'order.created', { n: 'old' });
    const oldPending = await publish(a.key, 'order.created', { n: 'old, pending' });
    const recent = await publish(a.key, 'order.created', { n: 'recent' });
    const oldLong = await publish(b.key, 'order.created', { n: 'old, 60 days kept' });
    for (const [k, m, e] of [
      [a.key, oldDone.id, epA],
      [a.key, oldPending.id, epA],
      [a.key, recent.id, epA],
      [b.key, oldLong.id, epB],
    ])
      await deliveryReaches(k, m, e, 'delivered');

    const age = async (messageId: string, days: number) => {
      for (const table of ['events', 'deliveries', 'attempts'])
        await t.db.database.pool.query(
          `update ${table} set created_at = now() - make_interval(days => $2) where ${
            table === 'events' ? 'id' : 'message_id'
          } = $1`,
          [messageId, days],
        );
    };
    await age(oldDone.id, 40);
    await age(oldPending.id, 40);
    await age(oldLong.id, 40);
    await t.db.database.pool.query(
      `update deliveries set status = 'pending', next_attempt_at = now() + interval '1 day' where message_id = $1`,
      [oldPending.id],
    );

    let total = 0;
    for (
      let n = await purgeDeliveredMessages(t.db.database, 1);
      n > 0;
      n = await purgeDeliveredMessages(t.db.database, 1)
    )
      total += n;
    // oldDone: 1 attempt + 1 delivery + 1 event; oldPending: its 1 attempt.
    expect(total).toBe(4);

    const count = async (table: string, messageId: string) =>
      Number(
        (
          await t.db.database.pool.query(
            `select count(*)::int as n from ${table} where ${table === 'events' ? 'id' : 'message_id'} = $1`,
            [messageId],
          )
        ).rows[0].n,
      );
    for (const table of ['events', 'deliveries', 'attempts']) expect(await count(table, oldDone.id)).toBe(0);
    expect(await count('events', oldPending.id)).toBe(1);
    expect(await count('deliveries', oldPending.id)).toBe(1);
    expect(await count('attempts', oldPending.id)).toBe(0);
    for (const id of [recent.id, oldLong.id])
      for (const table of ['events', 'deliveries', 'attempts']) expect(await count(table, id)).toBe(1);

    expect((await t.api('GET', `/api/v1/messages/${oldDone.id}`, undefined, a.key)).status).toBe(404);
    expect((await t.api('GET', `/api/v1/messages/${recent.id}`, undefined, a.key)).status).toBe(200);
    expect(await purgeDeliveredMessages(t.db.database)).toBe(0);
  });
});

describe('the messages a run caused', () => {
  it('run_id lists the events of that run only, and another tenant sees none of them', async () => {
    const { key } = await newTenant('Runner');
    const other = await newTenant('Bystander');
    const rcv = await receiver();
    // Subscribed to everything, so the run also publishes webhook.received and run.started.
    const ep = await endpoint(key, rcv.url, ['*']);
    const flow = await t.api(
      'POST',
      '/api/v1/flows',
      {
        name: 'Run messages',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
        ],
        edges: [],
      },
      key,
    );
    expect(flow.status).toBe(201);
    const hook = flow.body.webhooks[0].url as string;
    const trigger = async () => {
      const r = await fetch(hook, {
        method: 'POST',
        body: '{"n":1}',
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).toBe(200);
      const runId = ((await r.json()) as { run_id: string }).run_id;
      await eventually(
        async () => (await t.api('GET', `/api/v1/runs/${runId}`, undefined, key)).body.status === 'succeeded',
        15_000,
        `run ${runId} succeeded`,
      );
      return runId;
    };
    const first = await trigger();
    const second = await trigger();
    const byRun = async (runId: string, k = key) => {
      const r = await t.api('GET', `/api/v1/messages?run_id=${runId}`, undefined, k);
      expect(r.status).toBe(200);
      return r.body.data as { id: string; event_type: string }[];
    };
    const mine = await byRun(first);
    expect(mine.map((m) => m.event_type).sort()).toEqual([
      'flow.completed',
      'run.started',
      'webhook.received',
    ]);
    for (const m of mine) expect((await message(key, m.id)).payload.current_context.run_id).toBe(first);
    const completed = mine.find((m) => m.event_type === 'flow.completed')!;
    await deliveryReaches(key, completed.id, ep, 'delivered');
    // The other run's messages are not among them; with other filters they combine.
    const theirsToo = await byRun(second);
    expect(theirsToo.some((m) => mine.some((x) => x.id === m.id))).toBe(false);
    const combined = await t.api(
      'GET',
      `/api/v1/messages?run_id=${first}&event_type=flow.completed&endpoint_id=${ep}`,
      undefined,
      key,
    );
    expect(combined.body.data.map((m: { id: string }) => m.id)).toEqual([completed.id]);
    expect(await byRun('run_nope')).toEqual([]);

    // Tenant isolation: another tenant's key sees none of this run's messages.
    expect(await byRun(first, other.key)).toEqual([]);
  });
});

describe('tenant isolation and validation', () => {
  let mine: { tenantId: string; key: string };
  let theirs: { tenantId: string; key: string };
  let msg: string;
  let myEp: string;
  let theirEp: string;

  beforeAll(async () => {
    mine = await newTenant('Mine');
    theirs = await newTenant('Theirs');
    const rcv = await receiver();
    myEp = await endpoint(mine.key, rcv.url, ['order.created']);
    theirEp = await endpoint(theirs.key, rcv.url, ['order.created']);
    msg = (await publish(mine.key, 'order.created', { secret: 'mine' })).id;
    await deliveryReaches(mine.key, msg, myEp, 'delivered');
  });

  it("another tenant's messages and endpoints are not found", async () => {
    for (const path of [`/api/v1/messages/${msg}`, `/api/v1/messages/${msg}/attempts`]) {
      const r = await t.api('GET', path, undefined, theirs.key);
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('not_found');
    }
    expect(
      (await t.api('POST', `/api/v1/messages/${msg}/retry`, { endpoint_id: theirEp }, theirs.key)).status,
    ).toBe(404);
    // My message to their endpoint: the endpoint is not found.
    const cross = await t.api('POST', `/api/v1/messages/${msg}/retry`, { endpoint_id: theirEp }, mine.key);
    expect(cross.status).toBe(404);
    expect(cross.body.msg).toMatch(/Endpoint/);
    const since = new Date(Date.now() - 60_000).toISOString();
    expect((await t.api('POST', `/api/v1/endpoints/${myEp}/recover`, { since }, theirs.key)).status).toBe(
      404,
    );
    const list = await t.api('GET', '/api/v1/messages', undefined, theirs.key);
    expect(list.body.data.some((x: { id: string }) => x.id === msg)).toBe(false);
    const filtered = await t.api('GET', `/api/v1/messages?endpoint_id=${myEp}`, undefined, theirs.key);
    expect(filtered.body.data).toEqual([]);
    // Unknown ids
    expect((await t.api('GET', '/api/v1/messages/evt_nope', undefined, mine.key)).status).toBe(404);
    expect(
      (await t.api('POST', '/api/v1/messages/evt_nope/retry', { endpoint_id: myEp }, mine.key)).status,
    ).toBe(404);
    expect(
      (await t.api('POST', `/api/v1/messages/${msg}/retry`, { endpoint_id: 'ep_nope' }, mine.key)).status,
    ).toBe(404);
    expect((await t.api('POST', '/api/v1/endpoints/ep_nope/recover', { since }, mine.key)).status).toBe(404);
    // No key at all
    expect((await t.api('GET', '/api/v1/messages', undefined, '')).status).toBe(401);
  });

  it('rejects invalid input with 400', async () => {
    const bad: [string, string, unknown?][] = [
      ['POST', '/api/v1/events', { event_type: 'has space', data: {} }],
      ['POST', '/api/v1/events', { event_type: '', data: {} }],
      ['POST', '/api/v1/events', { event_type: 'x'.repeat(201), data: {} }],
      ['POST', '/api/v1/events', { event_type: 'ordér', data: {} }],
      ['POST', '/api/v1/events', { data: {} }],
      ['POST', '/api/v1/events', { event_type: 'order.created', data: {}, extra: 1 }],
      ['POST', '/api/v1/events', 'not json'],
      ['GET', '/api/v1/messages?limit=0'],
      ['GET', '/api/v1/messages?limit=501'],
      ['GET', '/api/v1/messages?run_id='],
      ['GET', `/api/v1/messages?run_id=${'r'.repeat(101)}`],
      ['GET', `/api/v1/messages/${msg}/attempts?limit=abc`],
      ['POST', `/api/v1/messages/${msg}/retry`, {}],
      ['POST', `/api/v1/messages/${msg}/retry`, { endpoint_id: 7 }],
      ['POST', `/api/v1/endpoints/${myEp}/recover`, {}],
      ['POST', `/api/v1/endpoints/${myEp}/recover`, { since: 'yesterday' }],
      ['POST', `/api/v1/endpoints/${myEp}/recover`, { since: '2024-13-01T00:00:00Z' }],
      [
        'POST',
        `/api/v1/endpoints/${myEp}/recover`,
        { since: new Date(Date.now() + 3_600_000).toISOString() },
      ],
    ];
    for (const [method, path, body] of bad) {
      const r = await t.api(method, path, body, mine.key);
      expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(typeof r.body.msg).toBe('string');
    }
    for (const reserved of [
      'flow.completed',
      'flow.failed',
      'run.started',
      'webhook.received',
      'endpoint.disabled',
      'message.attempt.exhausted',
    ]) {
      const r = await t.api('POST', '/api/v1/events', { event_type: reserved, data: {} }, mine.key);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('reserved_event_type');
    }
    // Nothing above was stored.
    const list = await t.api('GET', '/api/v1/messages', undefined, mine.key);
    expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([msg]);
  });

  it('data may be any JSON value and defaults to {}', async () => {
    const r = await t.api('POST', '/api/v1/events', { event_type: 'ping_1' }, mine.key);
    expect(r.status).toBe(202);
    expect((await message(mine.key, r.body.id)).payload.data).toEqual({});
    const arr = await t.api('POST', '/api/v1/events', { event_type: 'ping-2', data: [1, 'two'] }, mine.key);
    expect((await message(mine.key, arr.body.id)).payload.data).toEqual([1, 'two']);
  });
});
