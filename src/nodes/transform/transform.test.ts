import { describe, expect, it } from 'vitest';
import { configProblems, runNode, runState } from '../../../test/helpers/nodes.ts';
import { transformNode } from './index.ts';

describe('transform node', () => {
  it('puts the JSONata result over the run into its target', async () => {
    const state = runState({ body: { items: [{ price: 2 }, { price: 3.5 }] } });
    const { result } = await runNode(
      transformNode,
      { expression: '$sum(Webhook::Body.items.price)', into: 'vars.total' },
      { state },
    );
    expect(result).toEqual({ kind: 'done', output: { 'vars.total': 5.5 } });
    expect(state.vars.total).toBe(5.5);
  });

  it('refuses an expression that does not compile, and a target outside vars and flow.key', () => {
    expect(configProblems(transformNode, { expression: '$sum(', into: 'vars.x' })[0]).toMatch(
      /^expression: /,
    );
    expect(configProblems(transformNode, { expression: '1', into: 'steps.x' })).toEqual([
      'into: into is "vars.<name>" or "flow.key.<name>"',
    ]);
  });

  it('fails the node with the expression named when it throws at run time', async () => {
    await expect(
      runNode(transformNode, { expression: '$error("no stock")', into: 'vars.x' }),
    ).rejects.toThrow(/^expression "\$error\("no stock"\)": .*failed: no stock/);
  });
});
