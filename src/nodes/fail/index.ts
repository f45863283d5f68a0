/** `fail`: ends the run as failed with its message. */
import { z } from 'zod';
import type { NodeDefinition } from '../types.ts';
import { render, templateString } from '../util.ts';

const schema = z.object({ message: templateString.default('Flow failed') }).strict();
export type FailConfig = z.infer<typeof schema>;

export const failNode: NodeDefinition<FailConfig> = {
  type: 'fail',
  catalog: {
    label: 'Fail',
    description: 'Ends the run as failed with a message',
    category: 'control',
    trigger: false,
    terminal: true,
    edges: 'plain',
    initial_config: { message: 'Flow failed' },
    fields: [{ key: 'message', label: 'Message', kind: 'template' }],
    panel: null,
    summary: ['{message}'],
    note: null,
    output: '— (the run ends failed with the message)',
  },
  schema,
  execute: async ({ config, ctx }) => ({
    kind: 'fail',
    message: String((await render(config.message ?? 'Flow failed', ctx, 'message')) ?? 'Flow failed'),
  }),
};
