/**
 * Shadow replay (docs/api.md §3.14), with a real app, worker, database and receivers: stored
 * requests run again against a version or the draft; http calls are answered from the original
 * run's recorded responses (a request it did not make gets `{status: 0, error: "not sent in
 * replay"}`); nothing goes out (no call, no delivery, no respond); the report compares each original
 * with its replay; replays are bounded per tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplayCoordinator } from '../src/replay/coordinator.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

const flowDoc = (receiverUrl: string, formula: string, extra: { body?: unknown } = {}) => ({
  name: 'Priced',
  nodes: [
    {
      id: 'webhook_1',
      type: 'webhook',
      config: { methods: ['POST'], response: { mode: 'flow', timeout_ms: 10_000 } },
    },
    {
      id: 'http_1',
      type: 'http',
      config: {
        method: 'POST',
        url: `${receiverUrl}/price`,
        body: extra.body ?? { sku: '${Webhook::Body.sku}' },
      },
    },
    { id: 'set_1', type: 'set', config: { values: { 'vars.total': formula } } },
    { id: 'emit_1', type: 'emit', config: { event_type: 'order.priced', data: { total: '${vars.total}' } } },
    { id: 'respond_1', type: 'respond', config: { status: 200, body: { total: '${vars.total}' } } },
  ],
  edges: [
    { from: 'webhook_1', to: 'http_1' },
    { from: 'http_1', to: 'set_1' },
    { from: 'set_1', to: 'emit_1' },
    { from: 'emit_1', to: 'respond_1' },
  ],
});

describe('shadow replay', () => {
  let t: TestApp;
  let api: Receiver;
  let sink: Receiver;
  let flowId: string;
  let hookUrl: string;
  const originals: string[] = [];

  beforeAll(async () => {
    // The priced API: the price is the sku's length times 10.
    api = await startReceiver((req, res) => {
      const sku = JSON.parse(req.body || '{}').sku ?? '';
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ price: String(sku).length * 10 }));
    });
    sink = await startReceiver();
    t = await startTestApp({
      worker: { leaseMs: 5000, pollMs: 50 },
      env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' },
    });
    const ep = await t.api('POST', '/api/v1/endpoints', {
      name: 'all',
      url: `${sink.url}/all`,
      events: ['*'],
    });
    expect(ep.status, ep.text).toBe(201);
    const f = await t.api('POST', '/api/v1/flows', flowDoc(api.url, '${steps.http_1.body.price}'));
    expect(f.status, f.text).toBe(201);
    flowId = f.body.id;
    hookUrl = f.body.webhooks[0].url.replace(/^https?:\/\/[^/]+/, t.url);
    for (const sku of ['a', 'bb', 'ccc']) {
      const res = await fetch(hookUrl, {
        method: 'POST',
        body: JSON.stringify({ sku }),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
      originals.push(res.headers.get('x-run-id') ?? '');
    }
    const runs = await eventually(
      async () => {
        const list = (await t.api('GET', `/api/v1/runs?flow_id=${flowId}`)).body.data;
        return list.length === 3 && list.every((r: any) => r.status === 'succeeded') ? list : undefined;
      },
      10_000,
      'the original runs',
    );
    originals.splice(0, 3, ...runs.map((r: any) => r.id).reverse());
    // Their events reached the sink (so a replay's would, were they not held back).
    await eventually(
      () => sink.received.filter((r) => r.body.includes('order.priced')).length === 3,
      10_000,
      'events',
    );
  });
  afterAll(async () => {
    await t?.close();
    await api?.close();
    await sink?.close();
  });

  const finished = (id: string) =>
    eventually(
      async () => {
        const r = (await t.api('GET', `/api/v1/replays/${id}`)).body;
        return r.status === 'done' ? r : undefined;
      },
      20_000,
      `replay ${id} to finish`,
    );
  const replay = async (body: unknown) => {
    const r = await t.api('POST', `/api/v1/flows/${flowId}/replays`, body);
    expect(r.status, r.text).toBe(202);
    return r.body as { id: string; status: string; total: number };
  };

  it('replays against the same version: every run the same, answered from the recorded responses', async () => {
    const calls = api.received.length;
    const started = await replay({ version: 1 });
    expect(started).toMatchObject({ status: 'running', total: 3 });
    const report = await finished(started.id);
    expect(report).toMatchObject({ total: 3, done: 3, same: 3, different: 0, failed: 0, version: 1 });
    expect(report.items.map((i: any) => i.run_id)).toEqual(originals);
    expect(report.items.every((i: any) => i.status === 'same' && i.differences.length === 0)).toBe(true);
    expect(report.items[1].original).toMatchObject({ status: 'succeeded', vars: { total: 20 } });
    expect(report.items[1].replay).toMatchObject({ status: 'succeeded', vars: { total: 20 } });
    expect(report.items[1].replay.response).toMatchObject({ status: 200 });
    // No call was made: the API got nothing more.
    expect(api.received.length).toBe(calls);
  });

  it('replays against the draft and lists the differing paths of each run', async () => {
    const draft = await t.api(
      'PUT',
      `/api/v1/flows/${flowId}/draft`,
      flowDoc(api.url, '${= steps.http_1.body.price + 1}'),
    );
    expect(draft.status, draft.text).toBe(200);
    const calls = api.received.length;
    const report = await finished((await replay({ version: 'draft' })).id);
    expect(report).toMatchObject({
      draft_revision: draft.body.revision,
      version: null,
      different: 3,
      same: 0,
    });
    const item = report.items[0];
    expect(item.status).toBe('different');
    expect(item.differences).toEqual(
      expect.arrayContaining([
        { path: 'vars.total', original: 10, replay: 11 },
        { path: 'response.body.total', original: 10, replay: 11 },
      ]),
    );
    expect(api.received.length).toBe(calls);
    // The replay runs are replay runs, listed by their replay; their events were held back.
    const runs = (await t.api('GET', `/api/v1/runs?replay_id=${report.id}`)).body.data;
    expect(runs).toHaveLength(3);
    expect(runs.every((r: any) => r.replay && !r.test && r.replay_id === report.id && r.draft_revision)).toBe(
      true,
    );
    const detail = (await t.api('GET', `/api/v1/runs/${item.replay_run_id}`)).body;
    expect(detail).toMatchObject({ replay: true, replay_of: item.run_id });
    await new Promise((r) => setTimeout(r, 300));
    for (const r of runs) expect(sink.received.some((x) => x.body.includes(r.id))).toBe(false);
    const held = await t.db.database.db
      .selectFrom('events')
      .select(['held', 'context'])
      .where('tenant_id', '=', 'default')
      .execute();
    const ofReplay = held.filter((e) => runs.some((r: any) => r.id === e.context.run_id));
    expect(ofReplay.length).toBeGreaterThan(0);
    expect(ofReplay.every((e) => e.held)).toBe(true);
    // Production runs are listed without them.
    const prod = (await t.api('GET', `/api/v1/runs?flow_id=${flowId}`)).body.data;
    expect(prod.map((r: any) => r.id).sort()).toEqual([...originals].sort());
  });

  it('answers a request the original did not make with status 0 "not sent in replay"', async () => {
    await t.api(
      'PUT',
      `/api/v1/flows/${flowId}/draft`,
      flowDoc(api.url, '${steps.http_1.body.price}', { body: { sku: '${Webhook::Body.sku}', v: 2 } }),
    );
    const calls = api.received.length;
    const report = await finished((await replay({ version: 'draft', run_ids: [originals[0]] })).id);
    expect(report).toMatchObject({ total: 1, failed: 1 });
    expect(report.items[0].replay.status).toBe('failed');
    expect(report.items[0].differences.map((d: any) => d.path)).toEqual(
      expect.arrayContaining(['status', 'error']),
    );
    const run = (await t.api('GET', `/api/v1/runs/${report.items[0].replay_run_id}`)).body;
    const http = run.nodes.find((n: any) => n.id === 'http_1');
    expect(http.output).toMatchObject({ status: 0, error: 'not sent in replay' });
    expect(api.received.length).toBe(calls);
  });

  it('refuses what cannot be replayed with a clear 4xx', async () => {
    const bad = async (body: unknown, status: number, code: string) => {
      const r = await t.api('POST', `/api/v1/flows/${flowId}/replays`, body);
      expect(r.status, r.text).toBe(status);
      expect(r.body.code).toBe(code);
      return r.body;
    };
    await bad({ version: 99 }, 404, 'not_found');
    await bad({ version: 1, limit: 1001 }, 400, 'invalid_request');
    await bad({}, 400, 'invalid_request');
    const unusable = await bad({ version: 1, run_ids: ['run_nope', originals[0]] }, 400, 'unusable_runs');
    expect(unusable.runs).toEqual([{ run_id: 'run_nope', reason: 'not a run of this flow' }]);
    await bad({ version: 1, since: '2020-01-01T00:00:00Z', until: '2020-01-02T00:00:00Z' }, 400, 'no_runs');
    await t.api('DELETE', `/api/v1/flows/${flowId}/draft`);
    await bad({ version: 'draft' }, 404, 'no_draft');
    expect((await t.api('POST', '/api/v1/flows/flw_nope/replays', { version: 1 })).status).toBe(404);
    expect((await t.api('GET', '/api/v1/replays/rpl_nope')).status).toBe(404);
    const list = (await t.api('GET', `/api/v1/flows/${flowId}/replays`)).body.data;
    expect(list.length).toBeGreaterThanOrEqual(3);
    expect(list[0]).toMatchObject({ flow_id: flowId, status: 'done' });
  });
});

describe('replay bounds', () => {
  let t: TestApp;
  beforeAll(async () => {
    // No worker: runs stay as they are, and the coordinator under test is the only one.
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps at most the window of replay runs of a tenant in flight, and at most 3 replays running', async () => {
    const f = await t.api('POST', '/api/v1/flows', {
      name: 'Bounded',
      nodes: [
        { id: 'webhook_1', type: 'webhook' },
        { id: 'set_1', type: 'set', config: { values: { 'vars.x': 1 } } },
      ],
      edges: [{ from: 'webhook_1', to: 'set_1' }],
    });
    const url = f.body.webhooks[0].url.replace(/^https?:\/\/[^/]+/, t.url);
    for (let i = 0; i < 6; i++) expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(200);
    // Ended, as a worker would have left them (this app has none).
    await t.db.database.db
      .updateTable('runs')
      .set({ status: 'succeeded', finished_at: new Date() })
      .execute();
    const coordinator = new ReplayCoordinator({ database: t.db.database, log: console, window: 2 });
    const a = (await t.api('POST', `/api/v1/flows/${f.body.id}/replays`, { version: 1 })).body;
    const b = (await t.api('POST', `/api/v1/flows/${f.body.id}/replays`, { version: 1 })).body;
    expect([a.total, b.total]).toEqual([6, 6]);
    await coordinator.step();
    await coordinator.step();
    const inFlight = await t.db.database.db
      .selectFrom('runs')
      .select(['replay_id'])
      .where('mode', '=', 'replay')
      .execute();
    expect(inFlight).toHaveLength(2);
    await t.api('POST', `/api/v1/flows/${f.body.id}/replays`, { version: 1 });
    const fourth = await t.api('POST', `/api/v1/flows/${f.body.id}/replays`, { version: 1 });
    expect(fourth.status).toBe(409);
    expect(fourth.body.code).toBe('too_many_replays');
  });
});

describe('replaying runs that slept and waited', () => {
  let t: TestApp;
  const clock = fakeClock();
  beforeAll(async () => {
    t = await startTestApp({ worker: { leaseMs: 5000, pollMs: 50 }, now: clock.now });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a delay does not sleep and a wait gets the call the original got, so the replay ends at once the same', async () => {
    const f = await t.api('POST', '/api/v1/flows', {
      name: 'Approvals',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
        { id: 'delay_1', type: 'delay', config: { ms: 3_600_000 } },
        { id: 'wait_1', type: 'wait', config: { timeout_ms: 86_400_000 } },
        {
          id: 'set_1',
          type: 'set',
          config: { values: { 'vars.approved': '${steps.wait_1.body.approved}' } },
        },
      ],
      edges: [
        { from: 'webhook_1', to: 'delay_1' },
        { from: 'delay_1', to: 'wait_1' },
        { from: 'wait_1', to: 'set_1' },
      ],
    });
    expect(f.status, f.text).toBe(201);
    const url = f.body.webhooks[0].url.replace(/^https?:\/\/[^/]+/, t.url);
    const res = await fetch(url, { method: 'POST', body: '{}' });
    const runId = ((await res.json()) as { run_id: string }).run_id;
    const get = async () => (await t.api('GET', `/api/v1/runs/${runId}`)).body;
    await eventually(async () => (await get()).nodes?.some((n: any) => n.id === 'delay_1'), 10_000, 'delay');
    clock.advance(3_600_001);
    const waiting = await eventually(
      async () => (await get()).nodes?.find((n: any) => n.id === 'wait_1' && n.status === 'waiting'),
      10_000,
      'the wait',
    );
    const resume = waiting.input.resume_url.replace(/^https?:\/\/[^/]+/, t.url);
    const called = await fetch(resume, {
      method: 'POST',
      body: '{"approved":true}',
      headers: { 'content-type': 'application/json' },
    });
    expect(called.status).toBe(200);
    const original = await eventually(
      async () => ((await get()).status === 'succeeded' ? get() : undefined),
      10_000,
      'the original to end',
    );
    expect(original.vars).toEqual({ approved: true });

    // The clock stands still from here: nothing in the replay may wait for it.
    const started = await t.api('POST', `/api/v1/flows/${f.body.id}/replays`, { version: 1 });
    expect(started.status, started.text).toBe(202);
    const report = await eventually(
      async () => {
        const r = (await t.api('GET', `/api/v1/replays/${started.body.id}`)).body;
        return r.status === 'done' ? r : undefined;
      },
      10_000,
      'the replay',
    );
    expect(report).toMatchObject({ same: 1, different: 0, failed: 0 });
    expect(report.items[0].replay.vars).toEqual({ approved: true });
  });
});
