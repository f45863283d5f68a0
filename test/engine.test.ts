import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

/** A clock that runs with real time plus an offset the test can move forward. */
type Node = { id: string; type: string; config?: Record<string, unknown> };

function flow(
  nodes: Node[],
  edges: { from: string; to: string; when?: boolean | string }[],
  extra: Record<string, unknown> = {},
) {
  return { name: 'engine test', nodes, edges, ...extra };
}

const hook = (config: Record<string, unknown> = {}): Node => ({
  id: 'webhook_1',
  type: 'webhook',
  config: { methods: ['POST'], ...config },
});

describe('the flow engine', () => {
  let t: TestApp;
  let receiver: Receiver;
  const clock = fakeClock();

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestApp({
      worker: { leaseMs: 5000, pollMs: 100 },
      now: clock.now,
      env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' },
    });
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function create(doc: unknown) {
    const res = await t.api('POST', '/api/v1/flows', doc);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; webhooks: { url: string }[] };
  }
  async function send(url: string, body: unknown) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }
  async function runOf(ack: { text: string }) {
    const runId = JSON.parse(ack.text).run_id as string;
    return eventually(
      async () => {
        const r = await t.api('GET', `/api/v1/runs/${runId}`);
        return ['succeeded', 'failed', 'cancelled'].includes(r.body.status) ? r.body : undefined;
      },
      10_000,
      `run ${runId} to end`,
    );
  }
  const node = (run: any, id: string) => run.nodes.find((n: any) => n.id === id);

  it('set assigns flow keys and vars from the trigger, and the run records each node', async () => {
    const f = await create(
      flow(
        [
          hook(),
          {
            id: 'set_1',
            type: 'set',
            config: {
              values: { 'flow.key.order': '${Webhook::Body.order.id}', 'vars.qty': '${Webhook::Body.qty}' },
            },
          },
        ],
        [{ from: 'webhook_1', to: 'set_1' }],
      ),
    );
    const run = await runOf(await send(f.webhooks[0].url, { order: { id: 'A-7' }, qty: 3 }));
    expect(run.status).toBe('succeeded');
    expect(run.flow_key).toEqual({ order: 'A-7' });
    expect(run.vars).toEqual({ qty: 3 });
    expect(node(run, 'set_1')).toMatchObject({
      status: 'succeeded',
      output: { 'flow.key.order': 'A-7', 'vars.qty': 3 },
    });
    expect(node(run, 'set_1').started_at).toBeTruthy();
    expect(node(run, 'set_1').finished_at).toBeTruthy();
    expect(run.finished_at).toBeTruthy();
  });

  it('if takes the true or false edge and skips the other branch', async () => {
    const f = await create(
      flow(
        [
          hook(),
          { id: 'if_1', type: 'if', config: { condition: '${= Webhook::Body.qty > 10}' } },
          { id: 'set_big', type: 'set', config: { values: { 'vars.size': 'big' } } },
          { id: 'set_small', type: 'set', config: { values: { 'vars.size': 'small' } } },
        ],
        [
          { from: 'webhook_1', to: 'if_1' },
          { from: 'if_1', to: 'set_big', when: true },
          { from: 'if_1', to: 'set_small', when: false },
        ],
      ),
    );
    const big = await runOf(await send(f.webhooks[0].url, { qty: 50 }));
    expect(big.vars).toEqual({ size: 'big' });
    expect(node(big, 'set_small').status).toBe('skipped');
    const small = await runOf(await send(f.webhooks[0].url, { qty: 2 }));
    expect(small.vars).toEqual({ size: 'small' });
    expect(node(small, 'set_big').status).toBe('skipped');
  });

  it('switch follows the matching case, or default', async () => {
    const f = await create(
      flow(
        [
          hook(),
          { id: 'switch_1', type: 'switch', config: { value: '${Webhook::Body.kind}' } },
          { id: 'set_a', type: 'set', config: { values: { 'vars.route': 'orders' } } },
          { id: 'set_b', type: 'set', config: { values: { 'vars.route': 'refunds' } } },
          { id: 'set_d', type: 'set', config: { values: { 'vars.route': 'other' } } },
        ],
        [
          { from: 'webhook_1', to: 'switch_1' },
          { from: 'switch_1', to: 'set_a', when: 'order' },
          { from: 'switch_1', to: 'set_b', when: 'refund' },
          { from: 'switch_1', to: 'set_d', when: 'default' },
        ],
      ),
    );
    expect((await runOf(await send(f.webhooks[0].url, { kind: 'refund' }))).vars).toEqual({
      route: 'refunds',
    });
    expect((await runOf(await send(f.webhooks[0].url, { kind: 'order' }))).vars).toEqual({ route: 'orders' });
    expect((await runOf(await send(f.webhooks[0].url, { kind: 'zzz' }))).vars).toEqual({ route: 'other' });
  });

  it('transform evaluates JSONata over the run context into a var', async () => {
    const f = await create(
      flow(
        [
          hook(),
          {
            id: 'transform_1',
            type: 'transform',
            config: { expression: '$sum(Webhook::Body.items.price)', into: 'vars.total' },
          },
        ],
        [{ from: 'webhook_1', to: 'transform_1' }],
      ),
    );
    const run = await runOf(await send(f.webhooks[0].url, { items: [{ price: 2.5 }, { price: 4 }] }));
    expect(run.vars).toEqual({ total: 6.5 });
  });

  it('an expression error fails the node with a message naming the node and the expression', async () => {
    const f = await create(
      flow(
        [
          hook(),
          {
            id: 'transform_1',
            type: 'transform',
            config: { expression: '$number("abc") + $boom()', into: 'vars.x' },
          },
        ],
        [{ from: 'webhook_1', to: 'transform_1' }],
      ),
    );
    const run = await runOf(await send(f.webhooks[0].url, {}));
    expect(run.status).toBe('failed');
    expect(run.error).toContain('transform_1');
    expect(run.error).toContain('$boom()');
    expect(node(run, 'transform_1').status).toBe('failed');
  });

  it('http calls a receiver with templated url, headers and body; later nodes read steps.<id>', async () => {
    receiver.handler = (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: 'crm_42', got: JSON.parse(req.body || '{}') }));
    };
    const f = await create(
      flow(
        [
          hook(),
          {
            id: 'http_1',
            type: 'http',
            config: {
              method: 'POST',
              url: `${receiver.url}/customers/\${Webhook::Body.customer}`,
              headers: { 'x-order': '${Webhook::Body.order}' },
              body: { order: '${Webhook::Body.order}' },
            },
          },
          { id: 'set_1', type: 'set', config: { values: { 'vars.crm_id': '${steps.http_1.body.id}' } } },
        ],
        [
          { from: 'webhook_1', to: 'http_1' },
          { from: 'http_1', to: 'set_1' },
        ],
      ),
    );
    const before = receiver.received.length;
    const run = await runOf(await send(f.webhooks[0].url, { customer: 'c9', order: 'o1' }));
    expect(run.status, run.error).toBe('succeeded');
    const req = receiver.received[before];
    expect(req.url).toBe('/customers/c9');
    expect(req.headers['x-order']).toBe('o1');
    expect(JSON.parse(req.body)).toEqual({ order: 'o1' });
    expect(run.vars).toEqual({ crm_id: 'crm_42' });
    expect(node(run, 'http_1').output).toMatchObject({ status: 200, body: { id: 'crm_42' } });
  });

  it('http applies a stored credential (basic, api_key in the query) and keeps the secret out of the run', async () => {
    receiver.handler = (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    };
    const basic = await t.api('POST', '/api/v1/credentials', {
      name: 'crm basic',
      type: 'basic',
      data: { username: 'svc', password: 'p4ssw0rd-secret' },
    });
    const key = await t.api('POST', '/api/v1/credentials', {
      name: 'crm key',
      type: 'api_key',
      data: { in: 'query', name: 'token', value: 'k3y-secret-value' },
    });
    const f = await create(
      flow(
        [
          hook(),
          {
            id: 'http_1',
            type: 'http',
            config: { url: `${receiver.url}/basic`, credential_id: basic.body.id },
          },
          { id: 'http_2', type: 'http', config: { url: `${receiver.url}/key`, credential_id: key.body.id } },
        ],
        [
          { from: 'webhook_1', to: 'http_1' },
          { from: 'http_1', to: 'http_2' },
        ],
      ),
    );
    const before = receiver.received.length;
    const run = await runOf(await send(f.webhooks[0].url, {}));
    expect(run.status, run.error).toBe('succeeded');
    const [first, second] = receiver.received.slice(before);
    expect(first.headers.authorization).toBe(
      `Basic ${Buffer.from('svc:p4ssw0rd-secret').toString('base64')}`,
    );
    expect(second.url).toBe('/key?token=k3y-secret-value');
    const stored = JSON.stringify(run);
    expect(stored).not.toContain('p4ssw0rd-secret');
    expect(stored).not.toContain('k3y-secret-value');
    expect(node(run, 'http_1').input.headers.authorization).toBe('[redacted]');
  });

  it('http fails the run on a 5xx answer with the status in the error', async () => {
    receiver.handler = (_req, res) => {
      res.writeHead(503);
      res.end('down');
    };
    const f = await create(
      flow(
        [hook(), { id: 'http_1', type: 'http', config: { url: `${receiver.url}/x` } }],
        [{ from: 'webhook_1', to: 'http_1' }],
      ),
    );
    const run = await runOf(await send(f.webhooks[0].url, {}));
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/http_1.*503/);
  });

  it('webhook_call calls a configured endpoint, signed, and stores its answer in steps and a var', async () => {
    receiver.handler = (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ accepted: JSON.parse(req.body).method }));
    };
    const ep = await t.api('POST', '/api/v1/endpoints', {
      name: 'CRM',
      url: `${receiver.url}/rpc`,
      events: [],
    });
    expect(ep.status, JSON.stringify(ep.body)).toBe(201);
    const f = await create(
      flow(
        [
          hook(),
          {
            id: 'set_1',
            type: 'set',
            config: { values: { 'flow.key.customer': '${Webhook::Body.customer}', 'vars.note': 'vip' } },
          },
          {
            id: 'webhook_call_1',
            type: 'webhook_call',
            config: {
              endpoint_id: ep.body.id,
              method_name: 'customer.sync',
              params: ['call', 'flow.key', 'user.key'],
              body: { order: '${Webhook::Body.order}' },
              into: 'vars.reply',
            },
          },
        ],
        [
          { from: 'webhook_1', to: 'set_1' },
          { from: 'set_1', to: 'webhook_call_1' },
        ],
      ),
    );
    const before = receiver.received.length;
    const run = await runOf(await send(f.webhooks[0].url, { customer: 'c1', order: 'o9' }));
    expect(run.status, run.error).toBe('succeeded');
    const req = receiver.received[before];
    const { Webhook } = await import('standardwebhooks');
    const payload = new Webhook(ep.body.signing_secret).verify(
      req.body,
      req.headers as Record<string, string>,
    ) as any;
    expect(payload).toMatchObject({
      method: 'customer.sync',
      params: { call: { order: 'o9' }, 'flow.key': { customer: 'c1' }, 'user.key': { note: 'vip' } },
      run_id: run.id,
    });
    expect(node(run, 'webhook_call_1').output).toMatchObject({
      status: 200,
      body: { accepted: 'customer.sync' },
    });
    expect(run.vars.reply).toEqual({ accepted: 'customer.sync' });
  });

  it('emit writes an event row with its type and data, and the run end writes flow.completed', async () => {
    const f = await create(
      flow(
        [
          hook(),
          {
            id: 'emit_1',
            type: 'emit',
            config: { event_type: 'order.created', data: { id: '${Webhook::Body.id}' } },
          },
        ],
        [{ from: 'webhook_1', to: 'emit_1' }],
      ),
    );
    const run = await runOf(await send(f.webhooks[0].url, { id: 'ord_1' }));
    const events = await t.db.database.db
      .selectFrom('events')
      .selectAll()
      .where('context', '@>', JSON.stringify({ run_id: run.id }) as any)
      .execute();
    const types = events.map((e) => e.event_type).sort();
    expect(types).toEqual(['flow.completed', 'order.created']); // no endpoint takes the lifecycle events here
    expect(events.find((e) => e.event_type === 'order.created')!.data).toEqual({ id: 'ord_1' });
    const catalog = await t.db.database.db
      .selectFrom('event_types')
      .select('name')
      .where('tenant_id', '=', 'default')
      .execute();
    expect(catalog.map((c) => c.name)).toEqual(expect.arrayContaining(['order.created', 'flow.completed']));
  });

  it('writes webhook.received and run.started once an endpoint subscribes to them', async () => {
    const ep = await t.api('POST', '/api/v1/endpoints', {
      name: 'lifecycle',
      url: `${receiver.url}/lifecycle`,
      events: ['webhook.received', 'run.started'],
    });
    expect(ep.status).toBe(201);
    const f = await create(flow([hook()], []));
    const run = await runOf(await send(f.webhooks[0].url, { hello: 'world' }));
    const events = await t.db.database.db
      .selectFrom('events')
      .selectAll()
      .where('context', '@>', JSON.stringify({ run_id: run.id }) as any)
      .execute();
    expect(events.map((e) => e.event_type).sort()).toEqual([
      'flow.completed',
      'run.started',
      'webhook.received',
    ]);
    const received = events.find((e) => e.event_type === 'webhook.received')!.data as any;
    expect(received.request).toMatchObject({ method: 'POST', body: { hello: 'world' } });
    await t.api('PATCH', `/api/v1/endpoints/${ep.body.id}`, { enabled: false });
  });

  it('fail ends the run as failed with its message and writes flow.failed', async () => {
    const f = await create(
      flow(
        [hook(), { id: 'fail_1', type: 'fail', config: { message: 'bad order ${Webhook::Body.id}' } }],
        [{ from: 'webhook_1', to: 'fail_1' }],
      ),
    );
    const run = await runOf(await send(f.webhooks[0].url, { id: 'x1' }));
    expect(run.status).toBe('failed');
    expect(run.error).toBe('bad order x1');
    const ev = await t.db.database.db
      .selectFrom('events')
      .select('event_type')
      .where('context', '@>', JSON.stringify({ run_id: run.id }) as any)
      .execute();
    expect(ev.map((e) => e.event_type)).toEqual(['flow.failed']);
  });

  it('respond answers a flow-mode sender with values computed from the body', async () => {
    const f = await create(
      flow(
        [
          hook({ response: { mode: 'flow', timeout_ms: 10_000 } }),
          {
            id: 'transform_1',
            type: 'transform',
            config: { expression: '$sum(Webhook::Body.items.price)', into: 'vars.total' },
          },
          {
            id: 'respond_1',
            type: 'respond',
            config: {
              status: 201,
              headers: { 'x-run': '${run.id}' },
              body: { total: '${vars.total}', customer: '${Webhook::Body.customer}' },
            },
          },
        ],
        [
          { from: 'webhook_1', to: 'transform_1' },
          { from: 'transform_1', to: 'respond_1' },
        ],
      ),
    );
    const res = await send(f.webhooks[0].url, { customer: 'Ada', items: [{ price: 1 }, { price: 2 }] });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(JSON.parse(res.text)).toEqual({ total: 3, customer: 'Ada' });
    expect(res.headers.get('x-run')).toMatch(/^run_/);
  });

  it('flow mode falls back to 504 when the flow does not respond in time, and the run goes on', async () => {
    const f = await create(
      flow(
        [
          hook({ response: { mode: 'flow', timeout_ms: 300 } }),
          { id: 'delay_1', type: 'delay', config: { ms: 3_600_000 } },
          { id: 'respond_1', type: 'respond', config: { status: 200, body: 'late' } },
        ],
        [
          { from: 'webhook_1', to: 'delay_1' },
          { from: 'delay_1', to: 'respond_1' },
        ],
      ),
    );
    const res = await send(f.webhooks[0].url, {});
    expect(res.status).toBe(504);
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({
      msg: 'Flow did not respond in time',
      run_id: expect.stringMatching(/^run_/),
    });
    const run = await eventually(async () => {
      const r = await t.api('GET', `/api/v1/runs/${body.run_id}`);
      return node(r.body, 'delay_1')?.status === 'waiting' ? r.body : undefined;
    });
    expect(run.status).toBe('running');
    await t.api('POST', `/api/v1/runs/${body.run_id}/cancel`);
  });

  it('delay sleeps durably in the database and wakes when the (fake) clock passes its time', async () => {
    const f = await create(
      flow(
        [
          hook(),
          { id: 'delay_1', type: 'delay', config: { ms: 10 * 60_000 } },
          { id: 'set_1', type: 'set', config: { values: { 'vars.after': 'yes' } } },
        ],
        [
          { from: 'webhook_1', to: 'delay_1' },
          { from: 'delay_1', to: 'set_1' },
        ],
      ),
    );
    const ack = JSON.parse((await send(f.webhooks[0].url, {})).text);
    const sleeping = await eventually(async () => {
      const r = await t.api('GET', `/api/v1/runs/${ack.run_id}`);
      return node(r.body, 'delay_1')?.status === 'waiting' ? r.body : undefined;
    });
    expect(sleeping.status).toBe('running');
    const row = await t.db.database.db
      .selectFrom('runs')
      .select(['run_at', 'locked_by'])
      .where('id', '=', ack.run_id)
      .executeTakeFirstOrThrow();
    expect(row.locked_by).toBeNull(); // nobody holds it while it sleeps
    expect(row.run_at.getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
    // Still asleep a moment later.
    await new Promise((r) => setTimeout(r, 300));
    expect((await t.api('GET', `/api/v1/runs/${ack.run_id}`)).body.status).toBe('running');
    clock.advance(11 * 60_000);
    t.app.hookflow.worker!.poke();
    const done = await runOf({ text: JSON.stringify(ack) });
    expect(done.status).toBe('succeeded');
    expect(done.vars).toEqual({ after: 'yes' });
    expect(node(done, 'delay_1').status).toBe('succeeded');
  });

  it('a run past its flow timeout_ms of active time fails at its next node; time asleep in a delay does not count', async () => {
    let release: () => void = () => {};
    receiver.handler = async (_req, res) => {
      await new Promise<void>((r) => {
        release = r;
      });
      res.end('ok');
    };
    const f = await create(
      flow(
        [
          hook(),
          { id: 'delay_1', type: 'delay', config: { ms: 5 * 60_000 } },
          { id: 'http_1', type: 'http', config: { url: `${receiver.url}/slow` } },
          { id: 'set_1', type: 'set', config: { values: { 'vars.after': 'yes' } } },
        ],
        [
          { from: 'webhook_1', to: 'delay_1' },
          { from: 'delay_1', to: 'http_1' },
          { from: 'http_1', to: 'set_1' },
        ],
        { settings: { timeout_ms: 60_000 } },
      ),
    );
    const before = receiver.received.length;
    const ack = JSON.parse((await send(f.webhooks[0].url, {})).text);
    await eventually(
      async () =>
        node((await t.api('GET', `/api/v1/runs/${ack.run_id}`)).body, 'delay_1')?.status === 'waiting',
    );
    clock.advance(6 * 60_000); // asleep longer than timeout_ms: allowed
    t.app.hookflow.worker!.poke();
    await eventually(() => receiver.received.length > before, 10_000, 'http_1 called');
    clock.advance(2 * 60_000); // active (in http_1) longer than timeout_ms
    release();
    const run = await runOf({ text: JSON.stringify(ack) });
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/timeout of 60000 ms/);
    expect(node(run, 'delay_1').status).toBe('succeeded');
    expect(node(run, 'set_1')).toBeUndefined();
  });
});

