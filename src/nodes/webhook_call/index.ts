/**
 * `webhook_call`: calls a configured outbound endpoint mid-flow, signed exactly as a delivery
 * (docs/api.md §4.3, §5.5). At-least-once, like `http`: the answer is checkpointed after the call.
 */
import { z } from 'zod';
import type { NodeDefinition } from '../types.ts';
import { assign, intoTarget, NodeFailure, parseResponseBody, render, templateString } from '../util.ts';

const schema = z
  .object({
    endpoint_id: z.string().min(1),
    method_name: templateString.optional(),
    params: z.array(z.enum(['call', 'flow.key', 'user.key'])).default(['call']),
    body: z.unknown().optional(),
    into: intoTarget().optional(),
  })
  .strict();
export type WebhookCallConfig = z.infer<typeof schema>;

export const webhookCallNode: NodeDefinition<WebhookCallConfig> = {
  type: 'webhook_call',
  catalog: {
    label: 'Call webhook',
    description: 'Calls a configured outbound webhook mid-flow',
    category: 'action',
    trigger: false,
    terminal: false,
    edges: 'plain',
    initial_config: { endpoint_id: '', params: ['call'] },
    fields: [
      { key: 'endpoint_id', label: 'Outbound webhook', kind: 'endpoint' },
      { key: 'method_name', label: 'Method name', kind: 'template', optional: true },
      {
        key: 'params',
        label: 'Send',
        kind: 'checkboxes',
        options: [
          { value: 'call', label: 'call (this call’s data)' },
          { value: 'flow.key', label: 'flow.key (the flow keys)' },
          { value: 'user.key', label: 'user.key (the run’s variables)' },
        ],
        default: ['call'],
      },
      { key: 'body', label: 'Call data', kind: 'body', optional: true },
      {
        key: 'into',
        label: 'Into (optional)',
        kind: 'text',
        mono: true,
        optional: true,
        help: 'Also keep the answer in vars.<name> or flow.key.<name>; it is always in steps.<this node>.',
      },
    ],
    panel: null,
    summary: ['endpoint {endpoint_id}', 'no endpoint chosen'],
    note: null,
    output: '{status, headers, body}; body parsed when the answer is JSON',
  },
  schema,
  execute: async ({ config, ctx, state, effects, node }) => {
    const params: Record<string, unknown> = {};
    const groups = config.params ?? ['call'];
    if (groups.includes('call')) params.call = (await render(config.body ?? {}, ctx, 'body')) ?? {};
    if (groups.includes('flow.key')) params['flow.key'] = state.flowKey;
    if (groups.includes('user.key')) params['user.key'] = state.vars;
    const methodName = config.method_name
      ? String(await render(config.method_name, ctx, 'method_name'))
      : undefined;
    const input = { endpoint_id: config.endpoint_id, method_name: methodName, params };
    let res: Awaited<ReturnType<typeof effects.webhookCall>>;
    try {
      res = await effects.webhookCall(state.tenantId, {
        endpointId: config.endpoint_id,
        methodName,
        params,
        runId: state.id,
        flowId: state.flowId,
        nodeId: node.id,
      });
    } catch (err) {
      throw new NodeFailure(err instanceof Error ? err.message : String(err), { input });
    }
    const output = {
      status: res.status,
      headers: res.headers,
      body: parseResponseBody(res),
      ...(res.error ? { error: res.error } : {}),
    };
    if (res.error) throw new NodeFailure(`the endpoint was not called: ${res.error}`, { input, output });
    if (res.status < 200 || res.status >= 300)
      throw new NodeFailure(`the endpoint answered ${res.status}`, { input, output });
    if (config.into) assign(state, config.into, output.body);
    return {
      kind: 'done',
      input,
      output,
      checkpoint: true,
    };
  },
};
