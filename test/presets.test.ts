/**
 * Provider presets end to end (docs/api.md §3.10): credentials and flows made through the API, requests to
 * the real /hooks endpoint signed the way each provider signs (octokit for GitHub, the stripe,
 * twilio and standardwebhooks packages, plain HMAC as the providers document it for the rest).
 * Every handshake is answered without a run, every delivery id is de-duplicated, a wrong signature
 * is 401 with no run, a preset needs auth of its type, and GET /api/v1/presets lists them all.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, webhookFlow } from './helpers/app.ts';

const PUBLIC_URL = 'https://hooks.example.test';
const stripe = new Stripe('sk_test_x');

type Data = Record<string, string>;
type Headers = Record<string, string>;
type HookResponse = { status: number; headers: Headers; text: string; json: any };

const secret = (prefix = 's3cr3t') => `${prefix}_${randomBytes(12).toString('hex')}`;
const hmacOf = (key: string, message: string, encoding: 'hex' | 'base64') =>
  createHmac('sha256', key).update(message).digest(encoding);
const nowS = () => String(Math.floor(Date.now() / 1000));

const PRESET_IDS = [
  'github',
  'gitlab',
  'stripe',
  'slack',
  'shopify',
  'twilio',
  'meta',
  'zoom',
  'x',
  'dropbox',
  'microsoft_graph',
  'svix',
  'standard_webhooks',
  'linear',
  'square',
];
/** The credential type of each preset (null: none needed). */
const CREDENTIAL_TYPE: Record<string, string | null> = {
  ...Object.fromEntries(PRESET_IDS.map((id) => [id, id])),
  microsoft_graph: null,
  svix: 'standard_webhooks',
};
const WITH_HANDSHAKE = ['github', 'slack', 'zoom', 'meta', 'x', 'dropbox', 'microsoft_graph'];
const WITH_DEDUPE = [
  'github',
  'gitlab',
  'stripe',
  'slack',
  'shopify',
  'twilio',
  'svix',
  'standard_webhooks',
  'linear',
  'square',
];

/**
 * Per credential type: fresh credential data and the headers the provider signs a body with. `url`
 * is the public URL the provider called; `extra` are the other headers of the request (the
 * Standard Webhooks id is part of what is signed).
 */
type Signer = {
  data: () => Data;
  contentType?: string;
  sign: (data: Data, body: string, url: string, extra: Headers) => Promise<Headers> | Headers;
};
const v0 = (sigHeader: string, tsHeader: string) => (d: Data, body: string) => {
  const ts = nowS();
  return { [tsHeader]: ts, [sigHeader]: `v0=${hmacOf(d.secret, `v0:${ts}:${body}`, 'hex')}` };
};
const signers: Record<string, Signer> = {
  github: {
    data: () => ({ secret: secret('gh') }),
    sign: async (d, body) => ({ 'x-hub-signature-256': await githubSign(d.secret, body) }),
  },
  gitlab: { data: () => ({ token: secret('gl') }), sign: (d) => ({ 'x-gitlab-token': d.token }) },
  stripe: {
    data: () => ({ secret: `whsec_${randomBytes(16).toString('hex')}` }),
    sign: (d, body) => ({
      'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: d.secret }),
    }),
  },
  slack: {
    data: () => ({ secret: secret('slack') }),
    sign: v0('x-slack-signature', 'x-slack-request-timestamp'),
  },
  zoom: { data: () => ({ secret: secret('zoom') }), sign: v0('x-zm-signature', 'x-zm-request-timestamp') },
  shopify: {
    data: () => ({ secret: secret('shpss') }),
    sign: (d, body) => ({ 'x-shopify-hmac-sha256': hmacOf(d.secret, body, 'base64') }),
  },
  twilio: {
    data: () => ({ auth_token: secret('tw') }),
    contentType: 'application/x-www-form-urlencoded',
    sign: (d, body, url) => ({
      'x-twilio-signature': twilio.getExpectedTwilioSignature(
        d.auth_token,
        url,
        Object.fromEntries(new URLSearchParams(body)),
      ),
    }),
  },
  meta: {
    data: () => ({ app_secret: secret('meta'), verify_token: secret('verify') }),
    sign: (d, body) => ({ 'x-hub-signature-256': `sha256=${hmacOf(d.app_secret, body, 'hex')}` }),
  },
  x: {
    data: () => ({ consumer_secret: secret('x') }),
    sign: (d, body) => ({
      'x-twitter-webhooks-signature': `sha256=${hmacOf(d.consumer_secret, body, 'base64')}`,
    }),
  },
  dropbox: {
    data: () => ({ app_secret: secret('dbx') }),
    sign: (d, body) => ({ 'x-dropbox-signature': hmacOf(d.app_secret, body, 'hex') }),
  },
  standard_webhooks: {
    data: () => ({ secret: `whsec_${randomBytes(24).toString('base64')}` }),
    sign: (d, body, _url, extra) => {
      const family = 'svix-id' in extra ? 'svix' : 'webhook';
      const id = extra[`${family}-id`] ?? 'msg_default';
      const at = new Date();
      return {
        [`${family}-id`]: id,
        [`${family}-timestamp`]: String(Math.floor(at.getTime() / 1000)),
        [`${family}-signature`]: new Webhook(d.secret).sign(id, at, body),
      };
    },
  },
  linear: {
    data: () => ({ secret: secret('lin') }),
    sign: (d, body) => ({ 'linear-signature': hmacOf(d.secret, body, 'hex') }),
  },
  square: {
    data: () => ({ signature_key: secret('sq') }),
    sign: (d, body, url) => ({
      'x-square-hmacsha256-signature': hmacOf(d.signature_key, url + body, 'base64'),
    }),
  },
};

