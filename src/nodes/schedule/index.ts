/**
 * The schedule trigger (docs/api.md §4.8): starts a run at each tick of its cron, in its time zone.
 * The scheduler (src/flows/scheduler.ts) claims the ticks; in a run the trigger only records the
 * tick, which templates read as `${Schedule.time}` and `${Schedule.cron}`.
 */
import { z } from 'zod';
import type { ConfigProblem, NodeDefinition } from '../types.ts';
import { cronProblem, DEFAULT_TIMEZONE, timezoneProblem } from './cron.ts';

export const CATCH_UP = ['one', 'none'] as const;

export const scheduleConfigSchema = z
  .object({
    cron: z.string().trim().min(1, 'a cron expression, such as "*/5 * * * *"').max(200),
    timezone: z.string().trim().min(1).max(100).default(DEFAULT_TIMEZONE),
    /** After downtime: run the latest missed tick once ("one"), or skip what was missed ("none"). */
    catch_up: z.enum(CATCH_UP).default('one'),
  })
  .strict();
export type ScheduleConfig = z.infer<typeof scheduleConfigSchema>;

export const scheduleNode: NodeDefinition<ScheduleConfig> = {
  type: 'schedule',
  catalog: {
    label: 'Schedule',
    description: 'Starts the flow at the times of a cron expression',
    category: 'trigger',
    trigger: true,
    terminal: false,
    edges: 'plain',
    initial_config: { cron: '0 * * * *', timezone: DEFAULT_TIMEZONE, catch_up: 'one' },
    fields: [],
    panel: 'schedule',
    summary: ['{cron} · {timezone}', '{cron}'],
    note: null,
    output: '{time, cron, timezone} of the tick; templates read it as Schedule.time and Schedule.cron',
  },
  schema: scheduleConfigSchema,
  // The cron and the zone are not templates: a tick has nothing to fill them from.
  notTemplates: ['cron', 'timezone'],
  validate: (config) => {
    const problems: ConfigProblem[] = [];
    const cron = cronProblem(config.cron);
    if (cron) problems.push({ field: 'cron', msg: cron });
    const zone = timezoneProblem(config.timezone);
    if (zone) problems.push({ field: 'timezone', msg: zone });
    return problems;
  },
  execute: async ({ state }) => {
    const body = (state.trigger.body ?? {}) as Record<string, unknown>;
    return {
      kind: 'done',
      output:
        state.trigger.method === 'SCHEDULE'
          ? { time: body.time, cron: body.cron, timezone: body.timezone }
          : { method: state.trigger.method, path: state.trigger.path },
    };
  },
};
