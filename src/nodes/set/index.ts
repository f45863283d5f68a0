/** `set`: assigns flow keys (`flow.key.<name>`) and run variables (`vars.<name>`) from templates. */
import { z } from 'zod';
import type { NodeDefinition } from '../types.ts';
import { assign, render } from '../util.ts';

export type SetConfig = { values: Record<string, unknown> };

const TARGET = /^(flow\.key|vars)\.[A-Za-z_][\w.-]*$/;

export const setNode: NodeDefinition<SetConfig> = {
  type: 'set',
  catalog: {
    label: 'Set values',
    description: 'Assigns flow keys and variables',
    category: 'data',
    trigger: false,
    terminal: false,
    edges: 'plain',
    initial_config: { values: { 'vars.value': '${Webhook::Body}' } },
    fields: [
      {
        key: 'values',
        label: 'Values',
        kind: 'key_value',
        key_placeholder: 'vars.name or flow.key.name',
        value_placeholder: '${Webhook::Body.name}',
        help: 'Keys are vars.<name> (this run) or flow.key.<name>; values are templates.',
      },
    ],
    panel: null,
    summary: ['{#values} value(s)'],
    note: null,
    output: 'the values assigned, by target',
  },
  schema: z
    .object({
      values: z.record(z.string(), z.unknown()).superRefine((values, ctx) => {
        for (const key of Object.keys(values))
          if (!TARGET.test(key))
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: 'keys are "flow.key.<name>" or "vars.<name>"',
            });
      }),
    })
    .strict(),
  execute: async ({ config, ctx, state }) => {
    const assigned: Record<string, unknown> = {};
    for (const [target, template] of Object.entries(config.values)) {
      const value = await render(template, ctx, `values['${target}']`);
      assign(state, target, value);
      assigned[target] = value;
    }
    return { kind: 'done', output: assigned };
  },
};
