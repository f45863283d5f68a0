import { describe, expect, it } from 'vitest';
import type { EngineEffects, NodeRecord } from '../flows/engine.ts';
import { NodeFailure } from '../nodes/util.ts';
import { canonical, NOT_SENT, replayEffects } from './effects.ts';

/** Effects that fail the test if anything reaches them: a replay must not call out. */
const base = {
  now: () => Date.parse('2026-12-03T00:00:00Z'),
  http: async () => {
    throw new Error('a replay made a real request');
  },
  webhookCall: async () => {
    throw new Error('a replay called an endpoint');
  },
} as unknown as EngineEffects;

const httpRecord = (
  url: string,
  body: string | undefined,
  output: unknown,
  extra: Partial<NodeRecord> = {},
) =>
  ({
    id: 'http_1',
    type: 'http',
    status: 'succeeded',
    input: { method: 'POST', url, headers: {}, body },
    output,
    ...extra,
  }) as NodeRecord;

describe('the effects of a replay run', () => {
  it('answers the same request with the recorded answer, JSON bodies compared by value', async () => {
    const fx = replayEffects(base, {
      nodes: [
        httpRecord('https://api.test/p?a=1', '{"x":1,"y":2}', {
          status: 201,
          headers: {},
          body: { ok: true },
        }),
      ],
    });
    const res = await fx.http({ method: 'POST', url: 'https://api.test/p?a=1', body: '{"y":2,"x":1}' });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body.toString())).toEqual({ ok: true });
    expect(res.headers['content-type']).toBe('application/json');
    expect(fx.replay).toBe(true);
  });

  it('does not send a request the original did not make: status 0, "not sent in replay"', async () => {
    const fx = replayEffects(base, {
      nodes: [httpRecord('https://api.test/p', '{"x":1}', { status: 200, headers: {}, body: 'ok' })],
    });
    for (const req of [
      { method: 'POST', url: 'https://api.test/p', body: '{"x":2}' },
      { method: 'PUT', url: 'https://api.test/p', body: '{"x":1}' },
      { method: 'POST', url: 'https://api.test/q', body: '{"x":1}' },
    ]) {
      const res = await fx.http(req);
      expect(res).toMatchObject({ status: 0, error: NOT_SENT });
    }
  });

  it('matches a URL whose secret query parameter the record redacted', async () => {
    const fx = replayEffects(base, {
      nodes: [
        httpRecord('https://api.test/p?key=%5Bredacted%5D&q=1', undefined, {
          status: 200,
          headers: {},
          body: 'hi',
        }),
      ],
    });
    expect((await fx.http({ method: 'POST', url: 'https://api.test/p?q=1&key=s3cret' })).status).toBe(200);
  });

  it('answers repeated requests with the recorded calls in order, then the last again', async () => {
    const url = 'https://api.test/n';
    const fx = replayEffects(base, {
      nodes: [
        {
          id: 'loop_1',
          type: 'loop',
          status: 'succeeded',
          iterations: [1, 2].map((n, index) => ({
            index,
            status: 'succeeded' as const,
            started_at: '',
            nodes: [httpRecord(url, '{}', { status: 200, headers: {}, body: String(n) })],
          })),
        } as NodeRecord,
      ],
    });
    const bodies = [];
    for (let i = 0; i < 3; i++)
      bodies.push((await fx.http({ method: 'POST', url, body: '{}' })).body.toString());
    expect(bodies).toEqual(['1', '2', '2']);
  });

  it('repeats a recorded failure that had no answer (a timeout) as the same failure', async () => {
    const fx = replayEffects(base, {
      nodes: [
        httpRecord('https://api.test/slow', undefined, undefined, {
          status: 'failed',
          error: 'timeout after 15000 ms',
        }),
      ],
    });
    await expect(fx.http({ method: 'POST', url: 'https://api.test/slow' })).rejects.toThrow(NodeFailure);
    await expect(fx.http({ method: 'POST', url: 'https://api.test/slow' })).rejects.toThrow(
      'timeout after 15000 ms',
    );
  });

  it('answers a webhook_call by endpoint, method name and call data', async () => {
    const fx = replayEffects(base, {
      nodes: [
        {
          id: 'wc_1',
          type: 'webhook_call',
          status: 'succeeded',
          input: { endpoint_id: 'ep_1', method_name: 'sync', params: { call: { a: 1 } } },
          output: { status: 200, headers: {}, body: { done: 1 } },
        } as NodeRecord,
      ],
    });
    const call = { endpointId: 'ep_1', methodName: 'sync', runId: 'r', flowId: 'f', nodeId: 'wc_1' };
    expect((await fx.webhookCall('t', { ...call, params: { call: { a: 1 } } })).status).toBe(200);
    expect(await fx.webhookCall('t', { ...call, params: { call: { a: 2 } } })).toMatchObject({
      status: 0,
      error: NOT_SENT,
    });
  });

  it("gives a wait node the call the original's wait got", async () => {
    const fx = replayEffects(base, {
      nodes: [
        {
          id: 'wait_1',
          type: 'wait',
          status: 'succeeded',
          finished_at: '2026-12-02T10:00:00.000Z',
          output: { method: 'POST', headers: { a: 'b' }, query: {}, body: { approved: true } },
        } as NodeRecord,
      ],
    });
    expect(await fx.resumed('t', 'r', 'wait_1')).toMatchObject({ method: 'POST', body: { approved: true } });
    expect(await fx.resumed('t', 'r', 'wait_2')).toBeUndefined();
  });

  it('canonical JSON sorts keys and drops undefined', () => {
    expect(canonical({ b: 1, a: [{ d: 1, c: undefined }] })).toBe('{"a":[{"d":1}],"b":1}');
  });
});
