/** The http node against a real receiver on 127.0.0.1, through the real SSRF-guarded client. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, runState, testEffects } from '../../../test/helpers/nodes.ts';
import { type Receiver, startReceiver } from '../../../test/helpers/receiver.ts';
import { httpNode } from './index.ts';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver((req, res) => {
    const status = req.url.startsWith('/missing') ? 404 : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ got: req.body ? JSON.parse(req.body) : null }));
  });
});
afterAll(async () => {
  await receiver.close();
});

describe('http node', () => {
  it('sends the rendered method, URL, query, headers and JSON body; the parsed answer is its output', async () => {
    const state = runState({ body: { sku: 'K-1', qty: 2 } });
    const { result } = await runNode(
      httpNode,
      {
        method: 'POST',
        url: `${receiver.url}/stock/\${Webhook::Body.sku}`,
        query: { qty: '${Webhook::Body.qty}' },
        headers: { 'X-Sku': '${Webhook::Body.sku}' },
        body: { sku: '${Webhook::Body.sku}' },
      },
      { state },
    );
    const got = receiver.received.at(-1);
    expect(got).toMatchObject({ method: 'POST', url: '/stock/K-1?qty=2', body: '{"sku":"K-1"}' });
    expect(got?.headers).toMatchObject({ 'x-sku': 'K-1', 'content-type': 'application/json' });
    expect(result).toMatchObject({
      kind: 'done',
      checkpoint: true,
      output: { status: 200, body: { got: { sku: 'K-1' } } },
    });
  });

  it('applies a bearer credential and records the request with it redacted', async () => {
    const effects = testEffects({
      credential: async (_tenant, id) =>
        id === 'cred_1' ? { type: 'bearer', data: { token: 'tok-secret-1' } } : undefined,
    });
    const { result } = await runNode(
      httpNode,
      { url: `${receiver.url}/me`, credential_id: 'cred_1' },
      { effects },
    );
    expect(receiver.received.at(-1)?.headers.authorization).toBe('Bearer tok-secret-1');
    expect((result as { input: { headers: Record<string, string> } }).input.headers.authorization).toBe(
      '[redacted]',
    );
    expect(JSON.stringify(result)).not.toContain('tok-secret-1');
  });

  it('fails on an answer outside 2xx unless fail_on_error_status is false', async () => {
    await expect(runNode(httpNode, { url: `${receiver.url}/missing` })).rejects.toThrow(
      /GET 127\.0\.0\.1:\d+\/missing answered 404/,
    );
    const { result } = await runNode(httpNode, {
      url: `${receiver.url}/missing`,
      fail_on_error_status: false,
    });
    expect(result).toMatchObject({ kind: 'done', output: { status: 404 } });
  });

  it('refuses, on save, a credential of a type that cannot sign an outbound call', () => {
    expect(
      httpNode.credentialRefs?.(httpNode.schema.parse({ url: 'https://x', credential_id: 'c' })),
    ).toEqual([{ field: 'credential_id', id: 'c', types: ['basic', 'bearer', 'api_key', 'hmac'] }]);
  });
});
