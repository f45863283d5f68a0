import { describe, expect, it } from 'vitest';
import { runNode, runState } from '../../../test/helpers/nodes.ts';
import { ifNode, isTruthy } from './index.ts';

describe('if node', () => {
  it('takes text like "false", "0", "no" or "" as false, anything else as JavaScript does', () => {
    for (const v of ['', 'false', 'FALSE', ' 0 ', 'no', 'off', 'null', 'undefined', 0, null, false])
      expect(isTruthy(v), String(v)).toBe(false);
    for (const v of ['yes', 'true', '1', 'x', 1, {}, [], true]) expect(isTruthy(v), String(v)).toBe(true);
  });

  it('records the condition and its result, and only the matching when-edge is taken', async () => {
    const { result } = await runNode(
      ifNode,
      { condition: '${= Webhook::Body.amount > 100}' },
      {
        state: runState({ body: { amount: 150 } }),
      },
    );
    expect(result).toEqual({ kind: 'done', input: { condition: true }, output: { result: true } });
    const output = (result as { output: unknown }).output;
    expect(ifNode.edgeTaken?.({ from: 'if_1', to: 'a', when: true }, output, [])).toBe(true);
    expect(ifNode.edgeTaken?.({ from: 'if_1', to: 'b', when: false }, output, [])).toBe(false);
  });

  it('refuses an out-edge without when: true or false', () => {
    expect(ifNode.edgeProblem?.({ from: 'if_1', to: 'a' })).toMatch(/"when": true or false/);
    expect(ifNode.edgeProblem?.({ from: 'if_1', to: 'a', when: false })).toBeUndefined();
  });
});
