/** `transform`: computes a value with a JSONata expression over the run and puts it into a variable. */
import { z } from 'zod';
import { compileTemplate, renderTemplate } from '../../core/templates.ts';
import type { NodeDefinition } from '../types.ts';
import { assign, intoTarget, NodeFailure } from '../util.ts';

export type TransformConfig = { expression: string; into: string };

/** Compiled exactly as it runs: a `${= …}` expression (Webhook:: paths allowed). */
const compile = (expression: string) => compileTemplate(`\${= ${expression}}`);

export const transformNode: NodeDefinition<TransformConfig> = {
  type: 'transform',
  catalog: {
    label: 'Transform',
    description: 'Computes a value with JSONata into a variable',
    category: 'data',
    trigger: false,
    terminal: false,
    edges: 'plain',
    initial_config: { expression: 'Webhook::Body', into: 'vars.result' },
    fields: [
      {
        key: 'expression',
        label: 'JSONata expression',
        kind: 'jsonata',
        multiline: true,
        help: 'Over the run: Webhook::Body, vars, steps, flow.key. For example $sum(Webhook::Body.items.price)',
      },
      { key: 'into', label: 'Into', kind: 'text', mono: true, help: 'vars.<name> or flow.key.<name>' },
    ],
    panel: null,
    summary: ['→ {into}'],
    note: null,
    output: '{"<into>": value}',
  },
  schema: z.object({ expression: z.string().min(1).max(100_000), into: intoTarget() }).strict(),
  notTemplates: ['expression'],
  validate: (config) => {
    const compiled = compile(config.expression);
    return compiled.ok ? [] : [{ field: 'expression', msg: compiled.error }];
  },
  execute: async ({ config, ctx, state }) => {
    const compiled = compile(config.expression);
    if (!compiled.ok) throw new NodeFailure(`expression: ${compiled.error}`);
    let value: unknown;
    try {
      value = await renderTemplate(compiled.template, ctx);
    } catch (err) {
      throw new NodeFailure(`expression "${config.expression}": ${(err as Error).message}`);
    }
    assign(state, config.into, value);
    return { kind: 'done', output: { [config.into]: value } };
  },
};
