import { describe, expect, it } from 'vitest';
import { configProblems, runNode, runState } from '../../../test/helpers/nodes.ts';
import { setNode } from './index.ts';

describe('set node', () => {
  it('assigns rendered values to vars and flow keys and records them as its output', async () => {
    const state = runState({ body: { customer: 'c_1', qty: 3 } });
    const { result } = await runNode(
      setNode,
      { values: { 'vars.qty': '${Webhook::Body.qty}', 'flow.key.customer': '${Webhook::Body.customer}' } },
      { state },
    );
    expect(result).toEqual({ kind: 'done', output: { 'vars.qty': 3, 'flow.key.customer': 'c_1' } });
    expect(state.vars).toEqual({ qty: 3 });
    expect(state.flowKey).toEqual({ customer: 'c_1' });
  });

  it('refuses keys that are not vars.<name> or flow.key.<name>', () => {
    expect(configProblems(setNode, { values: { 'run.id': 'x' } })).toEqual([
      'values.run.id: keys are "flow.key.<name>" or "vars.<name>"',
    ]);
  });
});
