/**
 * POST /api/v1/endpoints/check over a real app and real receivers on 127.0.0.1 (docs/api.md §5.3): the ping
 * is a signed envelope that verifies with the endpoint's secret, auth and headers arrive, a non-2xx
 * or no answer is `ok: false` (never a 5xx of the API), redirects are reported and never followed,
 * and the SSRF guard applies as for deliveries.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, startTestApp, type TestApp } from './helpers/app.ts';
import { type Receiver, startReceiver } from './helpers/receiver.ts';

let t: TestApp;
let receiver: Receiver;
let answer: { status: number; headers?: Record<string, string>; body?: string };

beforeAll(async () => {
  t = await startTestApp({ env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' } });
  receiver = await startReceiver((_req, res) => {
    res.writeHead(answer.status, answer.headers ?? { 'content-type': 'application/json' });
    res.end(answer.body ?? '{"ok":true}');
  });
});
afterAll(async () => {
  await receiver?.close();
  await t?.close();
});
beforeEach(() => {
  receiver.received.length = 0;
  answer = { status: 200 };
});

const check = (body: unknown, key?: string) => t.api('POST', '/api/v1/endpoints/check', body, key);

async function createEndpoint(extra: Record<string, unknown> = {}) {
  const res = await t.api('POST', '/api/v1/endpoints', { name: 'Check target', url: receiver.url, ...extra });
  expect(res.status).toBe(201);
  return res.body as { id: string; signing_secret: string };
}

describe('a receiver that answers', () => {
  it('is ok on 200, with the status and the latency', async () => {
    const res = await check({ url: `${receiver.url}/hook` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, status: 200, latency_ms: expect.any(Number), error: null });
    expect(res.body.latency_ms).toBeGreaterThanOrEqual(0);
    expect(res.body.latency_ms).toBeLessThan(15_000);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0].method).toBe('POST');
    expect(receiver.received[0].url).toBe('/hook');
  });

  it('sends the ping envelope with Standard Webhooks headers (signed with a throwaway secret)', async () => {
    const before = Date.now();
    await check({ url: receiver.url });
    const [req] = receiver.received;
    const envelope = JSON.parse(req.body);
    expect(envelope).toEqual({
      event_time: expect.any(String),
      event_type: 'ping',
      current_context: { tenant_id: 'default' },
      data: { message: 'Hookflow connectivity check' },
    });
    expect(Date.parse(envelope.event_time)).toBeGreaterThanOrEqual(before - 1000);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toMatch(/^Hookflow\//);
    expect(req.headers['webhook-id']).toMatch(/^msg_/);
    expect(Number(req.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -1);
    expect(req.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('is ok on any 2xx', async () => {
    answer = { status: 204, body: '' };
    expect((await check({ url: receiver.url })).body).toMatchObject({ ok: true, status: 204, error: null });
  });

  it('is not ok on 500 (and the API still answers 200)', async () => {
    answer = { status: 500, body: 'boom' };
    const res = await check({ url: receiver.url });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: false, status: 500, latency_ms: expect.any(Number), error: null });
  });

  it('is not ok on 4xx', async () => {
    answer = { status: 401, body: 'who are you' };
    expect((await check({ url: receiver.url })).body).toMatchObject({ ok: false, status: 401 });
  });
});

describe('signing with an endpoint (endpoint_id)', () => {
  it("verifies with the endpoint's signing secret", async () => {
    const ep = await createEndpoint();
    const res = await check({ url: `${receiver.url}/signed`, endpoint_id: ep.id });
    expect(res.body).toMatchObject({ ok: true, status: 200 });
    const [req] = receiver.received;
    const verified = new Webhook(ep.signing_secret).verify(req.body, req.headers as Record<string, string>);
    expect(verified).toMatchObject({ event_type: 'ping', current_context: { tenant_id: 'default' } });
    // And not with some other secret.
    const other = await createEndpoint();
    expect(() =>
      new Webhook(other.signing_secret).verify(req.body, req.headers as Record<string, string>),
    ).toThrow();
  });

  it("uses the endpoint's method, auth and headers when the check does not give them", async () => {
    const ep = await createEndpoint({
      method: 'PATCH',
      auth: { type: 'bearer', token: 'endpoint-token' },
      headers: { 'X-Team': 'ops' },
    });
    await check({ url: receiver.url, endpoint_id: ep.id });
    const [req] = receiver.received;
    expect(req.method).toBe('PATCH');
    expect(req.headers.authorization).toBe('Bearer endpoint-token');
    expect(req.headers['x-team']).toBe('ops');
  });

  it("lets the check's own method, auth and headers win (the form being edited)", async () => {
    const ep = await createEndpoint({
      method: 'PATCH',
      auth: { type: 'bearer', token: 'endpoint-token' },
      headers: { 'X-Team': 'ops' },
    });
    await check({
      url: receiver.url,
      endpoint_id: ep.id,
      method: 'PUT',
      auth: { type: 'none' },
      headers: { 'x-other': '1' },
    });
    const [req] = receiver.received;
    expect(req.method).toBe('PUT');
    expect(req.headers.authorization).toBeUndefined();
    expect(req.headers['x-team']).toBeUndefined();
    expect(req.headers['x-other']).toBe('1');
    expect(() =>
      new Webhook(ep.signing_secret).verify(req.body, req.headers as Record<string, string>),
    ).not.toThrow();
  });

  it('is 404 for an unknown endpoint, or one of another tenant', async () => {
    const unknown = await check({ url: receiver.url, endpoint_id: 'ep_nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('not_found');

    const tenant = await t.api('POST', '/api/v1/tenants', { name: 'Other' });
    const key = await t.api('POST', '/api/v1/api-keys', { name: 'other', tenant_id: tenant.body.id });
    const ep = await createEndpoint();
    const foreign = await check({ url: receiver.url, endpoint_id: ep.id }, key.body.key);
    expect(foreign.status).toBe(404);
    expect(receiver.received).toHaveLength(0);
  });
});

describe('auth and headers', () => {
  it('sends basic auth, custom headers and the method given', async () => {
    const res = await check({
      url: receiver.url,
      method: 'PUT',
      auth: { type: 'basic', username: 'hook', password: 's3cret' },
      headers: { 'X-Team': 'ops' },
    });
    expect(res.body.ok).toBe(true);
    const [req] = receiver.received;
    expect(req.method).toBe('PUT');
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('hook:s3cret').toString('base64')}`);
    expect(req.headers['x-team']).toBe('ops');
  });

  it('sends an api_key header and a bearer token', async () => {
    await check({ url: receiver.url, auth: { type: 'api_key', header: 'X-Api-Key', value: 'k-123' } });
    await check({ url: receiver.url, auth: { type: 'bearer', token: 'tok' } });
    expect(receiver.received[0].headers['x-api-key']).toBe('k-123');
    expect(receiver.received[1].headers.authorization).toBe('Bearer tok');
  });

  it('resolves a credential_id, and refuses a missing one or one of another type (400)', async () => {
    const cred = await t.api('POST', '/api/v1/credentials', {
      name: 'Check token',
      type: 'bearer',
      data: { token: 'from-credential' },
    });
    expect(cred.status).toBe(201);
    const res = await check({ url: receiver.url, auth: { type: 'bearer', credential_id: cred.body.id } });
    expect(res.body.ok).toBe(true);
    expect(receiver.received[0].headers.authorization).toBe('Bearer from-credential');

    const wrongType = await check({
      url: receiver.url,
      auth: { type: 'basic', credential_id: cred.body.id },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject({
      code: 'invalid_request',
      errors: [{ field: 'auth.credential_id' }],
    });
    expect(wrongType.body.msg).toContain('is a bearer credential, not basic');
    const missing = await check({ url: receiver.url, auth: { type: 'bearer', credential_id: 'cred_nope' } });
    expect(missing.status).toBe(400);
    expect(missing.body.msg).toContain('does not exist');
    expect(receiver.received).toHaveLength(1);
  });
});

describe('redirects', () => {
  it('reports a redirect to the metadata address as not ok, and follows nothing', async () => {
    answer = { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } };
    const res = await check({ url: receiver.url });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, status: 302 });
    expect(res.body.error).toContain('redirects are not followed');
    expect(receiver.received).toHaveLength(1);
  });

  it('does not follow a redirect even to an allowed address', async () => {
    const target = await startReceiver();
    try {
      answer = { status: 307, headers: { location: `${target.url}/elsewhere` } };
      const res = await check({ url: receiver.url });
      expect(res.body).toMatchObject({ ok: false, status: 307 });
      expect(receiver.received).toHaveLength(1);
      expect(target.received).toHaveLength(0);
    } finally {
      await target.close();
    }
  });
});

describe('no answer', () => {
  it('is not ok with the reason when nothing listens', async () => {
    const closedPort = await freePort();
    const res = await check({ url: `http://127.0.0.1:${closedPort}/` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ok: false,
      status: null,
      latency_ms: expect.any(Number),
      error: expect.any(String),
    });
    expect(res.body.error).toContain('Could not reach');
  });

  it('is refused by the SSRF guard without an allow-list entry', async () => {
    const guarded = await startTestApp();
    try {
      const res = await guarded.api('POST', '/api/v1/endpoints/check', { url: receiver.url });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ok: false, status: null });
      expect(res.body.error).toContain('Refused');
      expect(receiver.received).toHaveLength(0);
    } finally {
      await guarded.close();
    }
  });
});

describe('validation', () => {
  const invalid = async (body: unknown, field: string) => {
    const res = await check(body);
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_request', msg: expect.any(String) });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  };

  it('answers 400 for an invalid url', async () => {
    await invalid({ url: 'not a url' }, 'url');
    await invalid({ url: 'ftp://127.0.0.1/' }, 'url');
    await invalid({ url: 'http://user:pw@127.0.0.1/' }, 'url');
    await invalid({}, 'url');
  });

  it('answers 400 for a bad method, auth, header or unknown field', async () => {
    await invalid({ url: receiver.url, method: 'GET' }, 'method');
    await invalid({ url: receiver.url, auth: { type: 'basic', username: 'u' } }, 'auth.password');
    await invalid(
      { url: receiver.url, auth: { type: 'bearer', token: 't', credential_id: 'c' } },
      'auth.token',
    );
    await invalid({ url: receiver.url, auth: { type: 'magic' } }, 'auth.type');
    await invalid(
      { url: receiver.url, headers: { 'webhook-signature': 'v1,forged' } },
      'headers.webhook-signature',
    );
    await invalid({ url: receiver.url, headers: { 'x-a': 'line\r\nbreak' } }, 'headers.x-a');
    await invalid({ url: receiver.url, surprise: true }, 'body');
    expect(receiver.received).toHaveLength(0);
  });

  it('needs an API key', async () => {
    expect((await check({ url: receiver.url }, '')).status).toBe(401);
  });
});
