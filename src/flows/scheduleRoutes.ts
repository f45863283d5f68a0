/**
 * The schedule trigger's API (docs/api.md §4.8): the next ticks of a cron — on each schedule node
 * of a flow as `next_runs`, and `POST /api/v1/schedules/preview` for a cron not saved yet (the
 * canvas panel shows them as you type).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../api/errors.ts';
import { type ApiDocs, validate } from '../api/http.ts';
import type { FlowNode } from '../core/flowDocument.ts';
import { cronJob, cronProblem, nextTicks, timezoneProblem } from '../nodes/schedule/cron.ts';
import { scheduleConfigSchema } from '../nodes/schedule/index.ts';

export const NEXT_RUNS = 5;

/** The next five ticks of a schedule node after `nowMs` (ISO times); none when the flow is disabled. */
export function nextRuns(node: FlowNode, enabled: boolean, nowMs: number): string[] {
  if (!enabled) return [];
  try {
    const c = node.config as { cron: string; timezone: string };
    return nextTicks(cronJob(c.cron, c.timezone), new Date(nowMs), NEXT_RUNS).map((d) => d.toISOString());
  } catch {
    return [];
  }
}

const previewBody = z
  .object({
    cron: scheduleConfigSchema.shape.cron,
    timezone: scheduleConfigSchema.shape.timezone,
  })
  .strict();

export function registerScheduleRoutes(app: FastifyInstance, docs: ApiDocs, now: () => number): void {
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/schedules/preview',
      summary: 'The next five ticks of a cron expression in a time zone (400 naming an invalid one)',
      tag: 'Flows',
      body: previewBody,
    },
    async (req) => {
      const b = validate(previewBody, req.body);
      const errors = [
        ...[cronProblem(b.cron)].filter(Boolean).map((msg) => ({ field: 'cron', msg: msg as string })),
        ...[timezoneProblem(b.timezone)]
          .filter(Boolean)
          .map((msg) => ({ field: 'timezone', msg: msg as string })),
      ];
      if (errors.length)
        throw new HttpError(400, 'invalid_schedule', `Invalid ${errors[0].field}: ${errors[0].msg}`, {
          errors,
        });
      return {
        cron: b.cron,
        timezone: b.timezone,
        next_runs: nextTicks(cronJob(b.cron, b.timezone), new Date(now()), NEXT_RUNS).map((d) =>
          d.toISOString(),
        ),
      };
    },
  );
}
