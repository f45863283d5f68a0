import { describe, expect, it } from 'vitest';
import { configProblems, runNode, runState } from '../../../test/helpers/nodes.ts';
import { webhookNode } from './index.ts';

describe('webhook node', () => {
  it('fills the inbound defaults on save: POST, no auth, no parameters, ack', () => {
    expect(webhookNode.schema.parse({})).toMatchObject({
      methods: ['POST'],
      auth: { type: 'none' },
      parameters: [],
      response: { mode: 'ack' },
    });
  });

  it("refuses a preset whose credential type is not the node's auth type, and a bad parameter path", () => {
    expect(
      configProblems(webhookNode, {
        preset: 'slack',
        auth: { type: 'github', credential_id: 'cred_1' },
        parameters: [{ source: 'body', path: 'a..b' }],
      }),
    ).toEqual([
      'auth.type: preset slack needs auth of type slack',
      expect.stringMatching(/^parameters\[0\]\.path: /),
    ]);
  });

  it('names its credential for the check on save', () => {
    const config = webhookNode.schema.parse({ auth: { type: 'github', credential_id: 'cred_9' } });
    expect(webhookNode.credentialRefs?.(config)).toEqual([
      { field: 'auth.credential_id', id: 'cred_9', types: ['github'] },
    ]);
  });

  it('records the request method and path when a run passes through it', async () => {
    const { result } = await runNode(
      webhookNode,
      {},
      { state: runState({ method: 'PUT', path: '/hooks/default/flw_test' }) },
    );
    expect(result).toEqual({ kind: 'done', output: { method: 'PUT', path: '/hooks/default/flw_test' } });
  });
});
