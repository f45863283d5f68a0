import { describe, expect, it } from 'vitest';
import { runNode, runState } from '../../../test/helpers/nodes.ts';
import { failNode } from './index.ts';

describe('fail node', () => {
  it('ends the run with its rendered message, "Flow failed" by default', async () => {
    const state = runState({ body: { id: 'A-1' } });
    expect(
      (await runNode(failNode, { message: 'Order ${Webhook::Body.id} refused' }, { state })).result,
    ).toEqual({
      kind: 'fail',
      message: 'Order A-1 refused',
    });
    expect((await runNode(failNode, {})).result).toEqual({ kind: 'fail', message: 'Flow failed' });
  });

  it('is terminal in the catalog: it offers no out-edges', () => {
    expect(failNode.catalog.terminal).toBe(true);
  });
});
