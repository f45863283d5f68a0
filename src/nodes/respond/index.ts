/**
 * `respond`: answers the caller waiting in response mode "flow" (docs/api.md §3.6); the first
 * `respond` of a run wins. Checkpointed at once when a sender is waiting, so the answer leaves
 * immediately.
 */
import { z } from 'zod';
import type { NodeDefinition } from '../types.ts';
import { headersSchema, render, renderHeaders, templateString } from '../util.ts';

const schema = z
  .object({
    status: z.number().int().min(100).max(599).default(200),
    content_type: templateString.optional(),
    headers: headersSchema.default({}),
    body: z.unknown().optional(),
  })
  .strict();
export type RespondConfig = z.infer<typeof schema>;

export const respondNode: NodeDefinition<RespondConfig> = {
  type: 'respond',
  catalog: {
    label: 'Respond',
    description: 'Answers the waiting caller (response mode "flow")',
    category: 'control',
    trigger: false,
    terminal: false,
    edges: 'plain',
    initial_config: { status: 200, content_type: 'application/json', headers: {}, body: { ok: true } },
    fields: [
      { key: 'status', label: 'Status', kind: 'number', min: 100, max: 599, optional: true, default: 200 },
      { key: 'content_type', label: 'Content type', kind: 'template', optional: true },
      {
        key: 'headers',
        label: 'Headers',
        kind: 'key_value',
        key_placeholder: 'x-header',
        value_placeholder: 'value',
      },
      { key: 'body', label: 'Body', kind: 'body', optional: true },
    ],
    panel: null,
    summary: ['answers {status}', 'answers 200'],
    note: 'Answers a caller waiting in response mode “flow”; the run goes on after it.',
    output: '{status, headers, body, used}: used is false when an earlier respond had answered',
  },
  schema,
  notInBody: 'it answers the caller once, not once per item (respond after the loop)',
  execute: async ({ config, ctx, state }) => {
    const headers = await renderHeaders(config.headers, ctx);
    const body = await render(config.body ?? '', ctx, 'body');
    const contentType = config.content_type
      ? String(await render(config.content_type, ctx, 'content_type'))
      : undefined;
    const text =
      body === undefined || body === null ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    headers['content-type'] =
      contentType ??
      (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8');
    const status = config.status ?? 200;
    const first = state.response === null;
    if (first) state.response = { status, headers, body: text };
    return {
      kind: 'done',
      output: { status, headers, body, used: first },
      checkpoint: first && state.waitResponse,
    };
  },
};
