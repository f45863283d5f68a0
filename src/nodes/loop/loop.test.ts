import { describe, expect, it } from 'vitest';
import { configProblems, runNode, runState } from '../../../test/helpers/nodes.ts';
import { loopNode } from './index.ts';

const body = (nodes: unknown[], edges: unknown[] = []) => ({ nodes, edges });

describe('loop node', () => {
  it('walks its body per item with ${loop.item} and ${loop.index}, results in item order, iterations on the record', async () => {
    const state = runState({ body: { items: ['a', 'b', 'c'] } });
    const { result } = await runNode(
      loopNode,
      {
        items: '${Webhook::Body.items}',
        concurrency: 3,
        ...body([
          {
            id: 'transform_2',
            type: 'transform',
            config: { expression: 'loop.item & loop.index', into: 'vars.last' },
          },
        ]),
        result: '${= steps.transform_2.`vars.last`}',
      },
      { state },
    );
    expect(result).toMatchObject({
      kind: 'done',
      input: { count: 3 },
      output: { results: ['a0', 'b1', 'c2'], count: 3, failed: 0 },
    });
    const iterations = (
      result as { iterations: { index: number; status: string; nodes: { id: string }[] }[] }
    ).iterations;
    expect(iterations.map((it) => [it.index, it.status, it.nodes.map((n) => n.id)])).toEqual([
      [0, 'succeeded', ['transform_2']],
      [1, 'succeeded', ['transform_2']],
      [2, 'succeeded', ['transform_2']],
    ]);
  });

  it('fails on items that are not a list, or more of them than max_items', async () => {
    const notList = runNode(loopNode, { items: '${Webhook::Body}' }, { state: runState({ body: 'text' }) });
    await expect(notList).rejects.toThrow('items: expected a list, got a string');
    const many = runNode(
      loopNode,
      { items: '${Webhook::Body}', max_items: 1 },
      { state: runState({ body: [1, 2] }) },
    );
    await expect(many).rejects.toThrow('items: 2 items, more than max_items (1)');
  });

  it('takes concurrency 1–50 and on_item_error fail or continue, with defaults', () => {
    expect(configProblems(loopNode, { items: '${x}', concurrency: 0, on_item_error: 'skip' })).toEqual([
      'concurrency: Too small: expected number to be >=1',
      'on_item_error: Invalid option: expected one of "fail"|"continue"',
    ]);
    expect(loopNode.schema.parse({ items: '${Webhook::Body}' })).toEqual({
      items: '${Webhook::Body}',
      concurrency: 1,
      nodes: [],
      edges: [],
      on_item_error: 'fail',
      max_items: 10_000,
    });
  });
});
