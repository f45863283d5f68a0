/** The webhook_call node through the real caller (src/delivery/webhookCall.ts), a real database and receiver. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts';
import { runNode, runState, testEffects } from '../../../test/helpers/nodes.ts';
import { type Receiver, startReceiver } from '../../../test/helpers/receiver.ts';
import { createEndpoint } from '../../delivery/endpoints/store.ts';
import { OutboundClient } from '../../delivery/httpClient.ts';
import { createWebhookCaller } from '../../delivery/webhookCall.ts';
import { webhookCallNode } from './index.ts';

let tdb: TestDatabase;
let receiver: Receiver;
const secretKey = randomBytes(32);
const client = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });

beforeAll(async () => {
  tdb = await createTestDatabase();
  receiver = await startReceiver((req, res) => {
    res.writeHead(req.url.startsWith('/down') ? 503 : 200, { 'content-type': 'application/json' });
    res.end('{"price":12.5}');
  });
});
afterAll(async () => {
  await client.close();
  await receiver.close();
  await tdb?.drop();
});

const effects = () =>
  testEffects({ webhookCall: createWebhookCaller({ database: tdb.database, secretKey, client }) });

describe('webhook_call node', () => {
  it('sends method_name and the chosen params groups; the answer is its output and goes into its target', async () => {
    const ep = await createEndpoint(tdb.database, secretKey, 'default', {
      name: 'prices',
      url: `${receiver.url}/rpc`,
    });
    const state = {
      ...runState({ body: { sku: 'K-1' } }),
      vars: { tier: 'gold' } as Record<string, unknown>,
    };
    const { result } = await runNode(
      webhookCallNode,
      {
        endpoint_id: ep.id,
        method_name: 'price',
        params: ['call', 'user.key'],
        body: { sku: '${Webhook::Body.sku}' },
        into: 'vars.price',
      },
      { state, effects: effects() },
    );
    const sent = JSON.parse(receiver.received.at(-1)?.body ?? '{}');
    expect(sent).toMatchObject({
      method: 'price',
      params: { call: { sku: 'K-1' }, 'user.key': { tier: 'gold' } },
      run_id: 'run_test',
      node_id: 'webhook_call_1',
    });
    expect(sent.params['flow.key']).toBeUndefined();
    expect(result).toMatchObject({
      kind: 'done',
      checkpoint: true,
      output: { status: 200, body: { price: 12.5 } },
    });
    expect(state.vars.price).toEqual({ price: 12.5 });
  });

  it('fails the node on an answer outside 2xx', async () => {
    const ep = await createEndpoint(tdb.database, secretKey, 'default', {
      name: 'down',
      url: `${receiver.url}/down`,
    });
    await expect(runNode(webhookCallNode, { endpoint_id: ep.id }, { effects: effects() })).rejects.toThrow(
      'the endpoint answered 503',
    );
  });
});