describe('run control', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ worker: { leaseMs: 5000, pollMs: 100 } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('rerun starts a new run with the same trigger input', async () => {
    const f = await t.api('POST', '/api/v1/flows', {
      name: 'rerun',
      nodes: [hook(), { id: 'set_1', type: 'set', config: { values: { 'vars.v': '${Webhook::Body.v}' } } }],
      edges: [{ from: 'webhook_1', to: 'set_1' }],
    });
    const ack = await (
      await fetch(f.body.webhooks[0].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"v":7}',
      })
    ).json();
    await eventually(
      async () => (await t.api('GET', `/api/v1/runs/${ack.run_id}`)).body.status === 'succeeded',
    );
    const again = await t.api('POST', `/api/v1/runs/${ack.run_id}/rerun`);
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(ack.run_id);
    expect(again.body.rerun_of).toBe(ack.run_id);
    const done = await eventually(async () => {
      const r = await t.api('GET', `/api/v1/runs/${again.body.id}`);
      return r.body.status === 'succeeded' ? r.body : undefined;
    });
    expect(done.vars).toEqual({ v: 7 });
    expect((await t.api('POST', '/api/v1/runs/run_nope/rerun')).status).toBe(404);
  });

  it('cancel stops a sleeping run; cancelling a finished run is a 409', async () => {
    const f = await t.api('POST', '/api/v1/flows', {
      name: 'cancel',
      nodes: [
        hook(),
        { id: 'delay_1', type: 'delay', config: { ms: 3_600_000 } },
        { id: 'set_1', type: 'set', config: { values: { 'vars.x': 1 } } },
      ],
      edges: [
        { from: 'webhook_1', to: 'delay_1' },
        { from: 'delay_1', to: 'set_1' },
      ],
    });
    const ack = await (
      await fetch(f.body.webhooks[0].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
    ).json();
    await eventually(async () =>
      (await t.api('GET', `/api/v1/runs/${ack.run_id}`)).body.nodes?.some((n: any) => n.status === 'waiting'),
    );
    const c = await t.api('POST', `/api/v1/runs/${ack.run_id}/cancel`);
    expect(c.status).toBe(200);
    expect(c.body.status).toBe('cancelled');
    const again = await t.api('POST', `/api/v1/runs/${ack.run_id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('run_finished');
  });

  it('max_concurrency holds: never more runs of a flow in flight than the limit', async () => {
    const slow = await startReceiver(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 150));
      res.end('ok');
    });
    try {
      const t2 = await startTestApp({
        worker: { leaseMs: 5000, pollMs: 50 },
        env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' },
      });
      try {
        const f = await t2.api('POST', '/api/v1/flows', {
          name: 'limited',
          nodes: [hook(), { id: 'http_1', type: 'http', config: { url: `${slow.url}/` } }],
          edges: [{ from: 'webhook_1', to: 'http_1' }],
          settings: { max_concurrency: 2 },
        });
        const acks = await Promise.all(
          Array.from({ length: 8 }, async () =>
            (
              await fetch(f.body.webhooks[0].url, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: '{}',
              })
            ).json(),
          ),
        );
        await eventually(async () => {
          const r = await t2.api('GET', `/api/v1/runs?flow_id=${f.body.id}&status=succeeded`);
          return r.body.data.length === acks.length;
        }, 20_000);
        expect(slow.received.length).toBe(8);
        expect(slow.maxActive).toBeLessThanOrEqual(2);
        expect(slow.maxActive).toBeGreaterThanOrEqual(1);
      } finally {
        await t2.close();
      }
    } finally {
      await slow.close();
    }
  });
});

describe('the SSRF guard on http nodes', () => {
  it('refuses a call to a 127.0.0.1 receiver when HOOKFLOW_ALLOW_PRIVATE_TARGETS does not name it', async () => {
    const receiver = await startReceiver();
    const t = await startTestApp({ worker: { pollMs: 100 } });
    try {
      const f = await t.api('POST', '/api/v1/flows', {
        name: 'ssrf',
        nodes: [hook(), { id: 'http_1', type: 'http', config: { url: `${receiver.url}/internal` } }],
        edges: [{ from: 'webhook_1', to: 'http_1' }],
      });
      const ack = await (
        await fetch(f.body.webhooks[0].url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).json();
      const run = await eventually(async () => {
        const r = await t.api('GET', `/api/v1/runs/${ack.run_id}`);
        return r.body.status === 'failed' ? r.body : undefined;
      });
      expect(run.error).toMatch(/http_1.*Refused to connect to 127\.0\.0\.1: .*loopback/);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await t.close();
      await receiver.close();
    }
  });
});
