import { describe, expect, it } from 'vitest';
import { runNode, runState } from '../../../test/helpers/nodes.ts';
import { switchNode } from './index.ts';

const edges = [
  { from: 'switch_1', to: 'a', when: 'gold' },
  { from: 'switch_1', to: 'b', when: '{"n":1}' },
  { from: 'switch_1', to: 'c', when: 'default' },
];
const taken = (output: unknown) =>
  edges.filter((e) => switchNode.edgeTaken?.(e, output, edges)).map((e) => e.to);

describe('switch node', () => {
  it('takes the edge of the matching case, a non-string value compared as its JSON', async () => {
    const gold = await runNode(
      switchNode,
      { value: '${Webhook::Body.tier}' },
      { state: runState({ body: { tier: 'gold' } }) },
    );
    expect(gold.result).toEqual({ kind: 'done', output: { value: 'gold', case: 'gold' } });
    expect(taken((gold.result as { output: unknown }).output)).toEqual(['a']);
    const obj = await runNode(
      switchNode,
      { value: '${Webhook::Body.tier}' },
      { state: runState({ body: { tier: { n: 1 } } }) },
    );
    expect(taken((obj.result as { output: unknown }).output)).toEqual(['b']);
  });

  it('takes the default edge when no case matched, and refuses an edge without a case', async () => {
    const none = await runNode(
      switchNode,
      { value: '${Webhook::Body.tier}' },
      { state: runState({ body: {} }) },
    );
    expect(taken((none.result as { output: unknown }).output)).toEqual(['c']);
    expect(switchNode.edgeProblem?.({ from: 'switch_1', to: 'a' })).toMatch(/"when": "<case>"/);
  });
});
