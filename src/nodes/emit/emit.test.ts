import { describe, expect, it } from 'vitest';
import { configProblems, runNode, runState } from '../../../test/helpers/nodes.ts';
import { emitNode } from './index.ts';

describe('emit node', () => {
  it('queues one event with the rendered data and the run as its context, for the checkpoint to write', async () => {
    const { result, events } = await runNode(
      emitNode,
      { event_type: 'order.created', data: { id: '${Webhook::Body.id}' } },
      {
        state: runState({ body: { id: 'A-7' } }),
      },
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event_type: 'order.created',
      data: { id: 'A-7' },
      context: { tenant_id: 'default', flow_id: 'flw_test', run_id: 'run_test', node_id: 'emit_1' },
    });
    expect(result).toEqual({
      kind: 'done',
      output: { event_id: events[0]?.id, event_type: 'order.created' },
    });
    expect(events[0]?.id).toMatch(/^evt_/);
  });

  it('refuses an event type with spaces or other characters', () => {
    expect(configProblems(emitNode, { event_type: 'order created' })).toEqual([
      'event_type: event types are like order.created',
    ]);
  });
});
