/**
 * "Run now" (docs/api.md §3.1 `POST /api/v1/flows/:id/run`): a run as if a trigger had received
 * the given request — the API key authenticates it, the webhook's methods, required parameters and
 * parameter types are checked as on the inbound endpoint, and bad input is a 400 with no run row.
 * A real app with a run worker over a real database.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { eventually } from './helpers/receiver.ts';

describe('run now', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ worker: { pollMs: 50 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  type Flow = { id: string; webhooks: { node_id: string; url: string }[] };
  const create = async (doc: Record<string, unknown>, key?: string): Promise<Flow> => {
    const res = await t.api('POST', '/api/v1/flows', { name: 'Run now', edges: [], ...doc }, key);
    expect(res.status, res.text).toBe(201);
    return res.body;
  };
  const orders = (extra: Record<string, unknown> = {}) =>
    create({
      nodes: [
        {
          id: 'webhook_1',
          type: 'webhook',
          config: {
            methods: ['POST', 'PUT'],
            parameters: [
              { source: 'body', path: 'order.id', type: 'string', required: true },
              { source: 'query', path: 'page', type: 'string' },
            ],
            // Neither applies to a run started through the API.
            auth: { type: 'none' },
            response: { mode: 'flow', timeout_ms: 5000 },
          },
        },
        {
          id: 'set_1',
          type: 'set',
          config: {
            values: {
              'vars.order': '${Webhook::Body.order.id}',
              'vars.method': '${Webhook::Method}',
              'vars.source': "${Webhook::Headers['x-source']}",
              'vars.page': '${Webhook::Query.page}',
            },
          },
        },
      ],
      edges: [{ from: 'webhook_1', to: 'set_1' }],
      ...extra,
    });
  const runCount = async (flowId: string) => {
    const r = await sql<{ n: number }>`select count(*)::int as n from runs where flow_id = ${flowId}`.execute(
      t.db.database.db,
    );
    return r.rows[0].n;
  };
  const ended = (runId: string) =>
    eventually(
      async () => {
        const r = await t.api('GET', `/api/v1/runs/${runId}`);
        return ['succeeded', 'failed', 'cancelled'].includes(r.body.status) ? r.body : undefined;
      },
      10_000,
      `run ${runId} to end`,
    );

  it('answers 201 {run_id} and the run executes with the given request, marked as started by hand', async () => {
    const f = await orders();
    const res = await t.api('POST', `/api/v1/flows/${f.id}/run`, {
      method: 'put',
      headers: { 'X-Source': 'manual test' },
      query: { page: '2' },
      body: { order: { id: 'A-1' } },
    });
    expect(res.status, res.text).toBe(201);
    expect(Object.keys(res.body)).toEqual(['run_id']);
    expect(res.body.run_id).toMatch(/^run_/);
    const run = await ended(res.body.run_id);
    expect(run.status).toBe('succeeded');
    expect(run.trigger_node_id).toBe('webhook_1');
    expect(run.vars).toEqual({ order: 'A-1', method: 'PUT', source: 'manual test', page: '2' });
    expect(run.trigger).toMatchObject({
      method: 'PUT',
      path: `/hooks/default/${f.id}`,
      headers: { 'x-source': 'manual test', 'content-type': 'application/json' },
      query: { page: '2' },
      body: { order: { id: 'A-1' } },
      body_kind: 'json',
      content_type: 'application/json',
      ip: null,
      manual: true,
      api_key: { name: 'test admin' },
      size_bytes: JSON.stringify({ order: { id: 'A-1' } }).length,
    });
    expect(typeof run.trigger.received_at).toBe('string');
    const list = await t.api('GET', `/api/v1/runs?flow_id=${f.id}`);
    expect(list.body.data[0]).toMatchObject({ id: run.id, method: 'PUT', manual: true });
  });

  it('runs the first trigger by default with method POST, and a named trigger with its own path', async () => {
    const f = await create({
      nodes: [
        { id: 'set_0', type: 'set', config: { values: { 'vars.x': '1' } } },
        { id: 'webhook_1', type: 'webhook' },
        { id: 'webhook_2', type: 'webhook' },
      ],
    });
    const first = await t.api('POST', `/api/v1/flows/${f.id}/run`, { body: { a: 1 } });
    expect(first.status, first.text).toBe(201);
    const run1 = await ended(first.body.run_id);
    expect(run1.trigger_node_id).toBe('webhook_1');
    expect(run1.trigger).toMatchObject({ method: 'POST', body: { a: 1 } });

    const second = await t.api('POST', `/api/v1/flows/${f.id}/run`, { node_id: 'webhook_2' });
    expect(second.status, second.text).toBe(201);
    const run2 = await ended(second.body.run_id);
    expect(run2.trigger_node_id).toBe('webhook_2');
    // No body: as a request without one.
    expect(run2.trigger).toMatchObject({
      path: `/hooks/default/${f.id}/webhook_2`,
      body: null,
      body_kind: 'empty',
      size_bytes: 0,
      content_type: null,
    });
  });

  it('starts a run of a disabled flow (to try it before enabling it)', async () => {
    const f = await orders({ enabled: false });
    const res = await t.api('POST', `/api/v1/flows/${f.id}/run`, { body: { order: { id: 'B-2' } } });
    expect(res.status, res.text).toBe(201);
    expect((await ended(res.body.run_id)).status).toBe('succeeded');
  });

  it('refuses a missing required parameter with the inbound 400 and stores no run', async () => {
    const f = await orders();
    const res = await t.api('POST', `/api/v1/flows/${f.id}/run`, { body: { order: {} } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      msg: 'Missing required parameter(s)',
      code: 'missing_parameters',
      missing: ['body.order.id'],
    });
    // The same request to the webhook itself gets the same answer.
    const inbound = await fetch(`${t.url}/hooks/default/${f.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ order: {} }),
    });
    expect(inbound.status).toBe(400);
    expect(await inbound.json()).toEqual(res.body);
    expect(await runCount(f.id)).toBe(0);
  });

  it('refuses a parameter of the wrong type with invalid_parameters and stores no run', async () => {
    const f = await orders();
    const res = await t.api('POST', `/api/v1/flows/${f.id}/run`, { body: { order: { id: { n: 7 } } } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      code: 'invalid_parameters',
      invalid: [{ param: 'body.order.id', expected: 'string', got: 'object' }],
    });
    expect(await runCount(f.id)).toBe(0);
  });

  it('refuses a method the webhook does not accept, listing those it does', async () => {
    const f = await orders();
    const res = await t.api('POST', `/api/v1/flows/${f.id}/run`, {
      method: 'DELETE',
      body: { order: { id: 'A' } },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'method_not_allowed', field: 'method', allowed: ['POST', 'PUT'] });
    expect(res.body.msg).toContain('POST or PUT');
    expect(await runCount(f.id)).toBe(0);
  });

  it('answers 404 for an unknown flow and for a flow of another tenant, storing no run', async () => {
    expect((await t.api('POST', '/api/v1/flows/flw_nope/run', {})).body).toMatchObject({ code: 'not_found' });
    const tenant = await t.api('POST', '/api/v1/tenants', { name: 'Other' });
    const key = await t.api('POST', '/api/v1/api-keys', { name: 'other key', tenant_id: tenant.body.id });
    const theirs = await create({ nodes: [{ id: 'webhook_1', type: 'webhook' }] }, key.body.key);
    const res = await t.api('POST', `/api/v1/flows/${theirs.id}/run`, { body: {} });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
    expect(await runCount(theirs.id)).toBe(0);
    // Their own key runs it, and the run names that key.
    const own = await t.api('POST', `/api/v1/flows/${theirs.id}/run`, { body: {} }, key.body.key);
    expect(own.status, own.text).toBe(201);
    const run = await t.api('GET', `/api/v1/runs/${own.body.run_id}`, undefined, key.body.key);
    expect(run.body.trigger.api_key).toEqual({ id: key.body.id, name: 'other key' });
  });

  it('refuses a node_id that is not a trigger or not in the flow, naming node_id', async () => {
    const f = await orders();
    const notTrigger = await t.api('POST', `/api/v1/flows/${f.id}/run`, { node_id: 'set_1' });
    expect(notTrigger.status).toBe(400);
    expect(notTrigger.body).toMatchObject({ code: 'not_a_trigger', field: 'node_id' });
    expect(notTrigger.body.msg).toContain('node_id');
    expect(notTrigger.body.msg).toContain('webhook_1');
    const unknown = await t.api('POST', `/api/v1/flows/${f.id}/run`, { node_id: 'webhook_9' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'unknown_node', field: 'node_id' });
    expect(await runCount(f.id)).toBe(0);
  });

  it('refuses input of the wrong JSON types with 400 invalid_request naming the field', async () => {
    const f = await orders();
    const cases: [unknown, string][] = [
      [{ headers: { 'x-a': 1 } }, 'headers.x-a'],
      [{ headers: ['x'] }, 'headers'],
      [{ query: { page: 2 } }, 'query.page'],
      [{ query: 'page=2' }, 'query'],
      [{ method: 5 }, 'method'],
      [{ node_id: 1 }, 'node_id'],
      [{ bdy: {} }, 'body'],
      [[1, 2], 'body'],
    ];
    for (const [input, field] of cases) {
      const res = await t.api('POST', `/api/v1/flows/${f.id}/run`, input);
      expect(res.status, JSON.stringify(input)).toBe(400);
      expect(res.body.code, JSON.stringify(input)).toBe('invalid_request');
      expect(res.body.errors[0].field, JSON.stringify(input)).toBe(field);
    }
    const notJson = await t.api('POST', `/api/v1/flows/${f.id}/run`, '{"body":');
    expect(notJson.status).toBe(400);
    expect(notJson.body.code).toBe('invalid_json');
    const nul = await t.api('POST', `/api/v1/flows/${f.id}/run`, {
      query: { page: 'a\u0000b' },
      body: { order: { id: 'A' } },
    });
    expect(nul.status).toBe(400);
    expect(nul.body.code).toBe('invalid_query');
    expect(await runCount(f.id)).toBe(0);
  });

  it('runs a schedule trigger now with the tick it would get, method SCHEDULE', async () => {
    const f = await create({
      nodes: [
        { id: 'schedule_1', type: 'schedule', config: { cron: '0 0 1 1 *', timezone: 'Europe/Berlin' } },
        {
          id: 'set_1',
          type: 'set',
          config: { values: { 'vars.cron': '${Schedule.cron}', 'vars.time': '${Schedule.time}' } },
        },
      ],
      edges: [{ from: 'schedule_1', to: 'set_1' }],
    });
    const before = Date.now();
    const res = await t.api('POST', `/api/v1/flows/${f.id}/run`, {});
    expect(res.status, res.text).toBe(201);
    const run = await ended(res.body.run_id);
    expect(run.status).toBe('succeeded');
    expect(run.trigger_node_id).toBe('schedule_1');
    expect(run.trigger).toMatchObject({
      method: 'SCHEDULE',
      body: { cron: '0 0 1 1 *', timezone: 'Europe/Berlin' },
      manual: true,
      ip: null,
    });
    expect(Date.parse(run.trigger.body.time)).toBeGreaterThanOrEqual(before - 1000);
    expect(run.vars.cron).toBe('0 0 1 1 *');

    // A chosen time stands in for now; a webhook's method does not fit.
    const at = await t.api('POST', `/api/v1/flows/${f.id}/run`, {
      body: { time: '2030-01-01T00:00:00.000Z' },
    });
    expect(at.status, at.text).toBe(201);
    expect((await ended(at.body.run_id)).vars.time).toBe('2030-01-01T00:00:00.000Z');
    const post = await t.api('POST', `/api/v1/flows/${f.id}/run`, { method: 'POST' });
    expect(post.status).toBe(400);
    expect(post.body).toMatchObject({ code: 'method_not_allowed', allowed: ['SCHEDULE'] });
  });

  it('refuses a flow without a trigger', async () => {
    const f = await create({ nodes: [{ id: 'set_1', type: 'set', config: { values: {} } }] });
    const res = await t.api('POST', `/api/v1/flows/${f.id}/run`, {});
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('no_trigger');
  });

  it('is described in the OpenAPI document', async () => {
    const doc = await t.api('GET', '/api/openapi.json', undefined, '');
    const op = doc.body.paths['/api/v1/flows/{id}/run']?.post;
    expect(op).toBeTruthy();
    expect(op.responses['201']).toBeTruthy();
    expect(Object.keys(op.requestBody.content['application/json'].schema.properties)).toEqual([
      'node_id',
      'method',
      'headers',
      'query',
      'body',
    ]);
  });
});
