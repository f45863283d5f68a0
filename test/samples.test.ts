/**
 * Samples of webhook nodes (docs/api.md §3.9 "Samples"): the 3-minute listen window, capturing the next
 * request whatever it is, the fields derived from it (or from JSON / key-value pairs), and those
 * fields saved as required parameters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, webhookFlow } from './helpers/app.ts';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** A flow whose webhook requires body.order.id, with a set node after it. */
async function createFlow(webhookConfig: Record<string, unknown> = {}) {
  const base = webhookFlow({
    parameters: [{ source: 'body', path: 'order.id', type: 'string', required: true }],
    ...webhookConfig,
  });
  const res = await t.api('POST', '/api/v1/flows', {
    ...base,
    nodes: [
      ...base.nodes,
      { id: 'set_1', type: 'set', config: { values: { 'flow.key.order': '${Webhook::Body.order.id}' } } },
    ],
    edges: [{ from: 'webhook_1', to: 'set_1' }],
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; webhooks: { node_id: string; url: string }[]; [k: string]: any };
}

async function send(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const method = init.method ?? 'POST';
  const res = await fetch(url, {
    method,
    headers: init.body === undefined ? init.headers : { 'content-type': 'application/json', ...init.headers },
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, text, body };
}

async function runsOf(flowId: string): Promise<any[]> {
  const res = await t.api('GET', `/api/v1/runs?flow_id=${flowId}&limit=500`);
  expect(res.status).toBe(200);
  return res.body.data;
}

async function listen(flowId: string, nodeId = 'webhook_1') {
  return t.api('POST', `/api/v1/flows/${flowId}/nodes/${nodeId}/listen`);
}

describe('listening for a sample', () => {
  it('opens a window of about 180 seconds and returns its expiry and the URL', async () => {
    const flow = await createFlow();
    const before = Date.now();
    const res = await listen(flow.id);
    expect(res.status).toBe(200);
    const expires = Date.parse(res.body.expires_at);
    expect(Number.isNaN(expires)).toBe(false);
    expect(expires - before).toBeGreaterThan(175_000);
    expect(expires - Date.now()).toBeLessThan(185_000);
    expect(res.body.url).toBe(flow.webhooks[0].url);

    // While nothing was captured yet, the sample says it is listening.
    const sample = await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`);
    expect(sample.status).toBe(200);
    expect(sample.body).toMatchObject({ status: 'listening', request: null, fields: [] });
  });

  it('captures the next request even when it misses a required parameter, creating no run; the one after is handled normally', async () => {
    const flow = await createFlow();
    const url = flow.webhooks[0].url;
    // The hook is live (and cached) before the window opens.
    expect((await send(url, { body: { order: { id: 'before' } } })).status).toBe(200);
    expect(await runsOf(flow.id)).toHaveLength(1);

    expect((await listen(flow.id)).status).toBe(200);
    const captured = await send(url, { body: { note: 'no order here' } });
    expect(captured.status).toBe(200);
    expect(captured.body).toEqual({ status: 'sample captured' });
    expect(await runsOf(flow.id)).toHaveLength(1);

    const next = await send(url, { body: { note: 'no order here' } });
    expect(next.status).toBe(400);
    expect(next.body).toMatchObject({ msg: 'Missing required parameter(s)', missing: ['body.order.id'] });

    const accepted = await send(url, { body: { order: { id: 'after' } } });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'accepted', run_id: expect.stringMatching(/^run_/) });
    expect(await runsOf(flow.id)).toHaveLength(2);

    const sample = await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`);
    expect(sample.body.request.body).toEqual({ note: 'no order here' });
  });

  it('captures a GET too (when GET is not a trigger method), answering "sample captured" not the verification answer', async () => {
    const flow = await createFlow();
    const url = flow.webhooks[0].url;
    const plain = await send(`${url}?probe=1`, { method: 'GET' });
    expect(plain.status).toBe(200);
    expect(plain.body).toEqual({ status: 'ok' });

    expect((await listen(flow.id)).status).toBe(200);
    const captured = await send(`${url}?validationToken=abc&n=7`, { method: 'GET' });
    expect(captured.status).toBe(200);
    expect(captured.body).toEqual({ status: 'sample captured' });
    expect(await runsOf(flow.id)).toEqual([]);

    const sample = await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`);
    expect(sample.status).toBe(200);
    expect(sample.body.request).toMatchObject({ method: 'GET', query: { validationToken: 'abc', n: '7' } });
    // (jsonb storage does not keep key order, so the order of fields is not asserted)
    expect(sample.body.fields).toHaveLength(2);
    expect(sample.body.fields).toEqual(
      expect.arrayContaining([
        { source: 'query', path: 'validationToken', type: 'string', example: 'abc' },
        { source: 'query', path: 'n', type: 'string', example: '7' },
      ]),
    );

    // The window is used up: the next GET is the verification answer again.
    const after = await send(url, { method: 'GET' });
    expect(after.body).toEqual({ status: 'ok' });
  });

  it('captures a request with a method the webhook does not accept, and with a body that does not parse', async () => {
    const flow = await createFlow();
    expect((await listen(flow.id)).status).toBe(200);
    const res = await send(flow.webhooks[0].url, {
      method: 'DELETE',
      body: '{"broken": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'sample captured' });
    const sample = await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`);
    expect(sample.body.request.method).toBe('DELETE');
    expect(await runsOf(flow.id)).toEqual([]);
  });

  it('captures for a disabled flow too, so a sample can be taken before going live', async () => {
    const flow = await createFlow();
    expect((await t.api('PATCH', `/api/v1/flows/${flow.id}`, { enabled: false })).status).toBe(200);
    expect((await listen(flow.id)).status).toBe(200);
    const res = await send(flow.webhooks[0].url, { body: { order: { id: 'x' } } });
    expect(res.body).toEqual({ status: 'sample captured' });
    expect(await runsOf(flow.id)).toEqual([]);
    const next = await send(flow.webhooks[0].url, { body: { order: { id: 'x' } } });
    expect([404, 409]).toContain(next.status);
  });

  it('returns the captured request and the fields derived from it', async () => {
    const flow = await createFlow();
    expect((await listen(flow.id)).status).toBe(200);
    const payload = {
      order: { id: 'A-1001', total: 12.5, paid: true },
      items: [
        { sku: 'X1', price: 3 },
        { sku: 'X2', price: 4 },
      ],
      note: null,
    };
    const res = await send(`${flow.webhooks[0].url}?shop=acme`, {
      body: payload,
      headers: { 'x-shop-topic': 'orders/create' },
    });
    expect(res.body).toEqual({ status: 'sample captured' });

    const sample = await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`);
    expect(sample.status).toBe(200);
    expect(sample.body.request).toMatchObject({
      method: 'POST',
      query: { shop: 'acme' },
      body: payload,
      headers: expect.objectContaining({
        'x-shop-topic': 'orders/create',
        'content-type': 'application/json',
      }),
    });
    const fields = sample.body.fields as any[];
    for (const f of fields) expect(Object.keys(f).sort()).toEqual(['example', 'path', 'source', 'type']);
    expect(fields).toEqual(
      expect.arrayContaining([
        { source: 'body', path: 'order.id', type: 'string', example: 'A-1001' },
        { source: 'body', path: 'order.total', type: 'number', example: 12.5 },
        { source: 'body', path: 'order.paid', type: 'boolean', example: true },
        { source: 'body', path: 'items', type: 'array', example: payload.items },
        { source: 'body', path: 'items[0].sku', type: 'string', example: 'X1' },
        { source: 'body', path: 'items[0].price', type: 'integer', example: 3 },
        { source: 'body', path: 'note', type: 'null', example: null },
        { source: 'query', path: 'shop', type: 'string', example: 'acme' },
      ]),
    );
    // Only the first element of an array is described.
    expect(fields.find((f) => f.path.startsWith('items[1]'))).toBeUndefined();
  });

  it('answers 404 no_sample when nothing was ever captured', async () => {
    const flow = await createFlow();
    const res = await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'no_sample', msg: expect.any(String) });
  });

  it('listens on the second webhook node of a flow at its own URL only', async () => {
    const res = await t.api('POST', '/api/v1/flows', {
      name: 'Two hooks',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
        { id: 'webhook_2', type: 'webhook', config: { methods: ['POST'] } },
      ],
      edges: [],
    });
    const flow = res.body;
    const l = await listen(flow.id, 'webhook_2');
    expect(l.status).toBe(200);
    expect(l.body.url).toBe(`${flow.webhooks[0].url}/webhook_2`);

    const first = await send(flow.webhooks[0].url, { body: { to: 1 } });
    expect(first.body).toMatchObject({ status: 'accepted' });
    const second = await send(l.body.url, { body: { to: 2 } });
    expect(second.body).toEqual({ status: 'sample captured' });
    const sample = await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_2/sample`);
    expect(sample.body.request.body).toEqual({ to: 2 });
    expect((await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`)).status).toBe(404);
  });

  it('answers 400 for listening on a node that is not a webhook, and 404 for an unknown node or flow', async () => {
    const flow = await createFlow();
    const notHook = await listen(flow.id, 'set_1');
    expect(notHook.status).toBe(400);
    expect(notHook.body).toMatchObject({ code: 'not_a_webhook_node', msg: expect.any(String) });
    const unknown = await listen(flow.id, 'webhook_9');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'not_found', msg: expect.any(String) });
    const noFlow = await listen('flw_00000000000000000000000000');
    expect(noFlow.status).toBe(404);
    expect((await t.api('GET', `/api/v1/flows/${flow.id}/nodes/set_1/sample`)).status).toBe(400);
    expect((await t.api('POST', `/api/v1/flows/${flow.id}/nodes/set_1/sample`, { json: {} })).status).toBe(
      400,
    );
  });
});

describe('deriving fields without a request', () => {
  it('derives fields from JSON', async () => {
    const flow = await createFlow();
    const res = await t.api('POST', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`, {
      json: { order: { id: 'A1', lines: [{ qty: 2 }] }, 'hub.mode': 'subscribe' },
    });
    expect(res.status).toBe(200);
    expect(res.body.fields).toEqual([
      { source: 'body', path: 'order.id', type: 'string', example: 'A1' },
      { source: 'body', path: 'order.lines', type: 'array', example: [{ qty: 2 }] },
      { source: 'body', path: 'order.lines[0].qty', type: 'integer', example: 2 },
      { source: 'body', path: "['hub.mode']", type: 'string', example: 'subscribe' },
    ]);
    // It becomes the node's sample.
    const sample = await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`);
    expect(sample.body.request.body).toEqual({
      order: { id: 'A1', lines: [{ qty: 2 }] },
      'hub.mode': 'subscribe',
    });
    expect(sample.body.fields).toHaveLength(res.body.fields.length);
    expect(sample.body.fields).toEqual(expect.arrayContaining(res.body.fields));
  });

  it('derives fields from key-value pairs, reading "12" as an integer', async () => {
    const flow = await createFlow();
    const res = await t.api('POST', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`, {
      pairs: [
        { key: 'order.id', value: '12' },
        { key: 'order.note', value: 'gift' },
        { key: 'items[0].price', value: '9.5' },
        { key: 'paid', value: 'true' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.request.body).toEqual({
      order: { id: 12, note: 'gift' },
      items: [{ price: 9.5 }],
      paid: true,
    });
    expect(res.body.fields).toEqual(
      expect.arrayContaining([
        { source: 'body', path: 'order.id', type: 'integer', example: 12 },
        { source: 'body', path: 'order.note', type: 'string', example: 'gift' },
        { source: 'body', path: 'items[0].price', type: 'number', example: 9.5 },
        { source: 'body', path: 'paid', type: 'boolean', example: true },
      ]),
    );
  });

  it('rejects a body that is neither {json} nor {pairs}', async () => {
    const flow = await createFlow();
    for (const body of [{}, { pairs: 'a=1' }, { json: {}, pairs: [] }, { pairs: [{ key: 'a' }] }]) {
      const res = await t.api('POST', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_request', msg: expect.any(String) });
    }
  });

  it('saved as required parameters, derived fields make a request without them fail with 400 missing', async () => {
    const res = await t.api('POST', '/api/v1/flows', webhookFlow());
    const flow = res.body;
    const url = flow.webhooks[0].url;
    expect((await send(url, { body: {} })).status).toBe(200);

    const derived = await t.api('POST', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`, {
      pairs: [
        { key: 'order.id', value: '12' },
        { key: 'customer.email', value: 'a@example.com' },
      ],
    });
    const parameters = (derived.body.fields as any[]).map((f) => ({
      source: f.source,
      path: f.path,
      type: f.type,
      required: true,
    }));
    const current = (await t.api('GET', `/api/v1/flows/${flow.id}`)).body;
    current.nodes[0].config.parameters = parameters;
    const saved = await t.api('PUT', `/api/v1/flows/${flow.id}`, current);
    expect(saved.status).toBe(200);
    expect(saved.body.nodes[0].config.parameters).toEqual(parameters);

    const missingBoth = await send(url, { body: {} });
    expect(missingBoth.status).toBe(400);
    expect(missingBoth.body).toMatchObject({
      msg: 'Missing required parameter(s)',
      missing: ['body.order.id', 'body.customer.email'],
    });
    const missingOne = await send(url, { body: { customer: { email: 'b@example.com' } } });
    expect(missingOne.status).toBe(400);
    expect(missingOne.body.missing).toEqual(['body.order.id']);

    const wrongType = await send(url, {
      body: { order: { id: 'abc' }, customer: { email: 'b@example.com' } },
    });
    expect(wrongType.status).toBe(400);

    const ok = await send(url, { body: { order: { id: 13 }, customer: { email: 'b@example.com' } } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'accepted' });
    expect(await runsOf(flow.id)).toHaveLength(2);
  });
});

describe('full_body_parameter', () => {
  it('stores the raw body text in the run trigger when on, and not when off', async () => {
    const on = (await t.api('POST', '/api/v1/flows', webhookFlow({ full_body_parameter: true }))).body;
    const off = (await t.api('POST', '/api/v1/flows', webhookFlow())).body;
    const raw = '{ "order": {"id": "A1"},   "spacing": "kept" }';
    for (const [flow, expectRaw] of [
      [on, true],
      [off, false],
    ] as const) {
      const res = await send(flow.webhooks[0].url, { body: raw });
      expect(res.status).toBe(200);
      const run = await t.api('GET', `/api/v1/runs/${res.body.run_id}`);
      expect(run.status).toBe(200);
      expect(run.body.trigger.body).toEqual({ order: { id: 'A1' }, spacing: 'kept' });
      if (expectRaw) expect(run.body.trigger.raw_text).toBe(raw);
      else expect(run.body.trigger).not.toHaveProperty('raw_text');
    }
  });

  it('keeps a non-JSON body as text too', async () => {
    const flow = (await t.api('POST', '/api/v1/flows', webhookFlow({ full_body_parameter: true }))).body;
    const raw = 'a=1&b=two';
    const res = await send(flow.webhooks[0].url, {
      body: raw,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    const run = await t.api('GET', `/api/v1/runs/${res.body.run_id}`);
    expect(run.body.trigger.raw_text).toBe(raw);
    expect(run.body.trigger.body).toEqual({ a: '1', b: 'two' });
  });
});

describe('secrets in a captured sample', () => {
  async function credential(type: string, data: Record<string, unknown>) {
    const res = await t.api('POST', '/api/v1/credentials', { name: `${type} cred`, type, data });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  it('redacts the Basic Authorization header like a run does', async () => {
    const credentialId = await credential('basic', { username: 'shop', password: 'p4ssw0rd-sample' });
    const flow = (
      await t.api(
        'POST',
        '/api/v1/flows',
        webhookFlow({ auth: { type: 'basic', credential_id: credentialId } }),
      )
    ).body;
    expect((await listen(flow.id)).status).toBe(200);
    const authorization = `Basic ${Buffer.from('shop:p4ssw0rd-sample').toString('base64')}`;
    const res = await send(flow.webhooks[0].url, { body: { order: { id: 1 } }, headers: { authorization } });
    expect(res.body).toEqual({ status: 'sample captured' });
    const sample = await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`);
    expect(sample.status).toBe(200);
    expect(sample.body.request.headers.authorization).toBe('[redacted]');
    expect(sample.text).not.toContain(authorization.slice(6));
    expect(sample.body.request.body).toEqual({ order: { id: 1 } });
  });

  it('redacts an api_key query parameter, keeping the others', async () => {
    const credentialId = await credential('api_key', {
      in: 'query',
      name: 'token',
      value: 'sekrit-sample-token',
    });
    const flow = (
      await t.api(
        'POST',
        '/api/v1/flows',
        webhookFlow({ auth: { type: 'api_key', credential_id: credentialId } }),
      )
    ).body;
    expect((await listen(flow.id)).status).toBe(200);
    const res = await send(`${flow.webhooks[0].url}?token=sekrit-sample-token&shop=acme`, { body: {} });
    expect(res.body).toEqual({ status: 'sample captured' });
    const sample = await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`);
    expect(sample.body.request.query).toEqual({ token: '[redacted]', shop: 'acme' });
    expect(sample.text).not.toContain('sekrit-sample-token');
  });
});

describe('a sample whose body is plain text', () => {
  it('derives one whole-body field, which can be saved as a required parameter', async () => {
    const flow = (await t.api('POST', '/api/v1/flows', webhookFlow())).body;
    const url = flow.webhooks[0].url;
    expect((await listen(flow.id)).status).toBe(200);
    const captured = await send(url, {
      body: 'ping from the shop',
      headers: { 'content-type': 'text/plain' },
    });
    expect(captured.body).toEqual({ status: 'sample captured' });
    const sample = await t.api('GET', `/api/v1/flows/${flow.id}/nodes/webhook_1/sample`);
    expect(sample.body.request.body).toBe('ping from the shop');
    expect(sample.body.fields).toEqual([
      { source: 'body', path: '', type: 'string', example: 'ping from the shop' },
    ]);

    const current = (await t.api('GET', `/api/v1/flows/${flow.id}`)).body;
    current.nodes[0].config.parameters = sample.body.fields.map((f: any) => ({
      source: f.source,
      path: f.path,
      type: f.type,
      required: true,
    }));
    const saved = await t.api('PUT', `/api/v1/flows/${flow.id}`, current);
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);

    const empty = await send(url, { body: '', headers: { 'content-type': 'text/plain' } });
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ msg: 'Missing required parameter(s)', missing: ['body'] });
    const ok = await send(url, { body: 'another ping', headers: { 'content-type': 'text/plain' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'accepted' });
  });

  it('still refuses an empty parameter path for the query or headers', async () => {
    for (const source of ['query', 'headers']) {
      const res = await t.api(
        'POST',
        '/api/v1/flows',
        webhookFlow({ parameters: [{ source, path: '', required: true }] }),
      );
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_flow');
      expect(res.body.errors[0]).toMatchObject({
        node: 'webhook_1',
        field: expect.stringMatching(/^config\.parameters\.0/),
      });
    }
  });
});
