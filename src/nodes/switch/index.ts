/**
 * `switch`: branches on a value; each out-edge names a case (`when: "<case>"`), `when: "default"`
 * is taken when no case matched. A non-string value is compared as its JSON.
 */
import { z } from 'zod';
import type { NodeDefinition } from '../types.ts';
import { render, templateString } from '../util.ts';

export type SwitchConfig = { value: string };

export const switchNode: NodeDefinition<SwitchConfig> = {
  type: 'switch',
  catalog: {
    label: 'Switch',
    description: 'Branches on a value: one path per case',
    category: 'logic',
    trigger: false,
    terminal: false,
    edges: 'cases',
    initial_config: { value: '${Webhook::Body.type}' },
    fields: [
      {
        key: 'value',
        label: 'Value',
        kind: 'template',
        help: 'The path whose case matches the value is taken; a path named default takes the rest.',
      },
    ],
    panel: null,
    summary: ['{value}'],
    note: null,
    output: '{value, case}: the value and the case it matched as text',
  },
  schema: z.object({ value: templateString }).strict(),
  edgeProblem: (e) =>
    typeof e.when === 'string'
      ? undefined
      : 'edges out of a "switch" node carry "when": "<case>" (or "default")',
  edgeTaken: (e, output, siblings) => {
    const value = (output as { case?: string } | undefined)?.case;
    if (e.when === value) return true;
    if (e.when === 'default') return !siblings.some((s) => s.when !== 'default' && s.when === value);
    return false;
  },
  execute: async ({ config, ctx }) => {
    const value = await render(config.value, ctx, 'value');
    const c =
      value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
    return { kind: 'done', output: { value, case: c } };
  },
};
