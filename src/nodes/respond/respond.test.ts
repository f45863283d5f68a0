import { describe, expect, it } from 'vitest';
import { runNode, runState } from '../../../test/helpers/nodes.ts';
import { respondNode } from './index.ts';

describe('respond node', () => {
  it('sets the run response (the first respond wins), JSON for an object body, checkpointed when a sender waits', async () => {
    const state = { ...runState({ body: { id: 'A-1' } }), waitResponse: true };
    const first = await runNode(
      respondNode,
      { status: 201, body: { got: '${Webhook::Body.id}' }, headers: { 'X-Id': '${Webhook::Body.id}' } },
      { state },
    );
    expect(state.response).toEqual({
      status: 201,
      headers: { 'x-id': 'A-1', 'content-type': 'application/json; charset=utf-8' },
      body: '{"got":"A-1"}',
    });
    expect(first.result).toMatchObject({
      kind: 'done',
      checkpoint: true,
      output: { status: 201, used: true },
    });
    const second = await runNode(respondNode, { status: 500, body: 'late' }, { state });
    expect(second.result).toMatchObject({
      kind: 'done',
      checkpoint: false,
      output: { status: 500, used: false },
    });
    expect(state.response?.status).toBe(201);
  });

  it('answers a string body as text/plain unless a content type is given; header values stay on one line', async () => {
    const state = runState();
    await runNode(respondNode, { body: 'ok', headers: { 'x-a': 'one\r\ntwo' } }, { state });
    expect(state.response).toEqual({
      status: 200,
      headers: { 'x-a': 'one  two', 'content-type': 'text/plain; charset=utf-8' },
      body: 'ok',
    });
  });
});
