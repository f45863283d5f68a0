/** `if`: branches on a condition; its out-edges carry `when: true` or `when: false`. */
import { z } from 'zod';
import type { NodeDefinition } from '../types.ts';
import { render, templateString } from '../util.ts';

export type IfConfig = { condition: string | boolean };

const FALSY_STRINGS = new Set(['', 'false', '0', 'no', 'off', 'null', 'undefined']);

/** Truthiness of an `if` condition: JS truthiness, except that text like "false" or "0" is false. */
export function isTruthy(v: unknown): boolean {
  if (typeof v === 'string') return !FALSY_STRINGS.has(v.trim().toLowerCase());
  return Boolean(v);
}

export const ifNode: NodeDefinition<IfConfig> = {
  type: 'if',
  catalog: {
    label: 'If',
    description: 'Branches on a condition: true or false',
    category: 'logic',
    trigger: false,
    terminal: false,
    edges: 'boolean',
    initial_config: { condition: '${= Webhook::Body.amount > 100}' },
    fields: [
      {
        key: 'condition',
        label: 'Condition',
        kind: 'template',
        help: 'Truthy takes the true path, falsy the false path. An expression: ${= vars.qty > 10}',
      },
    ],
    panel: null,
    summary: ['{condition}'],
    note: null,
    output: '{result}: the condition as true or false',
  },
  schema: z.object({ condition: z.union([templateString, z.boolean()]) }).strict(),
  edgeProblem: (e) =>
    typeof e.when === 'boolean' ? undefined : 'edges out of an "if" node carry "when": true or false',
  edgeTaken: (e, output) => e.when === ((output as { result?: boolean } | undefined)?.result === true),
  execute: async ({ config, ctx }) => {
    const value = await render(config.condition, ctx, 'condition');
    return { kind: 'done', input: { condition: value }, output: { result: isTruthy(value) } };
  },
};
