import { describe, expect, it } from 'vitest';
import { configProblems, runNode, runState, testEffects } from '../../../test/helpers/nodes.ts';
import { waitNode } from './index.ts';

const call = {
  method: 'POST',
  headers: { a: '1' },
  query: {},
  body: { ok: true },
  body_kind: 'json',
  received_at: '',
};

describe('wait node', () => {
  it('sleeps until its timeout while no call came, with its resume URL on the record', async () => {
    const effects = testEffects();
    const { result } = await runNode(waitNode, { timeout_ms: 60_000 }, { effects });
    expect(result).toEqual({
      kind: 'sleep',
      untilMs: effects.now() + 60_000,
      input: { resume_url: 'http://127.0.0.1/resume/run_test/wait_1/test-token', timeout_ms: 60_000 },
    });
  });

  it('is done with the call once one is stored', async () => {
    const effects = testEffects({ resumed: async () => call });
    const { result } = await runNode(waitNode, {}, { effects });
    expect(result).toMatchObject({
      kind: 'done',
      output: { method: 'POST', headers: { a: '1' }, query: {}, body: { ok: true } },
    });
  });

  it('fails as a timeout when woken at its deadline with no call', async () => {
    const effects = testEffects();
    const until = new Date(effects.now()).toISOString();
    const existing = { id: 'wait_1', type: 'wait', status: 'waiting' as const, output: { until } };
    await expect(
      runNode(waitNode, { timeout_ms: 1000 }, { effects, existing, state: runState() }),
    ).rejects.toMatchObject({
      message: 'No call to the resume URL within 1000 ms',
      timeout: true,
    });
  });

  it('offers plain and "timeout" out-edges, and limits timeout_ms', () => {
    expect(waitNode.edgeProblem?.({ from: 'a', to: 'b' })).toBeUndefined();
    expect(waitNode.edgeProblem?.({ from: 'a', to: 'b', when: 'timeout' })).toBeUndefined();
    expect(waitNode.edgeProblem?.({ from: 'a', to: 'b', when: true })).toMatch(/plain, or "when": "timeout"/);
    expect(configProblems(waitNode, { timeout_ms: 999 })).toEqual([
      'timeout_ms: Too small: expected number to be >=1000',
    ]);
  });
});
