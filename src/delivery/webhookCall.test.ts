/**
 * webhook_call against a real receiver on 127.0.0.1: the request verifies with the
 * `standardwebhooks` package, carries the endpoint's headers and auth, goes through the SSRF guard
 * (refused without an allow-list entry), and unknown or disabled endpoints throw.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.ts';
import type { WebhookCallRequest } from '../flows/engine.ts';
import {
  createEndpoint,
  type EndpointInput,
  rotateEndpointSecret,
  updateEndpoint,
} from './endpoints/store.ts';
import { OutboundClient, OutboundError } from './httpClient.ts';
import { createWebhookCaller } from './webhookCall.ts';

type Received = { method: string; url: string; headers: IncomingHttpHeaders; body: string };

let tdb: TestDatabase;
let server: Server;
let receiverUrl: string;
let received: Received[] = [];
let answer: { status: number; body: string } = { status: 200, body: '{"ok":true}' };
const secretKey = randomBytes(32);
const allowLoopback = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });
const guarded = new OutboundClient();

beforeAll(async () => {
  tdb = await createTestDatabase();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await allowLoopback.close();
  await guarded.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await tdb?.drop();
});
beforeEach(() => {
  received = [];
  answer = { status: 200, body: '{"ok":true}' };
});

function call(endpointId: string, extra: Partial<WebhookCallRequest> = {}): WebhookCallRequest {
  return {
    endpointId,
    methodName: 'customer.lookup',
    params: { call: { id: 7 }, 'flow.key': { customer: 'c_1' }, 'user.key': 'u-9' },
    runId: 'run_1',
    flowId: 'flow_1',
    nodeId: 'webhook_call_1',
    ...extra,
  };
}

async function endpoint(input: Partial<EndpointInput> = {}) {
  return createEndpoint(tdb.database, secretKey, 'default', {
    name: 'receiver',
    url: `${receiverUrl}/rpc?x=1`,
    ...input,
  });
}

describe('webhook_call', () => {
  it('sends a signed JSON body that verifies with the standardwebhooks package', async () => {
    const ep = await endpoint({ headers: { 'x-team': 'ops' } });
    const caller = createWebhookCaller({ database: tdb.database, secretKey, client: allowLoopback });
    answer = { status: 200, body: '{"customer":{"name":"Ada"}}' };
    const res = await caller('default', call(ep.id));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ customer: { name: 'Ada' } });

    expect(received).toHaveLength(1);
    const got = received[0];
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/rpc?x=1');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-team']).toBe('ops');
    expect(got.headers['user-agent']).toMatch(/^Hookflow\//);
    expect(got.headers['webhook-id']).toMatch(/^msg_/);
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    const verified = new Webhook(ep.signing_secret).verify(got.body, got.headers as Record<string, string>);
    expect(verified).toEqual({
      method: 'customer.lookup',
      params: { call: { id: 7 }, 'flow.key': { customer: 'c_1' }, 'user.key': 'u-9' },
      run_id: 'run_1',
      flow_id: 'flow_1',
      node_id: 'webhook_call_1',
    });
    // Another secret does not verify it.
    expect(() =>
      new Webhook(`whsec_${randomBytes(24).toString('base64')}`).verify(
        got.body,
        got.headers as Record<string, string>,
      ),
    ).toThrow();
  });

  it('sends method null when no method name is given, with the endpoint method', async () => {
    const ep = await endpoint({ method: 'PUT' });
    const caller = createWebhookCaller({ database: tdb.database, secretKey, client: allowLoopback });
    await caller('default', call(ep.id, { methodName: undefined }));
    expect(received[0].method).toBe('PUT');
    expect(JSON.parse(received[0].body).method).toBeNull();
  });

  it('sends basic auth, api_key and bearer auth', async () => {
    const caller = createWebhookCaller({ database: tdb.database, secretKey, client: allowLoopback });
    const basic = await endpoint({ auth: { type: 'basic', username: 'crm', password: 's3cret:pw' } });
    await caller('default', call(basic.id));
    expect(received[0].headers.authorization).toBe(
      `Basic ${Buffer.from('crm:s3cret:pw').toString('base64')}`,
    );

    const apiKey = await endpoint({ auth: { type: 'api_key', header: 'X-Api-Key', value: 'k-123' } });
    await caller('default', call(apiKey.id));
    expect(received[1].headers['x-api-key']).toBe('k-123');

    const bearer = await endpoint({ auth: { type: 'bearer', token: 'tok-9' } });
    await caller('default', call(bearer.id));
    expect(received[2].headers.authorization).toBe('Bearer tok-9');
  });

  it('signs with both secrets during a rotation; each verifies alone', async () => {
    const ep = await endpoint();
    let nowMs = Date.now();
    const rotated = await rotateEndpointSecret(tdb.database, secretKey, 'default', ep.id, { nowMs });
    const caller = createWebhookCaller({
      database: tdb.database,
      secretKey,
      client: allowLoopback,
      now: () => nowMs,
    });
    await caller('default', call(ep.id));
    const got = received[0];
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [ep.signing_secret, rotated!.signing_secret])
      expect(() => new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).not.toThrow();

    // After 24 h only the new secret signs.
    nowMs += 24 * 3600 * 1000 + 1000;
    await caller('default', call(ep.id));
    expect(String(received[1].headers['webhook-signature']).split(' ')).toHaveLength(1);
  });

  it('returns non-2xx answers for the caller to judge', async () => {
    const ep = await endpoint();
    const caller = createWebhookCaller({ database: tdb.database, secretKey, client: allowLoopback });
    answer = { status: 503, body: 'busy' };
    const res = await caller('default', call(ep.id));
    expect(res.status).toBe(503);
    expect(res.body.toString()).toBe('busy');
  });

  it('is refused by the SSRF guard with ssrf_refused when loopback is not allowed', async () => {
    const ep = await endpoint();
    const caller = createWebhookCaller({ database: tdb.database, secretKey, client: guarded });
    const err = await caller('default', call(ep.id)).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect(err.code).toBe('ssrf_refused');
    expect(received).toHaveLength(0);
  });

  it('throws for an unknown endpoint, another tenant’s endpoint and a disabled one', async () => {
    const caller = createWebhookCaller({ database: tdb.database, secretKey, client: allowLoopback });
    await expect(caller('default', call('ep_missing'))).rejects.toThrow(
      'endpoint "ep_missing" does not exist',
    );

    await tdb.database.pool.query(
      `insert into tenants (id, name) values ('other', 'Other') on conflict do nothing`,
    );
    const ep = await endpoint();
    await expect(caller('other', call(ep.id))).rejects.toThrow(`endpoint "${ep.id}" does not exist`);

    await updateEndpoint(tdb.database, secretKey, 'default', ep.id, { enabled: false });
    await expect(caller('default', call(ep.id))).rejects.toThrow(`endpoint "${ep.id}" is disabled`);
    expect(received).toHaveLength(0);
  });

  it('fails with response_too_large beyond 1 MiB', async () => {
    const ep = await endpoint();
    const caller = createWebhookCaller({ database: tdb.database, secretKey, client: allowLoopback });
    answer = { status: 200, body: 'x'.repeat(1024 * 1024 + 10) };
    const err = await caller('default', call(ep.id)).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect(err.code).toBe('response_too_large');
  });
});
