/**
 * Inbound authentication end to end: credentials created through the API, flows whose webhook node
 * names them, and requests to the real /hooks endpoint signed the way the real senders sign
 * (octokit for GitHub, the stripe package, the standardwebhooks package, the twilio package,
 * plain HTTP auth).
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, webhookFlow } from './helpers/app.ts';

type HookResponse = { status: number; headers: Record<string, string>; text: string; json: any };

const stripe = new Stripe('sk_test_x');

const secret = (prefix = 's3cr3t') => `${prefix}_${randomBytes(12).toString('hex')}`;
const basicHeader = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const hmacOf = (algorithm: string, key: string, payload: string, encoding: 'hex' | 'base64') =>
  createHmac(algorithm, key).update(payload).digest(encoding);

describe('inbound webhook authentication', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  // --- helpers ---------------------------------------------------------------------------------

  async function createCredential(type: string, data: Record<string, unknown>, key?: string) {
    const res = await t.api('POST', '/api/v1/credentials', { name: `${type} credential`, type, data }, key);
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; name: string; type: string; hint: string };
  }

  async function createFlow(auth: Record<string, unknown>, config: Record<string, unknown> = {}, extra = {}) {
    const res = await t.api('POST', '/api/v1/flows', webhookFlow({ auth, ...config }, extra));
    expect(res.status, res.text).toBe(201);
    return { id: res.body.id as string, url: res.body.webhooks[0].url as string };
  }

  /** A credential of `type` and a flow whose webhook node requires it. */
  async function protectedHook(
    type: string,
    data: Record<string, unknown>,
    config: Record<string, unknown> = {},
  ) {
    const cred = await createCredential(type, data);
    const flow = await createFlow({ type, credential_id: cred.id }, config);
    return { cred, ...flow };
  }

  async function send(
    url: string,
    opts: {
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      query?: Record<string, string>;
    } = {},
  ): Promise<HookResponse> {
    const u = new URL(url);
    for (const [k, v] of Object.entries(opts.query ?? {})) u.searchParams.set(k, v);
    const res = await fetch(u, {
      method: opts.method ?? 'POST',
      headers: {
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      body: opts.body,
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, headers: Object.fromEntries(res.headers), text, json };
  }

  /**
   * A raw request with node:http, for bodies the server may refuse before reading them: resolves
   * with the answer even if the server closes the connection while the body is still being sent;
   * `status: 0` when the connection ended without any answer.
   */
  function sendRaw(
    url: string,
    opts: { headers: Record<string, string | number>; body: Buffer; chunked?: boolean },
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve) => {
      const u = new URL(url);
      let settled = false;
      const done = (v: { status: number; text: string }) => {
        if (!settled) {
          settled = true;
          resolve(v);
        }
      };
      const req = http.request(
        {
          host: '127.0.0.1',
          port: u.port,
          path: u.pathname + u.search,
          method: 'POST',
          headers: opts.headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          res.on('error', () =>
            done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
        },
      );
      req.on('error', () => setTimeout(() => done({ status: 0, text: '' }), 200));
      if (opts.chunked) {
        // Write in pieces without a content-length, so the limit must apply while streaming.
        const piece = 64 * 1024;
        let off = 0;
        const pump = () => {
          while (off < opts.body.length) {
            const ok = req.write(opts.body.subarray(off, off + piece));
            off += piece;
            if (!ok) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
      } else req.end(opts.body);
    });
  }

  async function runIds(flowId: string): Promise<string[]> {
    const res = await t.api('GET', `/api/v1/runs?flow_id=${encodeURIComponent(flowId)}&limit=500`);
    expect(res.status).toBe(200);
    return (res.body.data as { id: string }[]).map((r) => r.id);
  }

  async function getRun(id: string) {
    const res = await t.api('GET', `/api/v1/runs/${id}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  /** 401 as JSON {msg, code}, quoting none of `secrets`. */
  function expectUnauthorized(res: HookResponse, secrets: string[] = []) {
    expect(res.status, res.text).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json).toEqual(expect.objectContaining({ msg: expect.any(String), code: expect.any(String) }));
    expect(res.json.msg.length).toBeGreaterThan(0);
    for (const s of secrets) expect(res.text).not.toContain(s);
  }

  function expectAccepted(res: HookResponse) {
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ status: 'accepted', run_id: expect.stringMatching(/^run_/) });
    return res.json.run_id as string;
  }

  // --- basic -----------------------------------------------------------------------------------

  describe('basic', () => {
    it('accepts the right username and password and stores exactly one run', async () => {
      const password = secret('pw');
      const hook = await protectedHook('basic', { username: 'shop', password });
      const runId = expectAccepted(
        await send(hook.url, { headers: { authorization: basicHeader('shop', password) }, body: '{"a":1}' }),
      );
      expect(await runIds(hook.id)).toEqual([runId]);
    });

    it('rejects a wrong password, a wrong username or no Authorization with 401 and creates no run', async () => {
      const password = secret('pw');
      const hook = await protectedHook('basic', { username: 'shop', password });
      const body = '{"a":1}';
      expectUnauthorized(
        await send(hook.url, { headers: { authorization: basicHeader('shop', `${password}x`) }, body }),
        [password],
      );
      expectUnauthorized(
        await send(hook.url, { headers: { authorization: basicHeader('other', password) }, body }),
        [password],
      );
      expectUnauthorized(await send(hook.url, { body }), [password]);
      expectUnauthorized(await send(hook.url, { headers: { authorization: `Bearer ${password}` }, body }), [
        password,
      ]);
      expect(await runIds(hook.id)).toEqual([]);
    });

    it('a 401 challenges with WWW-Authenticate: Basic realm="hookflow", and the credentials sent after it pass', async () => {
      const password = secret('pw');
      const hook = await protectedHook('basic', { username: 'twilio', password });
      // What Twilio does: the first request without credentials, then again with them.
      const first = await send(hook.url, { body: '{}' });
      expect(first.status).toBe(401);
      expect(first.headers['www-authenticate']).toBe('Basic realm="hookflow"');
      const wrong = await send(hook.url, {
        headers: { authorization: basicHeader('twilio', 'nope') },
        body: '{}',
      });
      expect(wrong.headers['www-authenticate']).toBe('Basic realm="hookflow"');
      expectAccepted(
        await send(hook.url, { headers: { authorization: basicHeader('twilio', password) }, body: '{}' }),
      );
      expect(await runIds(hook.id)).toHaveLength(1);
    });
  });

  // --- api_key ---------------------------------------------------------------------------------

  describe('api_key', () => {
    it('in a header: accepts the right key (header name case-insensitive) and rejects a wrong or missing one', async () => {
      const value = secret('key');
      const hook = await protectedHook('api_key', { in: 'header', name: 'X-Api-Key', value });
      expectAccepted(await send(hook.url, { headers: { 'x-api-key': value }, body: '{}' }));
      expectAccepted(await send(hook.url, { headers: { 'X-API-KEY': value }, body: '{}' }));
      expect(await runIds(hook.id)).toHaveLength(2);

      expectUnauthorized(await send(hook.url, { headers: { 'x-api-key': `${value}0` }, body: '{}' }), [
        value,
      ]);
      expectUnauthorized(await send(hook.url, { body: '{}' }), [value]);
      // the right key in the query does not count for a header credential
      expectUnauthorized(await send(hook.url, { query: { 'X-Api-Key': value }, body: '{}' }), [value]);
      expect(await runIds(hook.id)).toHaveLength(2);
    });

    it('in the query: accepts the right key and rejects a wrong, missing or header-borne one', async () => {
      const value = secret('key');
      const hook = await protectedHook('api_key', { in: 'query', name: 'token', value });
      expectAccepted(await send(hook.url, { query: { token: value }, body: '{}' }));
      expect(await runIds(hook.id)).toHaveLength(1);

      expectUnauthorized(await send(hook.url, { query: { token: value.slice(0, -1) }, body: '{}' }), [value]);
      expectUnauthorized(await send(hook.url, { query: { Token: value }, body: '{}' }), [value]);
      expectUnauthorized(await send(hook.url, { body: '{}' }), [value]);
      expectUnauthorized(await send(hook.url, { headers: { token: value }, body: '{}' }), [value]);
      expect(await runIds(hook.id)).toHaveLength(1);
    });
  });

  // --- bearer ----------------------------------------------------------------------------------

  describe('bearer', () => {
    it('a 401 challenges with WWW-Authenticate: Bearer realm="hookflow"', async () => {
      const hook = await protectedHook('bearer', { token: secret('tok') });
      const res = await send(hook.url, { body: '{}' });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="hookflow"');
    });

    it('accepts the right token and rejects a wrong token, another scheme or none with 401', async () => {
      const token = secret('tok');
      const hook = await protectedHook('bearer', { token });
      expectAccepted(await send(hook.url, { headers: { authorization: `Bearer ${token}` }, body: '{}' }));
      expect(await runIds(hook.id)).toHaveLength(1);

      expectUnauthorized(
        await send(hook.url, { headers: { authorization: `Bearer ${token.toUpperCase()}` }, body: '{}' }),
        [token],
      );
      expectUnauthorized(await send(hook.url, { headers: { authorization: token }, body: '{}' }), [token]);
      expectUnauthorized(
        await send(hook.url, { headers: { authorization: basicHeader('x', token) }, body: '{}' }),
        [token],
      );
      expectUnauthorized(await send(hook.url, { body: '{}' }), [token]);
      expect(await runIds(hook.id)).toHaveLength(1);
    });
  });

  // --- hmac ------------------------------------------------------------------------------------

  describe('hmac', () => {
    const cases = [
      { algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=', header: 'X-Signature' },
      { algorithm: 'sha256', encoding: 'base64', prefix: '', header: 'X-Shopify-Hmac-Sha256' },
      { algorithm: 'sha1', encoding: 'hex', prefix: '', header: 'X-Sig' },
      { algorithm: 'sha1', encoding: 'base64', prefix: 'sha1=', header: 'X-Sig' },
    ] as const;

    for (const c of cases) {
      it(`${c.algorithm}/${c.encoding}${c.prefix ? ` with prefix "${c.prefix}"` : ''} in ${c.header}: right signature → 200, wrong → 401`, async () => {
        const key = secret('hmac');
        const hook = await protectedHook('hmac', { secret: key, ...c });
        const payload = JSON.stringify({ order: { id: 'A1', total: 12.5 } });
        const good = c.prefix + hmacOf(c.algorithm, key, payload, c.encoding);
        expectAccepted(await send(hook.url, { headers: { [c.header]: good }, body: payload }));
        expect(await runIds(hook.id)).toHaveLength(1);

        // signed with another secret
        const otherKey = c.prefix + hmacOf(c.algorithm, `${key}x`, payload, c.encoding);
        expectUnauthorized(await send(hook.url, { headers: { [c.header]: otherKey }, body: payload }), [key]);
        // the body changed after signing
        expectUnauthorized(
          await send(hook.url, { headers: { [c.header]: good }, body: payload.replace('12.5', '0.5') }),
          [key],
        );
        // the other algorithm / the other encoding with the right secret
        const wrongAlg =
          c.prefix + hmacOf(c.algorithm === 'sha1' ? 'sha256' : 'sha1', key, payload, c.encoding);
        expectUnauthorized(await send(hook.url, { headers: { [c.header]: wrongAlg }, body: payload }), [key]);
        const wrongEnc =
          c.prefix + hmacOf(c.algorithm, key, payload, c.encoding === 'hex' ? 'base64' : 'hex');
        expectUnauthorized(await send(hook.url, { headers: { [c.header]: wrongEnc }, body: payload }), [key]);
        // no signature at all
        expectUnauthorized(await send(hook.url, { body: payload }), [key]);
        expect(await runIds(hook.id)).toHaveLength(1);
      });
    }
  });

  // --- github ----------------------------------------------------------------------------------

  describe('github', () => {
    it('accepts a payload signed by @octokit/webhooks-methods into X-Hub-Signature-256', async () => {
      const key = secret('gh');
      const hook = await protectedHook('github', { secret: key });
      const payload = JSON.stringify({ action: 'opened', pull_request: { number: 7, title: 'Grüße ✓' } });
      const signature = await githubSign(key, payload);
      expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
      const runId = expectAccepted(
        await send(hook.url, {
          headers: { 'x-hub-signature-256': signature, 'x-github-event': 'pull_request' },
          body: payload,
        }),
      );
      expect(await runIds(hook.id)).toEqual([runId]);
    });

    it('rejects a tampered body, another secret and a missing signature with 401 and no run', async () => {
      const key = secret('gh');
      const hook = await protectedHook('github', { secret: key });
      const payload = JSON.stringify({ action: 'opened', amount: 100 });
      const signature = await githubSign(key, payload);
      expectUnauthorized(
        await send(hook.url, {
          headers: { 'x-hub-signature-256': signature },
          body: payload.replace('100', '1000'),
        }),
        [key],
      );
      // the same JSON re-serialised differently is not the signed bytes either
      expectUnauthorized(
        await send(hook.url, {
          headers: { 'x-hub-signature-256': signature },
          body: JSON.stringify(JSON.parse(payload), null, 2),
        }),
        [key],
      );
      expectUnauthorized(
        await send(hook.url, {
          headers: { 'x-hub-signature-256': await githubSign(`${key}x`, payload) },
          body: payload,
        }),
        [key],
      );
      // the legacy SHA-1 header alone is not enough
      expectUnauthorized(
        await send(hook.url, {
          headers: { 'x-hub-signature': `sha1=${hmacOf('sha1', key, payload, 'hex')}` },
          body: payload,
        }),
        [key],
      );
      expectUnauthorized(await send(hook.url, { body: payload }), [key]);
      expect(await runIds(hook.id)).toEqual([]);
    });
  });

  // --- stripe ----------------------------------------------------------------------------------

  describe('stripe', () => {
    const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.succeeded' });

    it('accepts a Stripe-Signature from the stripe package, also a few minutes old', async () => {
      const key = `whsec_${randomBytes(16).toString('hex')}`;
      const hook = await protectedHook('stripe', { secret: key });
      const now = stripe.webhooks.generateTestHeaderString({ payload, secret: key });
      expectAccepted(await send(hook.url, { headers: { 'stripe-signature': now }, body: payload }));
      const fourMinutesOld = stripe.webhooks.generateTestHeaderString({
        payload,
        secret: key,
        timestamp: Math.floor(Date.now() / 1000) - 240,
      });
      expectAccepted(
        await send(hook.url, { headers: { 'stripe-signature': fourMinutesOld }, body: payload }),
      );
      expect(await runIds(hook.id)).toHaveLength(2);
    });

    it('rejects a timestamp older than 300 s, a tampered body and another secret with 401 and no run', async () => {
      const key = `whsec_${randomBytes(16).toString('hex')}`;
      const hook = await protectedHook('stripe', { secret: key });
      const nowS = Math.floor(Date.now() / 1000);
      for (const age of [301, 600, 3600]) {
        const old = stripe.webhooks.generateTestHeaderString({ payload, secret: key, timestamp: nowS - age });
        const res = await send(hook.url, { headers: { 'stripe-signature': old }, body: payload });
        expectUnauthorized(res, [key]);
        expect(res.json.msg).toMatch(/timestamp/i);
      }
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret: key });
      expectUnauthorized(
        await send(hook.url, {
          headers: { 'stripe-signature': header },
          body: payload.replace('succeeded', 'failed'),
        }),
        [key],
      );
      expectUnauthorized(
        await send(hook.url, {
          headers: {
            'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: `${key}x` }),
          },
          body: payload,
        }),
        [key],
      );
      expectUnauthorized(await send(hook.url, { body: payload }), [key]);
      expect(await runIds(hook.id)).toEqual([]);
    });
  });

  // --- standard_webhooks -----------------------------------------------------------------------

  describe('standard_webhooks', () => {
    const payload = JSON.stringify({ type: 'order.created', data: { id: 'o_1' } });
    const swHeaders = (key: string, msgId: string, at: Date, body = payload) => ({
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(key).sign(msgId, at, body),
    });

    it('accepts a request signed by the standardwebhooks package', async () => {
      const key = `whsec_${randomBytes(24).toString('base64')}`;
      const hook = await protectedHook('standard_webhooks', { secret: key });
      const runId = expectAccepted(
        await send(hook.url, { headers: swHeaders(key, 'msg_1', new Date()), body: payload }),
      );
      expect(await runIds(hook.id)).toEqual([runId]);
    });

    it('rejects a timestamp 10 minutes old, a tampered body, another id and another secret with 401', async () => {
      const key = `whsec_${randomBytes(24).toString('base64')}`;
      const hook = await protectedHook('standard_webhooks', { secret: key });
      const old = await send(hook.url, {
        headers: swHeaders(key, 'msg_old', new Date(Date.now() - 10 * 60_000)),
        body: payload,
      });
      expectUnauthorized(old, [key]);
      expect(old.json.msg).toMatch(/timestamp/i);

      const fresh = swHeaders(key, 'msg_2', new Date());
      expectUnauthorized(await send(hook.url, { headers: fresh, body: payload.replace('o_1', 'o_2') }), [
        key,
      ]);
      expectUnauthorized(
        await send(hook.url, { headers: { ...fresh, 'webhook-id': 'msg_3' }, body: payload }),
        [key],
      );
      const otherKey = `whsec_${randomBytes(24).toString('base64')}`;
      expectUnauthorized(
        await send(hook.url, { headers: swHeaders(otherKey, 'msg_4', new Date()), body: payload }),
        [key],
      );
      expectUnauthorized(await send(hook.url, { body: payload }), [key]);
      expect(await runIds(hook.id)).toEqual([]);
    });
  });

  // --- order of checks -------------------------------------------------------------------------

  describe('order of checks', () => {
    it('a disabled flow answers 409 before any credential check, with or without credentials', async () => {
      const password = secret('pw');
      const cred = await createCredential('basic', { username: 'u', password });
      const flow = await createFlow({ type: 'basic', credential_id: cred.id }, {}, { enabled: false });
      const unsigned = await send(flow.url, { body: '{}' });
      expect(unsigned.status).toBe(409);
      expect(unsigned.json).toMatchObject({ msg: expect.any(String), code: expect.any(String) });
      const signed = await send(flow.url, {
        headers: { authorization: basicHeader('u', password) },
        body: '{}',
      });
      expect(signed.status).toBe(409);
      expect(await runIds(flow.id)).toEqual([]);

      // enabling it makes the credential check apply
      const patched = await t.api('PATCH', `/api/v1/flows/${flow.id}`, { enabled: true });
      expect(patched.status, patched.text).toBe(200);
      expectUnauthorized(await send(flow.url, { body: '{}' }));
      expectAccepted(
        await send(flow.url, { headers: { authorization: basicHeader('u', password) }, body: '{}' }),
      );
    });

    it('a method the webhook does not accept answers 405 with Allow before any credential check', async () => {
      const key = secret('gh');
      const hook = await protectedHook('github', { secret: key });
      for (const method of ['PUT', 'PATCH', 'DELETE']) {
        const res = await send(hook.url, { method, body: '{}' });
        expect(res.status, `${method}: ${res.text}`).toBe(405);
        expect(res.headers.allow).toContain('POST');
        expect(res.json).toMatchObject({ msg: expect.any(String), code: expect.any(String) });
      }
      expect(await runIds(hook.id)).toEqual([]);
    });

    it('an unsigned oversized body to a github-protected hook is refused (413 or 401) and creates no run', async () => {
      const key = secret('gh');
      const hook = await protectedHook('github', { secret: key });
      const big = Buffer.alloc(1024 * 1024 + 10, 'a');
      const declared = await sendRaw(hook.url, {
        headers: { 'content-type': 'text/plain', 'content-length': big.length },
        body: big,
      });
      expect([401, 413]).toContain(declared.status);
      const streamed = await sendRaw(hook.url, {
        headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
        body: big,
        chunked: true,
      });
      expect([401, 413]).toContain(streamed.status);
      expect(await runIds(hook.id)).toEqual([]);
    });

    it('a correctly signed body over the configured limit is still refused with 413 and no run', async () => {
      const key = secret('gh');
      const hook = await protectedHook('github', { secret: key }, { max_body_bytes: 1024 });
      const payload = JSON.stringify({ pad: 'x'.repeat(2000) });
      const res = await sendRaw(hook.url, {
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          'x-hub-signature-256': await githubSign(key, payload),
        },
        body: Buffer.from(payload),
      });
      expect(res.status).toBe(413);
      expect(await runIds(hook.id)).toEqual([]);
      // and under the limit the same secret works
      const small = '{"ok":true}';
      expectAccepted(
        await send(hook.url, {
          headers: { 'x-hub-signature-256': await githubSign(key, small) },
          body: small,
        }),
      );
    });
  });

  // --- credentials at rest and in the API ------------------------------------------------------

  describe('credentials at rest and in the API', () => {
    it('stores the secret encrypted: the raw credentials row does not contain it in plaintext', async () => {
      const password = secret('plaintext-password');
      const cred = await createCredential('basic', { username: 'rest-user', password });
      const row = await t.db.database.db
        .selectFrom('credentials')
        .selectAll()
        .where('id', '=', cred.id)
        .executeTakeFirstOrThrow();
      const dump = JSON.stringify(row, (_k, v) =>
        v && typeof v === 'object' && v.type === 'Buffer' ? Buffer.from(v.data).toString('latin1') : v,
      );
      expect(dump).not.toContain(password);
      expect(Buffer.from(row.data_enc).includes(Buffer.from(password))).toBe(false);
      expect(Buffer.from(row.data_enc).toString('latin1')).not.toContain(password);
      expect(Buffer.from(row.data_enc).toString('base64')).not.toContain(
        Buffer.from(password).toString('base64'),
      );
      expect(Buffer.from(row.data_enc).toString('hex')).not.toContain(Buffer.from(password).toString('hex'));
      expect(row.hint).toBe(`…${password.slice(-4)}`);

      // rotating writes the new secret sealed as well
      const rotated = secret('rotated-password');
      const patched = await t.api('PATCH', `/api/v1/credentials/${cred.id}`, {
        data: { username: 'rest-user', password: rotated },
      });
      expect(patched.status, patched.text).toBe(200);
      const row2 = await t.db.database.db
        .selectFrom('credentials')
        .select(['data_enc', 'hint'])
        .where('id', '=', cred.id)
        .executeTakeFirstOrThrow();
      expect(Buffer.from(row2.data_enc).includes(Buffer.from(rotated))).toBe(false);
      expect(Buffer.from(row2.data_enc).equals(Buffer.from(row.data_enc))).toBe(false);
      expect(row2.hint).toBe(`…${rotated.slice(-4)}`);
    });

    it('never returns data or the secret: create, list and get show only id, name, type, hint and times', async () => {
      const token = secret('never-shown');
      const created = await t.api('POST', '/api/v1/credentials', {
        name: 'CI token',
        type: 'bearer',
        data: { token },
      });
      expect(created.status).toBe(201);
      expect(created.text).not.toContain(token);
      expect(created.body).not.toHaveProperty('data');
      expect(created.body).toMatchObject({
        id: expect.any(String),
        name: 'CI token',
        type: 'bearer',
        hint: `…${token.slice(-4)}`,
      });

      const one = await t.api('GET', `/api/v1/credentials/${created.body.id}`);
      expect(one.status).toBe(200);
      expect(one.text).not.toContain(token);
      expect(Object.keys(one.body).sort()).toEqual([
        'created_at',
        'hint',
        'id',
        'name',
        'type',
        'updated_at',
      ]);
      expect(one.body).toMatchObject({
        id: created.body.id,
        name: 'CI token',
        type: 'bearer',
        hint: `…${token.slice(-4)}`,
      });

      const list = await t.api('GET', '/api/v1/credentials');
      expect(list.status).toBe(200);
      expect(list.text).not.toContain(token);
      const entry = list.body.data.find((c: { id: string }) => c.id === created.body.id);
      expect(entry).toBeDefined();
      expect(Object.keys(entry).sort()).toEqual(['created_at', 'hint', 'id', 'name', 'type', 'updated_at']);
      for (const c of list.body.data) expect(c).not.toHaveProperty('data');

      const patched = await t.api('PATCH', `/api/v1/credentials/${created.body.id}`, {
        data: { token: `${token}2` },
      });
      expect(patched.status).toBe(200);
      expect(patched.text).not.toContain(token);
      expect(patched.body).not.toHaveProperty('data');
    });

    it('does not show even a hint of a short secret', async () => {
      const created = await createCredential('bearer', { token: 'abc123' });
      expect(created.hint).not.toContain('c123');
      expect(created.hint).not.toContain('abc123');
    });

    it('rejects invalid data for a type with 400 {msg, code, errors} naming the field', async () => {
      const bad: [string, Record<string, unknown>, string][] = [
        ['basic', { username: 'u' }, 'data.password'],
        ['basic', { username: 'a:b', password: 'p' }, 'data.username'],
        ['api_key', { in: 'cookie', name: 'k', value: 'v' }, 'data.in'],
        ['api_key', { in: 'header', name: 'bad header', value: 'v' }, 'data.name'],
        ['hmac', { secret: 's', header: 'X-Sig', algorithm: 'md5' }, 'data.algorithm'],
        ['hmac', { secret: 's', header: 'X-Sig', encoding: 'base32' }, 'data.encoding'],
        ['hmac', { header: 'X-Sig' }, 'data.secret'],
        ['github', { secret: '' }, 'data.secret'],
        ['stripe', {}, 'data.secret'],
        ['standard_webhooks', { secret: 'whsec_***not base64***' }, 'data.secret'],
        ['bearer', { token: 'x', extra: 1 }, 'data'],
      ];
      for (const [type, data, field] of bad) {
        const res = await t.api('POST', '/api/v1/credentials', { name: 'bad', type, data });
        expect(res.status, `${type} ${JSON.stringify(data)}: ${res.text}`).toBe(400);
        expect(res.body).toMatchObject({ msg: expect.any(String), code: expect.any(String) });
        expect(Array.isArray(res.body.errors), res.text).toBe(true);
        expect(res.body.errors.length).toBeGreaterThan(0);
        expect(res.body.errors.map((e: { field: string }) => e.field).join(' '), res.text).toContain(field);
      }
      // invalid data on rotation is refused the same way
      const cred = await createCredential('github', { secret: secret() });
      const res = await t.api('PATCH', `/api/v1/credentials/${cred.id}`, { data: { secret: '' } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        msg: expect.any(String),
        code: expect.any(String),
        errors: expect.any(Array),
      });
    });

    it('accepts the credential types of the provider presets, hinting at the field that is the secret', async () => {
      const cases: [string, Record<string, string>, string][] = [
        ['gitlab', { token: secret('gl') }, 'token'],
        ['slack', { secret: secret('slack') }, 'secret'],
        ['zoom', { secret: secret('zoom') }, 'secret'],
        ['shopify', { secret: secret('shpss') }, 'secret'],
        ['twilio', { auth_token: secret('tw') }, 'auth_token'],
        ['meta', { app_secret: secret('meta'), verify_token: 'verify-me-1234' }, 'app_secret'],
        ['x', { consumer_secret: secret('x') }, 'consumer_secret'],
        ['dropbox', { app_secret: secret('dbx') }, 'app_secret'],
        ['linear', { secret: secret('lin') }, 'secret'],
        ['square', { signature_key: secret('sq') }, 'signature_key'],
      ];
      for (const [type, data, field] of cases) {
        const created = await createCredential(type, data);
        expect(created.type).toBe(type);
        expect(created.hint, type).toBe(`…${data[field].slice(-4)}`);
        const res = await t.api('GET', `/api/v1/credentials/${created.id}`);
        expect(res.text).not.toContain(data[field]);
        expect(res.body.hint).toBe(created.hint);
        // data of another type, an unknown field or an empty secret: 400 naming the field
        for (const [bad, named] of [
          [{ ...data, extra: 'x' }, 'data'],
          [{ ...data, [field]: '' }, `data.${field}`],
        ] as const) {
          const r = await t.api('POST', '/api/v1/credentials', { name: 'bad', type, data: bad });
          expect(r.status, `${type}: ${r.text}`).toBe(400);
          expect(r.body.errors.map((e: { field: string }) => e.field).join(' ')).toContain(named);
        }
      }
      // meta's verify_token is not its secret: the hint is the app secret's
      const meta = await createCredential('meta', {
        app_secret: 'short',
        verify_token: 'a-long-verify-token',
      });
      expect(meta.hint).toBe('…');
    });

    it('rejects an unknown credential type with 400', async () => {
      for (const type of ['carrier_pigeon', 'none', 'oauth2', '']) {
        const res = await t.api('POST', '/api/v1/credentials', {
          name: 'x',
          type,
          data: { secret: 'abcdefgh' },
        });
        expect(res.status, `${type}: ${res.text}`).toBe(400);
        expect(res.body).toMatchObject({ msg: expect.any(String), code: expect.any(String) });
      }
      const list = await t.api('GET', '/api/v1/credentials');
      expect(list.body.data.map((c: { type: string }) => c.type)).not.toContain('carrier_pigeon');
    });
  });

  // --- flows referencing credentials -----------------------------------------------------------

  describe('flows referencing credentials', () => {
    function expectInvalidCredentialRef(res: { status: number; body: any; text: string }) {
      expect(res.status, res.text).toBe(400);
      expect(res.body.code).toBe('invalid_flow');
      expect(res.body.msg).toContain('webhook_1');
      expect(res.body.msg).toContain('config.auth.credential_id');
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ node: 'webhook_1', field: 'config.auth.credential_id' }),
        ]),
      );
    }

    it('rejects a flow whose webhook names a credential that does not exist', async () => {
      const res = await t.api(
        'POST',
        '/api/v1/flows',
        webhookFlow({ auth: { type: 'basic', credential_id: 'cred_does_not_exist' } }),
      );
      expectInvalidCredentialRef(res);
    });

    it('rejects a flow whose webhook names a credential of another type', async () => {
      const basic = await createCredential('basic', { username: 'u', password: secret() });
      expectInvalidCredentialRef(
        await t.api(
          'POST',
          '/api/v1/flows',
          webhookFlow({ auth: { type: 'github', credential_id: basic.id } }),
        ),
      );
      const smtp = await createCredential('smtp', { host: 'smtp.example.com', port: 587 });
      expectInvalidCredentialRef(
        await t.api(
          'POST',
          '/api/v1/flows',
          webhookFlow({ auth: { type: 'basic', credential_id: smtp.id } }),
        ),
      );
    });

    it('rejects the same on PUT and PATCH of an existing flow and leaves it unchanged', async () => {
      const flow = await createFlow({ type: 'none' });
      const basic = await createCredential('basic', { username: 'u', password: secret() });
      const put = await t.api(
        'PUT',
        `/api/v1/flows/${flow.id}`,
        webhookFlow({ auth: { type: 'stripe', credential_id: basic.id } }),
      );
      expectInvalidCredentialRef(put);
      const patch = await t.api('PATCH', `/api/v1/flows/${flow.id}`, {
        nodes: webhookFlow({ auth: { type: 'basic', credential_id: 'cred_nope' } }).nodes,
      });
      expectInvalidCredentialRef(patch);
      expectAccepted(await send(flow.url, { body: '{}' }));
    });

    it('requires a credential_id for every auth type but none', async () => {
      const res = await t.api('POST', '/api/v1/flows', webhookFlow({ auth: { type: 'github' } }));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_flow');
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ node: 'webhook_1', field: 'config.auth.credential_id' }),
        ]),
      );
    });
  });

  // --- rotation and deletion -------------------------------------------------------------------

  describe('rotation and deletion', () => {
    it('rotating a github secret takes effect for the very next request: old signature 401, new 200', async () => {
      const oldKey = secret('old');
      const hook = await protectedHook('github', { secret: oldKey });
      const payload = '{"n":1}';
      // warm the cache with the old secret
      expectAccepted(
        await send(hook.url, {
          headers: { 'x-hub-signature-256': await githubSign(oldKey, payload) },
          body: payload,
        }),
      );

      const newKey = secret('new');
      const patched = await t.api('PATCH', `/api/v1/credentials/${hook.cred.id}`, {
        data: { secret: newKey },
      });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.body.hint).toBe(`…${newKey.slice(-4)}`);

      expectUnauthorized(
        await send(hook.url, {
          headers: { 'x-hub-signature-256': await githubSign(oldKey, payload) },
          body: payload,
        }),
        [oldKey, newKey],
      );
      expectAccepted(
        await send(hook.url, {
          headers: { 'x-hub-signature-256': await githubSign(newKey, payload) },
          body: payload,
        }),
      );
      expect(await runIds(hook.id)).toHaveLength(2);
    });

    it('rotating a basic password takes effect for the very next request', async () => {
      const oldPw = secret('old');
      const hook = await protectedHook('basic', { username: 'u', password: oldPw });
      expectAccepted(
        await send(hook.url, { headers: { authorization: basicHeader('u', oldPw) }, body: '{}' }),
      );
      const newPw = secret('new');
      const patched = await t.api('PATCH', `/api/v1/credentials/${hook.cred.id}`, {
        data: { username: 'u', password: newPw },
      });
      expect(patched.status).toBe(200);
      expectUnauthorized(
        await send(hook.url, { headers: { authorization: basicHeader('u', oldPw) }, body: '{}' }),
      );
      expectAccepted(
        await send(hook.url, { headers: { authorization: basicHeader('u', newPw) }, body: '{}' }),
      );
      expect(await runIds(hook.id)).toHaveLength(2);
    });

    it('every one of many successive rotations takes effect for the very next request', async () => {
      // A NOTIFY reaches the app's own LISTEN connection asynchronously; each round gives the old
      // cache entry a chance to answer the request that follows the PATCH.
      const tokens = Array.from({ length: 31 }, (_, i) => `tok_${i}_${randomBytes(8).toString('hex')}`);
      const hook = await protectedHook('bearer', { token: tokens[0] });
      const stale: number[] = [];
      for (let i = 1; i < tokens.length; i++) {
        expectAccepted(
          await send(hook.url, { headers: { authorization: `Bearer ${tokens[i - 1]}` }, body: '{}' }),
        );
        const patched = await t.api('PATCH', `/api/v1/credentials/${hook.cred.id}`, {
          data: { token: tokens[i] },
        });
        expect(patched.status).toBe(200);
        const old = await send(hook.url, {
          headers: { authorization: `Bearer ${tokens[i - 1]}` },
          body: '{}',
        });
        if (old.status !== 401) stale.push(i);
      }
      expect(stale, 'rounds in which the old token was still accepted after rotation').toEqual([]);
      expect(await runIds(hook.id)).toHaveLength(tokens.length - 1);
    });

    it('renaming a credential keeps its secret working', async () => {
      const token = secret('tok');
      const hook = await protectedHook('bearer', { token });
      expectAccepted(await send(hook.url, { headers: { authorization: `Bearer ${token}` }, body: '{}' }));
      const renamed = await t.api('PATCH', `/api/v1/credentials/${hook.cred.id}`, { name: 'renamed' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ name: 'renamed', type: 'bearer', hint: `…${token.slice(-4)}` });
      expectAccepted(await send(hook.url, { headers: { authorization: `Bearer ${token}` }, body: '{}' }));
    });

    it('deleting the credential makes its hooks fail closed with 401 and no run', async () => {
      const key = secret('gh');
      const hook = await protectedHook('github', { secret: key });
      const payload = '{"n":1}';
      const sig = await githubSign(key, payload);
      expectAccepted(await send(hook.url, { headers: { 'x-hub-signature-256': sig }, body: payload }));

      const del = await t.api('DELETE', `/api/v1/credentials/${hook.cred.id}`);
      expect(del.status).toBe(204);
      expect((await t.api('GET', `/api/v1/credentials/${hook.cred.id}`)).status).toBe(404);

      expectUnauthorized(await send(hook.url, { headers: { 'x-hub-signature-256': sig }, body: payload }), [
        key,
      ]);
      expectUnauthorized(await send(hook.url, { body: payload }), [key]);
      expect(await runIds(hook.id)).toHaveLength(1);
    });

    it('deleting a basic credential makes the right password fail closed too', async () => {
      const password = secret('pw');
      const hook = await protectedHook('basic', { username: 'u', password });
      expectAccepted(
        await send(hook.url, { headers: { authorization: basicHeader('u', password) }, body: '{}' }),
      );
      expect((await t.api('DELETE', `/api/v1/credentials/${hook.cred.id}`)).status).toBe(204);
      expectUnauthorized(
        await send(hook.url, { headers: { authorization: basicHeader('u', password) }, body: '{}' }),
      );
      expect(await runIds(hook.id)).toHaveLength(1);
    });
  });

  // --- what the stored trigger keeps -----------------------------------------------------------

  describe('stored trigger', () => {
    it('redacts the Authorization of an accepted basic request but keeps signature headers', async () => {
      const password = secret('pw');
      const hook = await protectedHook('basic', { username: 'u', password });
      const runId = expectAccepted(
        await send(hook.url, {
          headers: {
            authorization: basicHeader('u', password),
            'x-hub-signature-256': 'sha256=0123456789abcdef',
            'x-request-source': 'shop',
          },
          body: '{"order":1}',
        }),
      );
      const run = await getRun(runId);
      expect(run.trigger.headers.authorization).toBe('[redacted]');
      expect(run.trigger.headers['x-hub-signature-256']).toBe('sha256=0123456789abcdef');
      expect(run.trigger.headers['x-request-source']).toBe('shop');
      expect(run.trigger.body).toEqual({ order: 1 });
      expect(JSON.stringify(run)).not.toContain(password);
      expect(JSON.stringify(run)).not.toContain(Buffer.from(`u:${password}`).toString('base64'));
    });

    it('redacts the bearer token of an accepted request', async () => {
      const token = secret('tok');
      const hook = await protectedHook('bearer', { token });
      const runId = expectAccepted(
        await send(hook.url, { headers: { authorization: `Bearer ${token}` }, body: '{}' }),
      );
      const run = await getRun(runId);
      expect(run.trigger.headers.authorization).toBe('[redacted]');
      expect(JSON.stringify(run)).not.toContain(token);
    });

    it('redacts an api_key header and an api_key query parameter, keeping the other parameters', async () => {
      const value = secret('key');
      const inHeader = await protectedHook('api_key', { in: 'header', name: 'X-Api-Key', value });
      const r1 = await getRun(
        expectAccepted(
          await send(inHeader.url, { headers: { 'X-Api-Key': value, 'x-other': 'kept' }, body: '{}' }),
        ),
      );
      expect(r1.trigger.headers['x-api-key']).toBe('[redacted]');
      expect(r1.trigger.headers['x-other']).toBe('kept');
      expect(JSON.stringify(r1)).not.toContain(value);

      const inQuery = await protectedHook('api_key', { in: 'query', name: 'token', value });
      const r2 = await getRun(
        expectAccepted(await send(inQuery.url, { query: { token: value, shop: 'acme' }, body: '{}' })),
      );
      expect(r2.trigger.query).toEqual({ token: '[redacted]', shop: 'acme' });
      expect(JSON.stringify(r2)).not.toContain(value);
    });

    it('redacts the X-Gitlab-Token of an accepted gitlab request', async () => {
      const token = secret('glwht');
      const hook = await protectedHook('gitlab', { token });
      const runId = expectAccepted(
        await send(hook.url, {
          headers: { 'x-gitlab-token': token, 'x-gitlab-event': 'Push Hook' },
          body: '{}',
        }),
      );
      const run = await getRun(runId);
      expect(run.trigger.headers['x-gitlab-token']).toBe('[redacted]');
      expect(run.trigger.headers['x-gitlab-event']).toBe('Push Hook');
      expect(JSON.stringify(run)).not.toContain(token);
      expectUnauthorized(await send(hook.url, { headers: { 'x-gitlab-token': `${token}x` }, body: '{}' }), [
        token,
      ]);
      expect(await runIds(hook.id)).toEqual([runId]);
    });

    it('keeps the X-Hub-Signature-256 of an accepted github request as sent', async () => {
      const key = secret('gh');
      const hook = await protectedHook('github', { secret: key });
      const payload = '{"zen":"Keep it logically awesome."}';
      const sig = await githubSign(key, payload);
      const run = await getRun(
        expectAccepted(await send(hook.url, { headers: { 'x-hub-signature-256': sig }, body: payload })),
      );
      expect(run.trigger.headers['x-hub-signature-256']).toBe(sig);
      expect(run.trigger.body).toEqual({ zen: 'Keep it logically awesome.' });
      expect(JSON.stringify(run)).not.toContain(key);
    });
  });

  // --- tenants ---------------------------------------------------------------------------------

  describe('tenant isolation', () => {
    async function secondTenantKey() {
      const tenant = await t.api('POST', '/api/v1/tenants', {
        name: `Tenant ${randomBytes(3).toString('hex')}`,
      });
      expect(tenant.status, tenant.text).toBe(201);
      const key = await t.api('POST', '/api/v1/api-keys', {
        name: 'other tenant',
        tenant_id: tenant.body.id,
      });
      expect(key.status, key.text).toBe(201);
      expect(key.body.tenant_id).toBe(tenant.body.id);
      return { tenantId: tenant.body.id as string, key: key.body.key as string };
    }

    it("another tenant's key gets 404 on this tenant's credential and cannot see it in its list", async () => {
      const other = await secondTenantKey();
      const password = secret('pw');
      const mine = await createCredential('basic', { username: 'u', password });

      const get = await t.api('GET', `/api/v1/credentials/${mine.id}`, undefined, other.key);
      expect(get.status).toBe(404);
      expect(get.body).toMatchObject({ msg: expect.any(String), code: expect.any(String) });
      const patch = await t.api(
        'PATCH',
        `/api/v1/credentials/${mine.id}`,
        { data: { username: 'u', password: 'hijacked!' } },
        other.key,
      );
      expect(patch.status).toBe(404);
      expect((await t.api('DELETE', `/api/v1/credentials/${mine.id}`, undefined, other.key)).status).toBe(
        404,
      );
      const list = await t.api('GET', '/api/v1/credentials', undefined, other.key);
      expect(list.status).toBe(200);
      expect(list.body.data.map((c: { id: string }) => c.id)).not.toContain(mine.id);

      // still intact for its owner
      const own = await t.api('GET', `/api/v1/credentials/${mine.id}`);
      expect(own.status).toBe(200);
      expect(own.body.hint).toBe(`…${password.slice(-4)}`);
    });

    it("a flow of another tenant cannot use this tenant's credential id (400 invalid_flow)", async () => {
      const other = await secondTenantKey();
      const mine = await createCredential('github', { secret: secret('gh') });
      const res = await t.api(
        'POST',
        '/api/v1/flows',
        webhookFlow({ auth: { type: 'github', credential_id: mine.id } }),
        other.key,
      );
      expect(res.status, res.text).toBe(400);
      expect(res.body.code).toBe('invalid_flow');
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ node: 'webhook_1', field: 'config.auth.credential_id' }),
        ]),
      );

      // and the other way round: this tenant cannot use the other tenant's credential
      const theirs = await createCredential('github', { secret: secret('gh') }, other.key);
      const back = await t.api(
        'POST',
        '/api/v1/flows',
        webhookFlow({ auth: { type: 'github', credential_id: theirs.id } }),
      );
      expect(back.status).toBe(400);
      expect(back.body.code).toBe('invalid_flow');
    });

    it("a tenant's hook is not reachable under another tenant's id", async () => {
      const other = await secondTenantKey();
      const token = secret('tok');
      const hook = await protectedHook('bearer', { token });
      const wrongUrl = hook.url.replace('/hooks/default/', `/hooks/${other.tenantId}/`);
      expect(wrongUrl).not.toBe(hook.url);
      const res = await send(wrongUrl, { headers: { authorization: `Bearer ${token}` }, body: '{}' });
      expect(res.status).toBe(404);
      expect(await runIds(hook.id)).toEqual([]);
    });
  });
});

describe('twilio through /hooks, signed over PUBLIC_URL', () => {
  const PUBLIC_URL = 'https://hooks.example.test';
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL } });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function runIds(flowId: string): Promise<string[]> {
    const res = await t.api('GET', `/api/v1/runs?flow_id=${encodeURIComponent(flowId)}&limit=500`);
    expect(res.status).toBe(200);
    return (res.body.data as { id: string }[]).map((r) => r.id);
  }

  it("accepts a form POST signed by twilio's library into a run; a wrong signature is 401 with no run", async () => {
    const authToken = secret('twilio');
    const cred = await t.api('POST', '/api/v1/credentials', {
      name: 'twilio',
      type: 'twilio',
      data: { auth_token: authToken },
    });
    expect(cred.status, cred.text).toBe(201);
    const flow = await t.api(
      'POST',
      '/api/v1/flows',
      webhookFlow({ auth: { type: 'twilio', credential_id: cred.body.id } }),
    );
    expect(flow.status, flow.text).toBe(201);
    // The URL Twilio is given (and signs) is the public one; the request reaches us on 127.0.0.1.
    const publicHookUrl = `${flow.body.webhooks[0].url}?source=sms`;
    expect(publicHookUrl.startsWith(`${PUBLIC_URL}/hooks/`)).toBe(true);
    const localUrl = t.url + publicHookUrl.slice(PUBLIC_URL.length);

    const params = { AccountSid: 'AC123', From: '+14155550100', To: '+14155550199', Body: 'Grüße ✓ & more' };
    const body = new URLSearchParams(params).toString();
    const post = (signature: string) =>
      fetch(localUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body,
      });

    const good = twilio.getExpectedTwilioSignature(authToken, publicHookUrl, params);
    expect(twilio.validateRequest(authToken, good, publicHookUrl, params)).toBe(true);
    const ok = await post(good);
    const okBody = await ok.json();
    expect(ok.status, JSON.stringify(okBody)).toBe(200);
    expect(okBody).toMatchObject({ status: 'accepted', run_id: expect.stringMatching(/^run_/) });
    expect(await runIds(flow.body.id)).toEqual([okBody.run_id]);
    const run = await t.api('GET', `/api/v1/runs/${okBody.run_id}`);
    expect(run.body.trigger.body).toMatchObject({ Body: 'Grüße ✓ & more', From: '+14155550100' });

    for (const wrong of [
      twilio.getExpectedTwilioSignature(`${authToken}x`, publicHookUrl, params), // another token
      twilio.getExpectedTwilioSignature(authToken, localUrl, params), // the URL we were reached on
      twilio.getExpectedTwilioSignature(authToken, publicHookUrl, { ...params, Body: 'other' }),
    ]) {
      const res = await post(wrong);
      const text = await res.text();
      expect(res.status, text).toBe(401);
      expect(JSON.parse(text)).toMatchObject({ code: 'unauthorized', msg: expect.any(String) });
      expect(text).not.toContain(authToken);
    }
    expect(await runIds(flow.body.id)).toEqual([okBody.run_id]);
  });
});