describe('provider presets', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL } });
  });
  afterAll(async () => {
    await t?.close();
  });

  // --- helpers ---------------------------------------------------------------------------------

  type Hook = { id: string; url: string; publicUrl: string; preset: string; data: Data };

  /** A flow whose webhook node names `preset`, with a fresh credential of the preset's type. */
  async function presetHook(preset: string, config: Record<string, unknown> = {}): Promise<Hook> {
    const type = CREDENTIAL_TYPE[preset];
    let data: Data = {};
    let auth: Record<string, unknown> = { type: 'none' };
    if (type) {
      data = signers[type].data();
      const cred = await t.api('POST', '/api/v1/credentials', { name: `${preset} credential`, type, data });
      expect(cred.status, cred.text).toBe(201);
      auth = { type, credential_id: cred.body.id };
    }
    const res = await t.api('POST', '/api/v1/flows', webhookFlow({ preset, auth, ...config }));
    expect(res.status, res.text).toBe(201);
    const publicUrl = res.body.webhooks[0].url as string;
    expect(publicUrl.startsWith(`${PUBLIC_URL}/hooks/`)).toBe(true);
    return { id: res.body.id, url: t.url + publicUrl.slice(PUBLIC_URL.length), publicUrl, preset, data };
  }

  async function send(
    url: string,
    opts: { method?: string; headers?: Headers; body?: string; query?: Record<string, string> } = {},
  ): Promise<HookResponse> {
    const u = new URL(url);
    for (const [k, v] of Object.entries(opts.query ?? {})) u.searchParams.set(k, v);
    const res = await fetch(u, { method: opts.method ?? 'POST', headers: opts.headers, body: opts.body });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, headers: Object.fromEntries(res.headers), text, json };
  }

  /** POSTs `body` signed as the hook's provider signs it (with `data`: another secret, say). */
  async function sendSigned(hook: Hook, body: string, extra: Headers = {}, data = hook.data) {
    const signer = signers[CREDENTIAL_TYPE[hook.preset]!];
    const headers = {
      'content-type': signer.contentType ?? 'application/json',
      ...extra,
      ...(await signer.sign(data, body, hook.publicUrl, extra)),
    };
    return send(hook.url, { headers, body });
  }

  async function runIds(flowId: string): Promise<string[]> {
    const res = await t.api('GET', `/api/v1/runs?flow_id=${encodeURIComponent(flowId)}&limit=500`);
    expect(res.status).toBe(200);
    return (res.body.data as { id: string }[]).map((r) => r.id);
  }

  function expectAccepted(res: HookResponse): string {
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ status: 'accepted', run_id: expect.stringMatching(/^run_/) });
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    return res.json.run_id;
  }

  function expectUnauthorized(res: HookResponse) {
    expect(res.status, res.text).toBe(401);
    expect(res.json).toMatchObject({ code: 'unauthorized', msg: expect.any(String) });
  }

  // --- the catalog -----------------------------------------------------------------------------

  describe('GET /api/v1/presets', () => {
    it('lists all 15 presets with exactly the documented fields, each with its setup steps', async () => {
      const res = await t.api('GET', '/api/v1/presets');
      expect(res.status, res.text).toBe(200);
      expect(Object.keys(res.body)).toEqual(['data']);
      const data = res.body.data as Record<string, any>[];
      expect(data.map((p) => p.id)).toEqual(PRESET_IDS);
      for (const p of data) {
        expect(Object.keys(p).sort(), p.id).toEqual([
          'credential_type',
          'dedupe',
          'docs_url',
          'handshake',
          'headers',
          'id',
          'name',
          'secret_fields',
          'setup',
        ]);
        // The steps to follow at the provider: at least where the URL goes and where the secret is.
        expect(p.setup.length, p.id).toBeGreaterThanOrEqual(1);
        for (const step of p.setup) expect(step).toMatch(/^[A-Z].{20,}[.:)]$/s);
        expect(p.setup.join(' '), p.id).toMatch(/\bURL\b/);
        if (p.credential_type)
          expect(p.setup.join(' '), p.id).toMatch(/paste it here|paste the same string here/);
        expect(p.credential_type, p.id).toBe(CREDENTIAL_TYPE[p.id]);
        expect(typeof p.name).toBe('string');
        expect(p.name.length).toBeGreaterThan(0);
        expect(p.docs_url).toMatch(/^https:\/\/\S+$/);
        expect(Array.isArray(p.headers)).toBe(true);
        for (const h of p.headers) expect(h).toMatch(/^[A-Za-z0-9-]+$/);
        // The handshake and de-dup descriptions are there exactly for the presets that have them.
        expect(typeof p.handshake === 'string', `${p.id} handshake`).toBe(WITH_HANDSHAKE.includes(p.id));
        if (typeof p.handshake !== 'string') expect(p.handshake).toBeNull();
        expect(typeof p.dedupe === 'string', `${p.id} dedupe`).toBe(WITH_DEDUPE.includes(p.id));
        if (typeof p.dedupe !== 'string') expect(p.dedupe).toBeNull();
        // The secret fields are exactly the keys of the credential type's data.
        for (const f of p.secret_fields)
          expect(f).toEqual({ key: expect.any(String), label: expect.any(String) });
        const keys = p.secret_fields.map((f: { key: string }) => f.key).sort();
        expect(keys, p.id).toEqual(
          p.credential_type ? Object.keys(signers[p.credential_type].data()).sort() : [],
        );
      }
    });

    it('needs an API key and is in the OpenAPI document', async () => {
      const res = await t.api('GET', '/api/v1/presets', undefined, '');
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthorized');
      const doc = await t.api('GET', '/api/openapi.json', undefined, '');
      expect(doc.body.paths['/api/v1/presets']?.get).toBeDefined();
    });
  });

  // --- saving ----------------------------------------------------------------------------------

  describe('validation on save', () => {
    it('a preset whose credential type differs from auth.type is a 400 naming the node and field', async () => {
      const slackCred = await t.api('POST', '/api/v1/credentials', {
        name: 'slack',
        type: 'slack',
        data: signers.slack.data(),
      });
      const swCred = await t.api('POST', '/api/v1/credentials', {
        name: 'sw',
        type: 'standard_webhooks',
        data: signers.standard_webhooks.data(),
      });
      const cases: [string, Record<string, unknown>, string][] = [
        ['slack', { type: 'none' }, 'preset slack needs auth of type slack'],
        [
          'github',
          { type: 'slack', credential_id: slackCred.body.id },
          'preset github needs auth of type github',
        ],
        ['svix', { type: 'none' }, 'preset svix needs auth of type standard_webhooks'],
      ];
      for (const [preset, auth, msg] of cases) {
        const res = await t.api('POST', '/api/v1/flows', webhookFlow({ preset, auth }));
        expect(res.status, res.text).toBe(400);
        expect(res.body.code).toBe('invalid_flow');
        expect(res.body.errors).toContainEqual({ node: 'webhook_1', field: 'config.auth.type', msg });
        expect(res.body.msg).toContain(msg);
      }
      // An unknown preset is refused too.
      const unknown = await t.api('POST', '/api/v1/flows', webhookFlow({ preset: 'myspace' }));
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors[0]).toMatchObject({ node: 'webhook_1', field: 'config.preset' });
      // The matching types are accepted: svix with a standard_webhooks credential, Graph without one.
      for (const config of [
        { preset: 'svix', auth: { type: 'standard_webhooks', credential_id: swCred.body.id } },
        { preset: 'microsoft_graph' },
        { preset: 'slack', auth: { type: 'slack', credential_id: slackCred.body.id } },
      ]) {
        const res = await t.api('POST', '/api/v1/flows', webhookFlow(config));
        expect(res.status, res.text).toBe(201);
        expect(res.body.nodes[0].config.preset).toBe(config.preset);
      }
    });
  });

  // --- handshakes ------------------------------------------------------------------------------

  describe('handshakes, answered without a run', () => {
    it('github: a signed ping is 200 {"status":"ok"}; an unsigned one 401', async () => {
      const hook = await presetHook('github');
      const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
      const extra = { 'x-github-event': 'ping', 'x-github-delivery': 'ping-1' };
      const res = await sendSigned(hook, body, extra);
      expect(res.status, res.text).toBe(200);
      expect(res.json).toEqual({ status: 'ok' });
      expectUnauthorized(
        await send(hook.url, { headers: { 'content-type': 'application/json', ...extra }, body }),
      );
      expect(await runIds(hook.id)).toEqual([]);
    });

    it('slack: a signed url_verification is answered with its challenge, before required parameters; an unsigned one 401', async () => {
      const hook = await presetHook('slack', {
        parameters: [{ source: 'body', path: 'event.type', required: true }],
      });
      const body = JSON.stringify({ token: 'legacy', challenge: 'c-3po-r2d2', type: 'url_verification' });
      const res = await sendSigned(hook, body);
      expect(res.status, res.text).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json).toEqual({ challenge: 'c-3po-r2d2' });
      expectUnauthorized(await send(hook.url, { headers: { 'content-type': 'application/json' }, body }));
      expectUnauthorized(await sendSigned(hook, body, {}, signers.slack.data()));
      expect(await runIds(hook.id)).toEqual([]);
    });

    it('zoom: a signed endpoint.url_validation gets {plainToken, encryptedToken: hex HMAC-SHA256}; an unsigned one 401', async () => {
      const hook = await presetHook('zoom');
      const plainToken = `pt_${randomBytes(8).toString('hex')}`;
      const body = JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken }, event_ts: 1 });
      const res = await sendSigned(hook, body);
      expect(res.status, res.text).toBe(200);
      expect(res.json).toEqual({ plainToken, encryptedToken: hmacOf(hook.data.secret, plainToken, 'hex') });
      expectUnauthorized(await send(hook.url, { headers: { 'content-type': 'application/json' }, body }));
      expect(await runIds(hook.id)).toEqual([]);
    });

    it('meta: GET hub.mode=subscribe with the verify token echoes hub.challenge as text; a wrong token is 403', async () => {
      const hook = await presetHook('meta');
      const query = {
        'hub.mode': 'subscribe',
        'hub.challenge': '1158201444',
        'hub.verify_token': hook.data.verify_token,
      };
      const ok = await send(hook.url, { method: 'GET', query });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.headers['content-type']).toMatch(/^text\/plain/);
      expect(ok.text).toBe('1158201444');
      for (const wrong of [
        { ...query, 'hub.verify_token': `${hook.data.verify_token}x` },
        { ...query, 'hub.verify_token': hook.data.app_secret },
        { 'hub.mode': 'subscribe', 'hub.challenge': '1' },
      ]) {
        const res = await send(hook.url, { method: 'GET', query: wrong });
        expect(res.status, res.text).toBe(403);
        expect(res.json).toEqual({ msg: expect.any(String), code: 'verify_token_mismatch' });
        expect(res.text).not.toContain(hook.data.verify_token);
      }
      // A GET that is not the handshake gets the default verification answer.
      const plain = await send(hook.url, { method: 'GET' });
      expect(plain.json).toEqual({ status: 'ok' });
      expect(await runIds(hook.id)).toEqual([]);
    });

    it('x: GET crc_token is answered {"response_token": "sha256=" + base64 HMAC-SHA256(consumer_secret, crc_token)}', async () => {
      const hook = await presetHook('x');
      const crc = `crc_${randomBytes(8).toString('hex')}`;
      const res = await send(hook.url, { method: 'GET', query: { crc_token: crc } });
      expect(res.status, res.text).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json).toEqual({
        response_token: `sha256=${hmacOf(hook.data.consumer_secret, crc, 'base64')}`,
      });
      expect(await runIds(hook.id)).toEqual([]);
    });

    it('dropbox: GET challenge is echoed as text with X-Content-Type-Options: nosniff, also when GET triggers runs', async () => {
      for (const methods of [['POST'], ['GET', 'POST']]) {
        const hook = await presetHook('dropbox', { methods });
        const res = await send(hook.url, { method: 'GET', query: { challenge: 'abc-123' } });
        expect(res.status, res.text).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.text).toBe('abc-123');
        expect(await runIds(hook.id)).toEqual([]);
      }
    });

    it('an explicit verification answer still wins over a GET handshake', async () => {
      const hook = await presetHook('dropbox', {
        verification: { content_type: 'text/plain', body: 'configured ${Webhook::Query.challenge}' },
      });
      const res = await send(hook.url, { method: 'GET', query: { challenge: 'abc' } });
      expect(res.status).toBe(200);
      expect(res.text).toBe('configured abc');
      expect(res.headers['x-content-type-options']).toBeUndefined();
    });

    it('microsoft_graph: POST or GET with validationToken gets the token as text/plain, before any auth check', async () => {
      const token = 'Validation: Testing client application reachability for subscription Request-Id: 1';
      // Without a credential, and with one (the clientState api_key) the validation does not carry.
      const cred = await t.api('POST', '/api/v1/credentials', {
        name: 'graph client state',
        type: 'api_key',
        data: { in: 'header', name: 'X-Client-State', value: secret('cs') },
      });
      const open = await presetHook('microsoft_graph');
      const keyed = await presetHook('microsoft_graph', {
        auth: { type: 'api_key', credential_id: cred.body.id },
      });
      for (const hook of [open, keyed]) {
        for (const method of ['POST', 'GET']) {
          const res = await send(hook.url, {
            method,
            query: { validationToken: token },
            ...(method === 'POST' ? { headers: { 'content-type': 'text/plain' }, body: '' } : {}),
          });
          expect(res.status, `${method}: ${res.text}`).toBe(200);
          expect(res.headers['content-type']).toMatch(/^text\/plain/);
          expect(res.text).toBe(token);
        }
        expect(await runIds(hook.id)).toEqual([]);
      }
      // A notification itself still needs the credential.
      expectUnauthorized(
        await send(keyed.url, { headers: { 'content-type': 'application/json' }, body: '{}' }),
      );
    });
  });

  // --- de-duplication --------------------------------------------------------------------------

  describe('de-duplication on the delivery id', () => {
    const cases: [string, (id: string) => { body: string; extra: Headers }][] = [
      [
        'github',
        (id) => ({
          body: '{"action":"opened"}',
          extra: { 'x-github-event': 'issues', 'x-github-delivery': id },
        }),
      ],
      ['gitlab', (id) => ({ body: '{"object_kind":"push"}', extra: { 'x-gitlab-event-uuid': id } })],
      [
        'stripe',
        (id) => ({ body: JSON.stringify({ id, object: 'event', type: 'charge.succeeded' }), extra: {} }),
      ],
      [
        'slack',
        (id) => ({
          body: JSON.stringify({ type: 'event_callback', event_id: id, event: { type: 'message' } }),
          extra: {},
        }),
      ],
      ['shopify', (id) => ({ body: '{"id":820982911}', extra: { 'x-shopify-webhook-id': id } })],
      [
        'twilio',
        (id) => ({ body: 'CallSid=CA123&From=%2B15551234567', extra: { 'i-twilio-idempotency-token': id } }),
      ],
      ['svix', (id) => ({ body: '{"type":"user.created"}', extra: { 'svix-id': id } })],
      ['standard_webhooks', (id) => ({ body: '{"type":"order.created"}', extra: { 'webhook-id': id } })],
      ['standard_webhooks', (id) => ({ body: '{"type":"order.created"}', extra: { 'svix-id': id } })],
      ['linear', (id) => ({ body: '{"action":"create","type":"Issue"}', extra: { 'linear-delivery': id } })],
      ['square', (id) => ({ body: JSON.stringify({ event_id: id, type: 'payment.created' }), extra: {} })],
    ];

    it.each(cases)(
      '%s: a repeated delivery starts one run and is answered the same, Idempotent-Replayed: true',
      async (preset, delivery) => {
        const hook = await presetHook(preset);
        const first = delivery(`dlv_${randomBytes(6).toString('hex')}`);
        const runId = expectAccepted(await sendSigned(hook, first.body, first.extra));
        // The provider retries: the same id, signed afresh.
        const again = await sendSigned(hook, first.body, first.extra);
        expect(again.status, again.text).toBe(200);
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect(again.json).toEqual({ status: 'accepted', run_id: runId });
        expect(await runIds(hook.id)).toEqual([runId]);
        // Another delivery is another run.
        const next = delivery(`dlv_${randomBytes(6).toString('hex')}`);
        const runId2 = expectAccepted(await sendSigned(hook, next.body, next.extra));
        expect((await runIds(hook.id)).sort()).toEqual([runId, runId2].sort());
      },
    );

    it("a node's own idempotency config replaces the preset's de-duplication", async () => {
      const hook = await presetHook('github', { idempotency: { header: 'X-Request-Key', window_s: 60 } });
      const body = '{"action":"opened"}';
      const delivery = { 'x-github-event': 'issues', 'x-github-delivery': 'same-delivery' };
      const a = expectAccepted(await sendSigned(hook, body, { ...delivery, 'x-request-key': 'k1' }));
      const b = expectAccepted(await sendSigned(hook, body, { ...delivery, 'x-request-key': 'k2' }));
      const replay = await sendSigned(hook, body, {
        ...delivery,
        'x-github-delivery': 'other',
        'x-request-key': 'k1',
      });
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json.run_id).toBe(a);
      expect((await runIds(hook.id)).sort()).toEqual([a, b].sort());
    });

    it('a delivery without an id is not de-duplicated', async () => {
      const hook = await presetHook('github');
      const body = '{"action":"opened"}';
      expectAccepted(await sendSigned(hook, body, { 'x-github-event': 'issues' }));
      expectAccepted(await sendSigned(hook, body, { 'x-github-event': 'issues' }));
      expect(await runIds(hook.id)).toHaveLength(2);
    });
  });

  // --- signatures ------------------------------------------------------------------------------

  describe('signatures', () => {
    const signed = PRESET_IDS.filter((id) => CREDENTIAL_TYPE[id]);
    const bodyFor = (preset: string) =>
      preset === 'twilio'
        ? 'CallSid=CA1&From=%2B15551234567'
        : JSON.stringify({ id: 'evt_1', event_id: 'e1' });

    it.each(signed)('%s: a right signature is accepted; a wrong one is 401 with no run', async (preset) => {
      const hook = await presetHook(preset);
      const type = CREDENTIAL_TYPE[preset]!;
      expectUnauthorized(await sendSigned(hook, bodyFor(preset), {}, signers[type].data()));
      expectUnauthorized(
        await send(hook.url, {
          headers: { 'content-type': signers[type].contentType ?? 'application/json' },
          body: bodyFor(preset),
        }),
      );
      expect(await runIds(hook.id)).toEqual([]);
      const runId = expectAccepted(await sendSigned(hook, bodyFor(preset)));
      expect(await runIds(hook.id)).toEqual([runId]);
    });
  });
});
