/**
 * `emit`: publishes an event to the subscribed endpoints (docs/api.md §5.4). Exactly-once: the event
 * is written in the same transaction as the checkpoint or completion that records the node.
 */
import { z } from 'zod';
import { newId } from '../../core/ids.ts';
import type { PendingEvent } from '../../flows/engine.ts';
import type { NodeDefinition } from '../types.ts';
import { render } from '../util.ts';

const schema = z
  .object({
    event_type: z.string().regex(/^[a-zA-Z0-9_.-]{1,200}$/, 'event types are like order.created'),
    data: z.unknown().optional(),
  })
  .strict();
export type EmitConfig = z.infer<typeof schema>;

export const emitNode: NodeDefinition<EmitConfig> = {
  type: 'emit',
  catalog: {
    label: 'Emit event',
    description: 'Publishes an event to outbound subscribers',
    category: 'action',
    trigger: false,
    terminal: false,
    edges: 'plain',
    initial_config: { event_type: 'order.created', data: '${Webhook::Body}' },
    fields: [
      {
        key: 'event_type',
        label: 'Event type',
        kind: 'event_type',
        help: 'Like order.created; subscribers of this type receive it.',
      },
      { key: 'data', label: 'Data', kind: 'body', optional: true },
    ],
    panel: null,
    summary: ['{event_type}'],
    note: null,
    output: '{event_id, event_type}',
  },
  schema,
  execute: async ({ config, ctx, state, events, node }) => {
    const data = (await render(config.data ?? {}, ctx, 'data')) ?? {};
    const event: PendingEvent = {
      id: newId('evt'),
      event_type: config.event_type,
      data,
      context: { tenant_id: state.tenantId, flow_id: state.flowId, run_id: state.id, node_id: node.id },
    };
    events.push(event);
    return { kind: 'done', output: { event_id: event.id, event_type: event.event_type } };
  },
};
