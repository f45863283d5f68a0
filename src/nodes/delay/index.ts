/**
 * `delay`: a durable timer — the run sleeps in the database (run_at), not in a timer, and the time
 * asleep does not count against the run's `timeout_ms`.
 */
import { z } from 'zod';
import type { NodeDefinition } from '../types.ts';
import { NodeFailure, render, templateString } from '../util.ts';

const schema = z
  .object({
    ms: z
      .number()
      .int()
      .min(0)
      .max(365 * 86400_000)
      .optional(),
    until: templateString.optional(),
  })
  .strict()
  .refine((d) => (d.ms === undefined) !== (d.until === undefined), 'give exactly one of "ms" or "until"');
export type DelayConfig = z.infer<typeof schema>;

export const delayNode: NodeDefinition<DelayConfig> = {
  type: 'delay',
  catalog: {
    label: 'Delay',
    description: 'Waits (durably) for a time or until a moment',
    category: 'control',
    trigger: false,
    terminal: false,
    edges: 'plain',
    initial_config: { ms: 60000 },
    fields: [
      {
        key: 'wait',
        label: 'Wait',
        kind: 'alternatives',
        alternatives: [
          {
            value: 'ms',
            label: 'For a duration',
            initial: 60000,
            field: {
              key: 'ms',
              label: 'Milliseconds',
              kind: 'number',
              min: 0,
              help: 'The timer is durable: a restart does not lose or shorten it.',
            },
          },
          {
            value: 'until',
            label: 'Until a moment',
            initial: '${Webhook::Body.remind_at}',
            field: {
              key: 'until',
              label: 'Until',
              kind: 'template',
              help: 'An ISO time, like 2026-12-01T09:00:00Z, or a template that gives one.',
            },
          },
        ],
      },
    ],
    panel: null,
    summary: ['until {until}', '{ms} ms'],
    note: null,
    output: '{waited_until}',
  },
  schema,
  sleeps: true,
  execute: async ({ config, ctx, effects, existing }) => {
    const now = effects.now();
    let untilMs: number;
    if (existing?.status === 'waiting') untilMs = Date.parse((existing.output as { until: string }).until);
    else if (config.until !== undefined) {
      const v = await render(config.until, ctx, 'until');
      untilMs = typeof v === 'number' ? v : Date.parse(String(v));
      if (!Number.isFinite(untilMs)) throw new NodeFailure(`until: "${String(v)}" is not an ISO date-time`);
    } else untilMs = now + Number(config.ms);
    // A replay run does not sleep (docs/api.md §3.14): what comes after the delay is what it compares.
    if (untilMs > now && !effects.replay)
      return { kind: 'sleep', untilMs, input: { until: new Date(untilMs).toISOString() } };
    return { kind: 'done', output: { waited_until: new Date(untilMs).toISOString() } };
  },
};
