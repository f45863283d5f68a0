/**
 * The inbound endpoint `/hooks/{tenant_id}/{flow_id}[/{node_id}]` (docs/api.md §3.4–§3.7): every row of the
 * inbound table in order, body parsing, response modes, idempotency, durability and restart.
 * Real HTTP against a real app over a real database (PGlite, or PostgreSQL with TEST_DATABASE_URL).
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, webhookFlow } from './helpers/app.ts';

type HookResponse = {
  status: number;
  headers: Headers;
  text: string;
  json: any;
};

async function send(url: string, init: RequestInit = {}): Promise<HookResponse> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HookResponse> {
  return send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * A raw node:http POST. `chunked` streams `size` bytes with Transfer-Encoding: chunked and no
 * Content-Length; otherwise the body is sent with its Content-Length. The server may stop reading
 * and close the connection (413), so write errors after the response arrived are ignored.
 */
function rawPost(
  url: string,
  opts: { size: number; chunked: boolean; contentType?: string },
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'text/plain' };
    if (opts.chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(opts.size);
    const req = http.request({
      host: '127.0.0.1',
      port: Number(u.port),
      path: u.pathname + u.search,
      method: 'POST',
      headers,
      agent: false,
    });
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      );
      res.on('error', (err) => reject(err));
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < opts.size && !answered && !req.destroyed) {
        const n = Math.min(chunk.length, opts.size - sent);
        sent += n;
        const ok = req.write(n === chunk.length ? chunk : chunk.subarray(0, n));
        if (!ok) {
          req.once('drain', pump);
          return;
        }
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

describe('the inbound endpoint', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Creates a flow (as the admin of the default tenant unless `key` is given) and returns its view. */
  async function createFlow(
    config: Record<string, unknown> = {},
    extra: Record<string, unknown> = {},
    key?: string,
  ): Promise<any> {
    const res = await t.api('POST', '/api/v1/flows', webhookFlow(config, extra), key);
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  async function runsOf(flowId: string, key?: string): Promise<any[]> {
    const res = await t.api(
      'GET',
      `/api/v1/runs?flow_id=${encodeURIComponent(flowId)}&limit=500`,
      undefined,
      key,
    );
    expect(res.status, res.text).toBe(200);
    return res.body.data;
  }

  async function runCount(flowId: string, key?: string): Promise<number> {
    return (await runsOf(flowId, key)).length;
  }

  async function getRun(id: string): Promise<any> {
    const res = await t.api('GET', `/api/v1/runs/${id}`);
    expect(res.status, res.text).toBe(200);
    return res.body;
  }

  /** The process still accepts webhooks (after abuse). */
  async function expectStillAnswering(url: string): Promise<void> {
    const ok = await postJson(url, { still: 'alive' });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ status: 'accepted' });
  }

  describe('resolving the webhook (404)', () => {
    it('answers 404 "Webhook not found" for an unknown flow', async () => {
      const res = await postJson(`${t.url}/hooks/default/flow_doesnotexist`, { a: 1 });
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ msg: 'Webhook not found' });
    });

    it('answers 404 for a tenant that does not exist', async () => {
      const flow = await createFlow();
      const res = await postJson(`${t.url}/hooks/ten_nobody/${flow.id}`, { a: 1 });
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ msg: 'Webhook not found' });
      expect(await runCount(flow.id)).toBe(0);
    });

    it('answers 404 "Webhook not found" for a flow id too long to exist', async () => {
      const res = await postJson(`${t.url}/hooks/default/flw_${'x'.repeat(200)}`, { a: 1 });
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ msg: 'Webhook not found' });
    });

    it('answers a malformed %-escape or a NUL in the URL with a 400 in the error shape, not 500', async () => {
      for (const path of ['/hooks/default/%FF', '/hooks/default/%00', '/hooks/%00/flw_x']) {
        const res = await postJson(t.url + path, { a: 1 });
        expect(res.status, `${path}: ${res.text}`).toBe(400);
        expect(res.json).toEqual({ msg: expect.any(String), code: expect.any(String) });
      }
    });

    it('answers 404 for an unknown node id, and for a node that is not a webhook', async () => {
      const flow = await createFlow(
        {},
        {
          nodes: [
            { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
            { id: 'fail_1', type: 'fail', config: { message: 'no' } },
          ],
          edges: [{ from: 'webhook_1', to: 'fail_1' }],
        },
      );
      const unknown = await postJson(`${flow.webhooks[0].url}/webhook_9`, { a: 1 });
      expect(unknown.status).toBe(404);
      expect(unknown.json).toMatchObject({ msg: 'Webhook not found' });
      const notHook = await postJson(`${flow.webhooks[0].url}/fail_1`, { a: 1 });
      expect(notHook.status).toBe(404);
      expect(notHook.json).toMatchObject({ msg: 'Webhook not found' });
      expect(await runCount(flow.id)).toBe(0);
    });

    it('serves the first webhook node at the bare URL and a second one at /{node_id}', async () => {
      const flow = await createFlow(
        {},
        {
          nodes: [
            { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
            { id: 'webhook_2', type: 'webhook', position: { x: 0, y: 200 }, config: { methods: ['PUT'] } },
          ],
        },
      );
      expect(flow.webhooks).toEqual([
        { node_id: 'webhook_1', url: `${t.url}/hooks/default/${flow.id}` },
        { node_id: 'webhook_2', url: `${t.url}/hooks/default/${flow.id}/webhook_2` },
      ]);

      const first = await postJson(flow.webhooks[0].url, { n: 1 });
      expect(first.status).toBe(200);
      const second = await send(flow.webhooks[1].url, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ n: 2 }),
      });
      expect(second.status).toBe(200);
      expect((await getRun(first.json.run_id)).trigger_node_id).toBe('webhook_1');
      expect((await getRun(second.json.run_id)).trigger_node_id).toBe('webhook_2');

      // Each node keeps its own methods.
      const wrong = await postJson(flow.webhooks[1].url, { n: 3 });
      expect(wrong.status).toBe(405);
      expect(await runCount(flow.id)).toBe(2);
    });
  });

  describe('a disabled flow', () => {
    it('answers 409 flow_disabled and stores no run, and accepts again once re-enabled', async () => {
      const flow = await createFlow();
      const url = flow.webhooks[0].url;
      // Accepted once while enabled, so the hook is in the in-process cache.
      expect((await postJson(url, { n: 1 })).status).toBe(200);

      const patched = await t.api('PATCH', `/api/v1/flows/${flow.id}`, { enabled: false });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.body.enabled).toBe(false);

      const res = await postJson(url, { n: 2 });
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({ code: 'flow_disabled', msg: expect.stringMatching(/disabled/i) });
      expect(await runCount(flow.id)).toBe(1);

      expect((await t.api('PATCH', `/api/v1/flows/${flow.id}`, { enabled: true })).status).toBe(200);
      expect((await postJson(url, { n: 3 })).status).toBe(200);
      expect(await runCount(flow.id)).toBe(2);
    });

    it('is disabled from the start when created with enabled: false', async () => {
      const flow = await createFlow({}, { enabled: false });
      const res = await postJson(flow.webhooks[0].url, { n: 1 });
      expect(res.status).toBe(409);
      expect(res.json.code).toBe('flow_disabled');
      expect(await runCount(flow.id)).toBe(0);
    });
  });

  describe("the tenant's IP allowlist", () => {
    // A tenant of its own, so its allowlist cannot affect the other tests.
    let key: string;
    let tenantId: string;
    beforeAll(async () => {
      const tenant = await t.api('POST', '/api/v1/tenants', { name: 'Allowlist tenant' });
      expect(tenant.status, tenant.text).toBe(201);
      tenantId = tenant.body.id;
      const k = await t.api('POST', '/api/v1/api-keys', { name: 'allowlist key', tenant_id: tenantId });
      expect(k.status, k.text).toBe(201);
      key = k.body.key;
    });

    it('answers 403 with no run when 127.0.0.1 is not in the list, and 200 once it is', async () => {
      const flow = await createFlow({}, {}, key);
      const url = flow.webhooks[0].url;
      expect(url).toContain(`/hooks/${tenantId}/`);
      // No allowlist: everyone may send (and the tenant is now cached).
      expect((await postJson(url, { n: 1 })).status).toBe(200);

      const set = await t.api('PUT', '/api/v1/settings', { ip_allowlist: ['203.0.113.0/24'] }, key);
      expect(set.status, set.text).toBe(200);
      expect(set.body.ip_allowlist).toEqual(['203.0.113.0/24']);

      const denied = await postJson(url, { n: 2 });
      expect(denied.status).toBe(403);
      expect(denied.json).toMatchObject({ msg: expect.any(String) });
      expect(await runCount(flow.id, key)).toBe(1);

      // The allowlist is checked before the verification answer too.
      expect((await send(url)).status).toBe(403);

      expect((await t.api('PUT', '/api/v1/settings', { ip_allowlist: ['127.0.0.1/32'] }, key)).status).toBe(
        200,
      );
      const allowed = await postJson(url, { n: 3 });
      expect(allowed.status).toBe(200);
      expect(await runCount(flow.id, key)).toBe(2);
    });

    it('answers a disabled flow 409 before the allowlist, and the allowlist before verification and 405', async () => {
      const flow = await createFlow({}, {}, key);
      const url = flow.webhooks[0].url;
      expect((await t.api('PUT', '/api/v1/settings', { ip_allowlist: ['203.0.113.0/24'] }, key)).status).toBe(
        200,
      );
      try {
        expect((await send(url)).status).toBe(403); // GET → verification, but the allowlist comes first
        expect((await send(url, { method: 'PUT', body: '{}' })).status).toBe(403); // not 405
        expect((await t.api('PATCH', `/api/v1/flows/${flow.id}`, { enabled: false }, key)).status).toBe(200);
        const res = await postJson(url, { n: 1 });
        expect(res.status).toBe(409);
        expect(res.json.code).toBe('flow_disabled');
        expect(await runCount(flow.id, key)).toBe(0);
      } finally {
        expect((await t.api('PUT', '/api/v1/settings', { ip_allowlist: [] }, key)).status).toBe(200);
      }
    });

    it("does not apply one tenant's allowlist to another tenant's webhooks", async () => {
      expect((await t.api('PUT', '/api/v1/settings', { ip_allowlist: ['203.0.113.0/24'] }, key)).status).toBe(
        200,
      );
      const other = await createFlow();
      expect((await postJson(other.webhooks[0].url, { n: 1 })).status).toBe(200);
      expect((await t.api('PUT', '/api/v1/settings', { ip_allowlist: [] }, key)).status).toBe(200);
    });
  });

  describe('GET when GET is not a trigger method (verification)', () => {
    it('answers the default 200 {"status":"ok"} and stores no run', async () => {
      const flow = await createFlow();
      const res = await send(flow.webhooks[0].url);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ status: 'ok' });
      expect(await runCount(flow.id)).toBe(0);
    });

    it('echoes a templated validation token as text/plain', async () => {
      const flow = await createFlow({
        verification: { status: 200, content_type: 'text/plain', body: '${Webhook::Query.validationToken}' },
      });
      const res = await send(`${flow.webhooks[0].url}?validationToken=tok-123%20abc`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.text).toBe('tok-123 abc');
      expect(await runCount(flow.id)).toBe(0);
    });

    it('answers with templated verification headers even when the query holds odd characters', async () => {
      const flow = await createFlow({
        verification: {
          status: 200,
          content_type: 'text/plain',
          headers: { 'X-Token': '${Webhook::Query.t}' },
          body: '${Webhook::Query.t}',
        },
      });
      for (const [q, header] of [
        ['%E6%97%A5', '日'],
        ['x%01y', 'x y'],
        ['ok', 'ok'],
      ]) {
        const res = await send(`${flow.webhooks[0].url}?t=${q}`);
        expect(res.status, `${q}: ${res.text}`).toBe(200);
        expect(res.text).toBe(decodeURIComponent(q));
        expect(Buffer.from(res.headers.get('x-token') ?? '', 'latin1').toString('utf8')).toBe(header);
      }
      expect(await runCount(flow.id)).toBe(0);
    });

    it("echoes Meta's hub.challenge (a query key containing a dot)", async () => {
      const flow = await createFlow({
        verification: { status: 200, content_type: 'text/plain', body: "${Webhook::Query['hub.challenge']}" },
      });
      const res = await send(
        `${flow.webhooks[0].url}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock`,
      );
      expect(res.status).toBe(200);
      expect(res.text).toBe('1158201444');
      expect(await runCount(flow.id)).toBe(0);
    });

    it('treats GET as a trigger when GET is among the methods', async () => {
      const flow = await createFlow({ methods: ['GET', 'POST'] });
      const res = await send(`${flow.webhooks[0].url}?shop=s1`);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ status: 'accepted', run_id: expect.stringMatching(/^run_/) });
      const run = await getRun(res.json.run_id);
      expect(run.trigger).toMatchObject({ method: 'GET', query: { shop: 's1' } });
    });
  });

  describe('a method that is not allowed', () => {
    it('answers 405 with an Allow header listing the allowed methods, and stores no run', async () => {
      const flow = await createFlow({ methods: ['POST', 'PATCH'] });
      for (const method of ['PUT', 'DELETE']) {
        const res = await send(flow.webhooks[0].url, {
          method,
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(res.status).toBe(405);
        const allow = (res.headers.get('allow') ?? '').split(',').map((s) => s.trim());
        expect(allow).toEqual(expect.arrayContaining(['POST', 'PATCH']));
        expect(allow).not.toContain(method);
      }
      expect(await runCount(flow.id)).toBe(0);
    });
  });

  describe('a body over the limit (413)', () => {
    it('refuses a body whose Content-Length is over the default 1 MiB, with no run', async () => {
      const flow = await createFlow();
      const res = await rawPost(flow.webhooks[0].url, { size: 1024 * 1024 + 1, chunked: false });
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'body_too_large' });
      expect(await runCount(flow.id)).toBe(0);
      await expectStillAnswering(flow.webhooks[0].url);
    });

    it('refuses a chunked body without Content-Length once it passes 1 MiB, with no run', async () => {
      const flow = await createFlow();
      const res = await rawPost(flow.webhooks[0].url, { size: 2 * 1024 * 1024, chunked: true });
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'body_too_large' });
      expect(await runCount(flow.id)).toBe(0);
      await expectStillAnswering(flow.webhooks[0].url);
    });

    it('accepts a body just under the default limit', async () => {
      const flow = await createFlow();
      const res = await rawPost(flow.webhooks[0].url, { size: 1024 * 1024 - 16, chunked: true });
      expect(res.status).toBe(200);
      expect(await runCount(flow.id)).toBe(1);
    });

    it('accepts a body above 1 MiB when the node raises max_body_bytes', async () => {
      const flow = await createFlow({ max_body_bytes: 3 * 1024 * 1024 });
      const chunked = await rawPost(flow.webhooks[0].url, { size: 2 * 1024 * 1024, chunked: true });
      expect(chunked.status, chunked.body).toBe(200);
      const declared = await rawPost(flow.webhooks[0].url, { size: 2 * 1024 * 1024, chunked: false });
      expect(declared.status, declared.body).toBe(200);
      expect(await runCount(flow.id)).toBe(2);
    });

    it('applies a lower per-node max_body_bytes, with and without Content-Length', async () => {
      const flow = await createFlow({ max_body_bytes: 1000 });
      const url = flow.webhooks[0].url;
      const big = 'x'.repeat(1001);
      const declared = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: big,
      });
      expect(declared.status).toBe(413);
      expect(declared.json).toMatchObject({ code: 'body_too_large', limit_bytes: 1000 });
      const chunked = await rawPost(url, { size: 5000, chunked: true });
      expect(chunked.status).toBe(413);
      expect(await runCount(flow.id)).toBe(0);

      const fits = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'x'.repeat(1000),
      });
      expect(fits.status).toBe(200);
      expect(await runCount(flow.id)).toBe(1);
    });
  });

  describe('a body that cannot be parsed (400)', () => {
    let flow: any;
    let url: string;
    beforeAll(async () => {
      flow = await createFlow();
      url = flow.webhooks[0].url;
    });

    it('refuses malformed JSON with invalid_json', async () => {
      const res = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a": 1,',
      });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: 'invalid_json', msg: expect.any(String) });
    });

    it('refuses JSON with invalid UTF-8 bytes with invalid_utf8', async () => {
      const bytes = Buffer.concat([
        Buffer.from('{"name":"'),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('"}'),
      ]);
      const res = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Uint8Array(bytes),
      });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: 'invalid_utf8' });
    });

    it('refuses 10,000-deep nested JSON with body_too_deep', async () => {
      const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
      const res = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: deep,
      });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: 'body_too_deep' });
      const deepObj = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
      const res2 = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: deepObj,
      });
      expect(res2.status).toBe(400);
      expect(res2.json).toMatchObject({ code: 'body_too_deep' });
    });

    it('answers 400, not 500, for a JSON string holding \\u0000', async () => {
      const res = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"note":"a\\u0000b"}',
      });
      expect(res.status).toBe(400);
      expect(res.json.code).toEqual(expect.any(String));
    });

    it('does not answer 500 for a query string with invalid percent-encoded UTF-8', async () => {
      const other = await createFlow();
      for (const q of ['a=%ED%A0%80', 'a=%FF', 'a=%E0%A4%A', '%ZZ=1']) {
        const res = await postJson(`${other.webhooks[0].url}?${q}`, { a: 1 });
        expect([200, 400], `${q}: ${res.text}`).toContain(res.status);
        // Accepted: the undecodable text is kept as it was sent.
        if (res.status === 200)
          expect(JSON.stringify((await getRun(res.json.run_id)).trigger.query)).toBe(
            JSON.stringify(Object.fromEntries([q.split('=')])),
          );
      }
    });

    it('answers 400 for text that cannot be stored in forms, XML and JSON keys', async () => {
      const cases: [string, string][] = [
        ['application/x-www-form-urlencoded', 'a=%00'],
        ['application/xml', '<a>\u0000</a>'],
        ['application/json', '{"a\\u0000":1}'],
        ['application/json', '{"a":"\\ud800"}'],
        ['text/plain; charset=klingon', 'x'],
      ];
      for (const [ct, body] of cases) {
        const res = await send(url, { method: 'POST', headers: { 'content-type': ct }, body });
        expect(res.status, `${ct} ${body}: ${res.text}`).toBe(400);
      }
    });

    it('answers 400, not 500, for a query string with %00', async () => {
      const res = await postJson(`${url}?shop=a%00b`, { a: 1 });
      expect(res.status).toBe(400);
      expect(res.json.code).toEqual(expect.any(String));
    });

    it('refuses a multipart body without a boundary', async () => {
      const res = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data' },
        body: 'x=1',
      });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('invalid_multipart');
    });

    it('stored no run for any of them, and the process still answers', async () => {
      expect(await runCount(flow.id)).toBe(0);
      await expectStillAnswering(url);
      expect(await runCount(flow.id)).toBe(1);
    });
  });

  describe('required parameters', () => {
    let flow: any;
    let url: string;
    beforeAll(async () => {
      flow = await createFlow({
        parameters: [
          { source: 'body', path: 'order.id', type: 'string', required: true },
          { source: 'query', path: 'shop', type: 'string', required: true },
          { source: 'body', path: 'note', type: 'string', required: false },
        ],
      });
      url = flow.webhooks[0].url;
    });

    it('answers 400 naming a missing body parameter, with no run', async () => {
      const res = await postJson(`${url}?shop=s1`, { order: { total: 5 } });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ msg: 'Missing required parameter(s)', missing: ['body.order.id'] });
    });

    it('answers 400 naming a missing query parameter', async () => {
      const res = await postJson(url, { order: { id: 'A1' } });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ msg: 'Missing required parameter(s)', missing: ['query.shop'] });
    });

    it('names every missing parameter at once', async () => {
      const res = await postJson(url, {});
      expect(res.status).toBe(400);
      expect(res.json.missing).toEqual(['body.order.id', 'query.shop']);
      expect(await runCount(flow.id)).toBe(0);
    });

    it('accepts the request when the required parameters are present (optional ones may be absent)', async () => {
      const res = await postJson(`${url}?shop=s1`, { order: { id: 'A1' } });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ status: 'accepted' });
      expect(await runCount(flow.id)).toBe(1);
    });
  });

  describe('idempotency', () => {
    it('replays the first answer for a repeated key, with Idempotent-Replayed and no new run', async () => {
      const flow = await createFlow({ idempotency: { header: 'Idempotency-Key', window_s: 60 } });
      const url = flow.webhooks[0].url;
      const first = await postJson(url, { order: { id: 'A1' } }, { 'Idempotency-Key': 'key-1' });
      expect(first.status).toBe(200);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(first.json).toMatchObject({ status: 'accepted', run_id: expect.stringMatching(/^run_/) });

      const again = await postJson(url, { order: { id: 'A1' } }, { 'idempotency-key': 'key-1' });
      expect(again.status).toBe(first.status);
      expect(again.text).toBe(first.text);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await runCount(flow.id)).toBe(1);

      const other = await postJson(url, { order: { id: 'A1' } }, { 'Idempotency-Key': 'key-2' });
      expect(other.status).toBe(200);
      expect(other.headers.get('idempotent-replayed')).toBeNull();
      expect(other.json.run_id).not.toBe(first.json.run_id);
      expect(await runCount(flow.id)).toBe(2);

      // Without the header, no idempotency applies.
      expect((await postJson(url, { order: { id: 'A1' } })).status).toBe(200);
      expect((await postJson(url, { order: { id: 'A1' } })).status).toBe(200);
      expect(await runCount(flow.id)).toBe(4);
    });

    it('creates exactly one run for 10 concurrent identical requests', async () => {
      const flow = await createFlow({ idempotency: { header: 'Idempotency-Key', window_s: 60 } });
      const url = flow.webhooks[0].url;
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          postJson(url, { order: { id: 'C1' } }, { 'Idempotency-Key': 'same-key' }),
        ),
      );
      for (const r of results) expect(r.status, r.text).toBe(200);
      const runIds = new Set(results.map((r) => r.json.run_id));
      expect(runIds.size).toBe(1);
      expect(results.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
      const runs = await runsOf(flow.id);
      expect(runs.map((r) => r.id)).toEqual([...runIds]);
    });

    it('replays a custom answer with its status, headers and body', async () => {
      const flow = await createFlow({
        idempotency: { header: 'X-Delivery', window_s: 60 },
        response: {
          mode: 'custom',
          status: 202,
          content_type: 'application/json',
          headers: { 'X-Run': '${run.id}' },
          body: '{"run":"${run.id}"}',
        },
      });
      const url = flow.webhooks[0].url;
      const first = await postJson(url, { a: 1 }, { 'X-Delivery': 'd-1' });
      expect(first.status).toBe(202);
      const again = await postJson(url, { a: 2 }, { 'X-Delivery': 'd-1' });
      expect(again.status).toBe(202);
      expect(again.text).toBe(first.text);
      expect(again.headers.get('x-run')).toBe(first.headers.get('x-run'));
      expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await runCount(flow.id)).toBe(1);
    });

    it('accepts a repeated key as new once the window has passed', async () => {
      const flow = await createFlow({ idempotency: { header: 'Idempotency-Key', window_s: 1 } });
      const url = flow.webhooks[0].url;
      const first = await postJson(url, {}, { 'Idempotency-Key': 'short' });
      expect(first.status).toBe(200);
      await new Promise((r) => setTimeout(r, 1500));
      const later = await postJson(url, {}, { 'Idempotency-Key': 'short' });
      expect(later.status).toBe(200);
      expect(later.headers.get('idempotent-replayed')).toBeNull();
      expect(later.json.run_id).not.toBe(first.json.run_id);
      expect(await runCount(flow.id)).toBe(2);
    });

    it('keeps the keys of different flows apart', async () => {
      const a = await createFlow({ idempotency: { header: 'Idempotency-Key', window_s: 60 } });
      const b = await createFlow({ idempotency: { header: 'Idempotency-Key', window_s: 60 } });
      const ra = await postJson(a.webhooks[0].url, {}, { 'Idempotency-Key': 'shared' });
      const rb = await postJson(b.webhooks[0].url, {}, { 'Idempotency-Key': 'shared' });
      expect(rb.headers.get('idempotent-replayed')).toBeNull();
      expect(rb.json.run_id).not.toBe(ra.json.run_id);
      expect(await runCount(a.id)).toBe(1);
      expect(await runCount(b.id)).toBe(1);
    });
  });

  describe('accepted requests and response modes', () => {
    it('ack: answers 200 {status:"accepted",run_id} and the run shows the stored trigger', async () => {
      const flow = await createFlow();
      const res = await send(`${flow.webhooks[0].url}?shop=s1&tag=a&tag=b`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-custom': 'abc' },
        body: JSON.stringify({ order: { id: 'A1', total: 12.5, items: [1, 2] } }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.json).toEqual({ status: 'accepted', run_id: expect.stringMatching(/^run_/) });

      const run = await getRun(res.json.run_id);
      expect(run).toMatchObject({
        id: res.json.run_id,
        flow_id: flow.id,
        status: 'queued',
        trigger_node_id: 'webhook_1',
      });
      expect(run.trigger).toMatchObject({
        method: 'POST',
        path: `/hooks/default/${flow.id}`,
        headers: { 'x-custom': 'abc', 'content-type': 'application/json' },
        query: { shop: 's1', tag: ['a', 'b'] },
        body: { order: { id: 'A1', total: 12.5, items: [1, 2] } },
        body_kind: 'json',
      });
      const listed = await runsOf(flow.id);
      expect(listed.map((r) => r.id)).toEqual([res.json.run_id]);
    });

    it('custom: answers the configured status, content type, headers and rendered body template', async () => {
      const flow = await createFlow({
        response: {
          mode: 'custom',
          status: 202,
          content_type: 'application/vnd.shop+json',
          headers: { 'X-Received': '${Webhook::Body.order.id}', 'Cache-Control': 'no-store' },
          body: '{"received":"${Webhook::Body.order.id}","run":"${run.id}"}',
        },
      });
      const res = await postJson(flow.webhooks[0].url, { order: { id: 'A7' } });
      expect(res.status).toBe(202);
      expect(res.headers.get('content-type')).toBe('application/vnd.shop+json');
      expect(res.headers.get('x-received')).toBe('A7');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = JSON.parse(res.text);
      expect(body).toEqual({ received: 'A7', run: expect.stringMatching(/^run_/) });
      const run = await getRun(body.run);
      expect(run.flow_id).toBe(flow.id);
      expect(run.trigger.body).toEqual({ order: { id: 'A7' } });
    });

    it('custom: a text body is sent as is with its content type', async () => {
      const flow = await createFlow({
        response: {
          mode: 'custom',
          status: 201,
          content_type: 'text/plain',
          body: 'thanks ${Webhook::Query.who}',
        },
      });
      const res = await postJson(`${flow.webhooks[0].url}?who=Ann`, {});
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.text).toBe('thanks Ann');
      expect(await runCount(flow.id)).toBe(1);
    });

    it('custom: header templates whose values cannot go into a header still answer (no 500 after storing the run)', async () => {
      const flow = await createFlow({
        response: {
          mode: 'custom',
          status: 202,
          content_type: 'application/json',
          headers: { 'X-Received': '${Webhook::Body.order.id}' },
          body: '{"run":"${run.id}"}',
        },
      });
      // Control characters become spaces; non-ASCII text goes out as UTF-8 bytes.
      const cases: [string, string][] = [
        ['日本', '日本'],
        ['é', 'é'],
        ['a\u0001b', 'a b'],
        ['tab\there', 'tab\there'],
        ['x\r\nSet-Cookie: a=b', 'x  Set-Cookie: a=b'],
      ];
      for (const [id, sent] of cases) {
        const res = await postJson(flow.webhooks[0].url, { order: { id } });
        expect(res.status, `${JSON.stringify(id)}: ${res.text}`).toBe(202);
        expect(Buffer.from(res.headers.get('x-received') ?? '', 'latin1').toString('utf8')).toBe(sent);
        expect(res.headers.get('set-cookie')).toBeNull();
        const body = JSON.parse(res.text);
        expect((await getRun(body.run)).trigger.body.order.id).toBe(id);
      }
      expect(await runCount(flow.id)).toBe(cases.length);
    });

    it('flow: stores the run, waits for it, and with no worker answering falls back to 504 after timeout_ms', async () => {
      const flow = await createFlow({
        response: {
          mode: 'flow',
          timeout_ms: 300,
          fallback: { status: 202, body: '{"queued":"${run.id}"}' },
        },
      });
      const started = Date.now();
      const res = await postJson(flow.webhooks[0].url, { a: 1 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(res.status).toBe(202);
      expect(res.json.queued).toMatch(/^run_/);
      expect(await runCount(flow.id)).toBe(1);
      const plain = await createFlow({ response: { mode: 'flow', timeout_ms: 200 } });
      const fallback = await postJson(plain.webhooks[0].url, { a: 1 });
      expect(fallback.status).toBe(504);
      expect(fallback.json).toMatchObject({
        msg: 'Flow did not respond in time',
        run_id: expect.stringMatching(/^run_/),
      });
    });
  });

  describe('body parsing', () => {
    let flow: any;
    let url: string;
    beforeAll(async () => {
      flow = await createFlow();
      url = flow.webhooks[0].url;
    });

    async function acceptedTrigger(init: RequestInit): Promise<any> {
      const res = await send(url, { method: 'POST', ...init });
      expect(res.status, res.text).toBe(200);
      return (await getRun(res.json.run_id)).trigger;
    }

    it('parses JSON (also +json types)', async () => {
      const trigger = await acceptedTrigger({
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ a: [1, { b: null }], s: 'é😀' }),
      });
      expect(trigger).toMatchObject({ body_kind: 'json', body: { a: [1, { b: null }], s: 'é😀' } });
      const cloud = await acceptedTrigger({
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({ specversion: '1.0' }),
      });
      expect(cloud).toMatchObject({ body_kind: 'json', body: { specversion: '1.0' } });
    });

    it('parses a urlencoded form, turning repeated keys into arrays', async () => {
      const trigger = await acceptedTrigger({
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1&a=2&name=hello+world&city=M%C3%BCnchen&empty=',
      });
      expect(trigger.body_kind).toBe('form');
      expect(trigger.body).toEqual({ a: ['1', '2'], name: 'hello world', city: 'München', empty: '' });
    });

    it('parses multipart/form-data: fields, and files kept as metadata plus base64', async () => {
      const form = new FormData();
      form.append('name', 'Ann');
      form.append('tag', 'x');
      form.append('tag', 'y');
      const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
      form.append('file', new Blob([bytes], { type: 'application/pdf' }), 'invoice.pdf');
      form.append('note', new Blob(['hello'], { type: 'text/plain' }), 'note.txt');
      const trigger = await acceptedTrigger({ body: form });
      expect(trigger.body_kind).toBe('multipart');
      expect(trigger.content_type).toMatch(/^multipart\/form-data; boundary=/);
      expect(trigger.body).toEqual({
        name: 'Ann',
        tag: ['x', 'y'],
        file: {
          filename: 'invoice.pdf',
          content_type: 'application/pdf',
          size: 6,
          encoding: 'base64',
          data: Buffer.from(bytes).toString('base64'),
        },
        note: {
          filename: 'note.txt',
          content_type: 'text/plain',
          size: 5,
          encoding: 'base64',
          data: Buffer.from('hello').toString('base64'),
        },
      });
    });

    it('keeps XML as text with body_kind "xml"', async () => {
      const xml = '<?xml version="1.0"?><order id="1"><item>Tea</item></order>';
      const trigger = await acceptedTrigger({ headers: { 'content-type': 'application/xml' }, body: xml });
      expect(trigger).toMatchObject({ body_kind: 'xml', body: xml });
      const soap = await acceptedTrigger({
        headers: { 'content-type': 'text/xml; charset=utf-8' },
        body: '<a/>',
      });
      expect(soap).toMatchObject({ body_kind: 'xml', body: '<a/>' });
    });

    it('keeps text/plain as text', async () => {
      const trigger = await acceptedTrigger({
        headers: { 'content-type': 'text/plain' },
        body: 'line 1\nline 2',
      });
      expect(trigger).toMatchObject({ body_kind: 'text', body: 'line 1\nline 2' });
    });

    it('keeps application/octet-stream as base64, and the raw bytes in the database', async () => {
      const bytes = new Uint8Array([0, 159, 146, 150, 255, 10]);
      const res = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      expect(res.status).toBe(200);
      const run = await getRun(res.json.run_id);
      expect(run.trigger).toMatchObject({ body_kind: 'base64', body: Buffer.from(bytes).toString('base64') });
      const row = await t.db.database.db
        .selectFrom('runs')
        .select(['raw_body'])
        .where('id', '=', res.json.run_id)
        .executeTakeFirstOrThrow();
      expect(Buffer.from(row.raw_body as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    });

    it('stores an empty body as null', async () => {
      const trigger = await acceptedTrigger({});
      expect(trigger).toMatchObject({ body_kind: 'empty', body: null });
    });

    it('stores __proto__ and constructor keys as plain data without polluting Object.prototype', async () => {
      const text =
        '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted2":"yes"}},"order":{"__proto__":{"isAdmin":true}}}';
      const trigger = await acceptedTrigger({ headers: { 'content-type': 'application/json' }, body: text });
      // The app runs in this process: its Object.prototype is this one.
      expect(({} as any).polluted).toBeUndefined();
      expect(({} as any).polluted2).toBeUndefined();
      expect(({} as any).isAdmin).toBeUndefined();
      expect(Object.hasOwn(trigger.body, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(trigger.body, '__proto__')?.value).toEqual({ polluted: 'yes' });
      expect(trigger.body.constructor).toEqual({ prototype: { polluted2: 'yes' } });
      expect(Object.hasOwn(trigger.body.order, '__proto__')).toBe(true);

      const form = await acceptedTrigger({
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '__proto__=x&constructor=y&a=1',
      });
      expect(({} as any).a).toBeUndefined();
      expect(Object.hasOwn(form.body, '__proto__')).toBe(true);
      expect(form.body.constructor).toBe('y');
    });
  });

  describe('the order of the checks', () => {
    it('answers 405 before looking at the body (size, parse, parameters)', async () => {
      const flow = await createFlow({
        max_body_bytes: 10,
        parameters: [{ source: 'body', path: 'order.id', required: true }],
      });
      const res = await send(flow.webhooks[0].url, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"not json',
      });
      expect(res.status).toBe(405);
    });

    it('answers 413 before parsing, and a parse error before missing parameters', async () => {
      const flow = await createFlow({
        max_body_bytes: 20,
        parameters: [{ source: 'body', path: 'order.id', required: true }],
      });
      const url = flow.webhooks[0].url;
      const big = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"x":"${'y'.repeat(50)}`,
      });
      expect(big.status).toBe(413);
      const bad = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"x":',
      });
      expect(bad.status).toBe(400);
      expect(bad.json.code).toBe('invalid_json');
      const missing = await postJson(url, { x: 1 });
      expect(missing.status).toBe(400);
      expect(missing.json.missing).toEqual(['body.order.id']);
      expect(await runCount(flow.id)).toBe(0);
    });

    it('checks required parameters before replaying an idempotency key', async () => {
      const flow = await createFlow({
        parameters: [{ source: 'body', path: 'order.id', required: true }],
        idempotency: { header: 'Idempotency-Key', window_s: 60 },
      });
      const url = flow.webhooks[0].url;
      expect((await postJson(url, { order: { id: 'A' } }, { 'Idempotency-Key': 'k' })).status).toBe(200);
      const res = await postJson(url, {}, { 'Idempotency-Key': 'k' });
      expect(res.status).toBe(400);
      expect(res.json.missing).toEqual(['body.order.id']);
      expect(res.headers.get('idempotent-replayed')).toBeNull();
    });
  });

  describe('durability', () => {
    it('has the run in the database by the time the 200 arrives', async () => {
      const flow = await createFlow();
      const res = await postJson(flow.webhooks[0].url, { order: { id: 'D1' } });
      expect(res.status).toBe(200);
      const row = await t.db.database.db
        .selectFrom('runs')
        .select(['id', 'flow_id', 'status', 'trigger'])
        .where('id', '=', res.json.run_id)
        .executeTakeFirst();
      expect(row).toBeDefined();
      expect(row).toMatchObject({ id: res.json.run_id, flow_id: flow.id, status: 'queued' });
      expect((row!.trigger as any).body).toEqual({ order: { id: 'D1' } });
    });

    it('stores 50 concurrent requests as 50 distinct runs (group commit)', async () => {
      const flow = await createFlow();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => postJson(flow.webhooks[0].url, { seq: i })),
      );
      for (const r of results) expect(r.status, r.text).toBe(200);
      const ids = results.map((r) => r.json.run_id as string);
      expect(new Set(ids).size).toBe(50);

      const rows = await t.db.database.db
        .selectFrom('runs')
        .select(['id', 'trigger'])
        .where('flow_id', '=', flow.id)
        .execute();
      expect(rows).toHaveLength(50);
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids));
      const seqs = rows.map((r) => (r.trigger as any).body.seq).sort((a: number, b: number) => a - b);
      expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });
  });
});

describe('runs accepted before a restart', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ onDisk: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('are all still listed after the app restarts on the same data, and the hook keeps working', async () => {
    const created = await t.api('POST', '/api/v1/flows', webhookFlow());
    expect(created.status, created.text).toBe(201);
    const flow = created.body;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(flow.webhooks[0].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ n: i }),
      });
      expect(res.status).toBe(200);
      ids.push((await res.json()).run_id);
    }

    await t.restart();

    const listed = await t.api('GET', `/api/v1/runs?flow_id=${flow.id}`);
    expect(listed.status).toBe(200);
    expect(new Set(listed.body.data.map((r: any) => r.id))).toEqual(new Set(ids));
    for (const id of ids) {
      const run = await t.api('GET', `/api/v1/runs/${id}`);
      expect(run.status).toBe(200);
      expect(run.body.trigger.method).toBe('POST');
    }

    const after = await fetch(flow.webhooks[0].url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"n":"after"}',
    });
    expect(after.status).toBe(200);
    expect((await t.api('GET', `/api/v1/runs?flow_id=${flow.id}`)).body.data).toHaveLength(6);
  });
});
