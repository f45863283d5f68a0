import { describe, expect, it } from 'vitest';
import { configProblems, runNode, runState, testEffects } from '../../../test/helpers/nodes.ts';
import { delayNode } from './index.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');

describe('delay node', () => {
  it('sleeps until now + ms, and is done once that time has come', async () => {
    const { result } = await runNode(delayNode, { ms: 60_000 });
    expect(result).toEqual({
      kind: 'sleep',
      untilMs: NOW + 60_000,
      input: { until: '2026-12-01T12:01:00.000Z' },
    });
    const resumed = await runNode(
      delayNode,
      { ms: 60_000 },
      {
        effects: testEffects({ now: () => NOW + 60_000 }),
        existing: {
          id: 'delay_1',
          type: 'delay',
          status: 'waiting',
          output: { until: '2026-12-01T12:01:00.000Z' },
        },
      },
    );
    expect(resumed.result).toEqual({ kind: 'done', output: { waited_until: '2026-12-01T12:01:00.000Z' } });
  });

  it('sleeps until a rendered ISO time; a past one does not sleep; a bad one fails the node', async () => {
    const at = (remind_at: unknown) =>
      runNode(
        delayNode,
        { until: '${Webhook::Body.remind_at}' },
        { state: runState({ body: { remind_at } }) },
      );
    expect((await at('2026-12-02T09:00:00Z')).result).toMatchObject({
      kind: 'sleep',
      untilMs: Date.parse('2026-12-02T09:00:00Z'),
    });
    expect((await at('2026-11-30T09:00:00Z')).result).toEqual({
      kind: 'done',
      output: { waited_until: '2026-11-30T09:00:00.000Z' },
    });
    await expect(at('tomorrow')).rejects.toThrow('until: "tomorrow" is not an ISO date-time');
  });

  it('needs exactly one of ms and until; it sleeps (its time does not count against the timeout)', () => {
    expect(configProblems(delayNode, {})).toEqual(['(config): give exactly one of "ms" or "until"']);
    expect(configProblems(delayNode, { ms: 1, until: 'x' })).toEqual([
      '(config): give exactly one of "ms" or "until"',
    ]);
    expect(delayNode.sleeps).toBe(true);
  });
});
