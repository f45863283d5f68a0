import { describe, expect, it } from 'vitest';
import { configProblems, runNode, runState, testEffects } from '../../../test/helpers/nodes.ts';
import { subflowNode } from './index.ts';

const target = async () => ({ triggerNodeId: 'webhook_1', name: 'child' });

describe('subflow node', () => {
  it('starts one child with the rendered input as its body, and sleeps until its timeout, keeping the child id', async () => {
    const effects = testEffects({ subflowTarget: target });
    const state = runState({ body: { sku: 'A1' } });
    const { result } = await runNode(
      subflowNode,
      { flow_id: 'flw_child', input: { sku: '${Webhook::Body.sku}' }, timeout_ms: 60_000 },
      { effects, state },
    );
    expect(result).toMatchObject({
      kind: 'sleep',
      untilMs: effects.now() + 60_000,
      keep: { run_id: expect.stringMatching(/^run_/) },
    });
  });

  it('refuses to nest deeper than 8', async () => {
    const effects = testEffects({ subflowTarget: target });
    const state = runState({ subflow_depth: 8 } as never);
    await expect(runNode(subflowNode, { flow_id: 'flw_child' }, { effects, state })).rejects.toThrow(
      'sub-flows nest at most 8 deep: this run is already 8 sub-flows down',
    );
  });

  it('woken, is done with the child that succeeded and fails with one that failed', async () => {
    const existing = {
      id: 'subflow_1',
      type: 'subflow',
      status: 'waiting' as const,
      input: {},
      output: { run_id: 'run_child', until: '2099-01-01T00:00:00Z' },
    };
    const ok = testEffects({
      childRun: async () => ({ status: 'succeeded', vars: { a: 1 }, response: null, error: null }),
    });
    const { result } = await runNode(subflowNode, { flow_id: 'flw_child' }, { effects: ok, existing });
    expect(result).toMatchObject({
      kind: 'done',
      output: { run_id: 'run_child', status: 'succeeded', vars: { a: 1 }, response: null, error: null },
    });
    const failed = testEffects({
      childRun: async () => ({ status: 'failed', vars: {}, response: null, error: 'boom' }),
    });
    await expect(
      runNode(subflowNode, { flow_id: 'flw_child' }, { effects: failed, existing }),
    ).rejects.toThrow('the sub-flow run run_child failed: boom');
  });

  it('needs a flow id, and limits timeout_ms', () => {
    expect(configProblems(subflowNode, {})).toEqual([
      'flow_id: Invalid input: expected string, received undefined',
    ]);
    expect(configProblems(subflowNode, { flow_id: 'flw_x', timeout_ms: 10 })).toEqual([
      'timeout_ms: Too small: expected number to be >=1000',
    ]);
  });
});
