/** /api/v1/runs: list (filters, cursor) and detail with the stored trigger request. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError, notFound } from '../api/errors.ts';
import { type ApiDocs, limitSchema, page, principal, validate } from '../api/http.ts';
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';
import type { RunApiMetrics } from '../metrics/metrics.ts';
import { cancelRun, getRun, listChildRuns, listRuns, rerunRun } from './runsStore.ts';

const listQuery = z.object({
  flow_id: z.string().max(100).optional(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']).optional(),
  limit: limitSchema,
  cursor: z.string().max(100).optional(),
  /** docs/api.md §3.13: test runs only (by default, only production runs are listed). */
  test: z.enum(['true', 'false']).optional(),
  /** One shadow replay's runs (docs/api.md §3.14). */
  replay_id: z.string().max(100).optional(),
});

/** A run as the API shows it: `test` and `replay` say whether its side effects were held back. */
function runView<T extends { mode?: string | null }>(row: T) {
  const { mode, ...rest } = row;
  return { ...rest, test: mode === 'test', replay: mode === 'replay' };
}

export function registerRunRoutes(
  app: FastifyInstance,
  docs: ApiDocs,
  database: Database,
  now: () => number = Date.now,
  metrics?: RunApiMetrics,
): void {
  docs.route(
    app,
    { method: 'GET', url: '/api/v1/runs', summary: 'List runs, newest first', tag: 'Runs', query: listQuery },
    async (req) => {
      const p = principal(req);
      const q = validate(listQuery, req.query, 'query');
      const rows = await listRuns(database, p.tenantId, {
        flowId: q.flow_id,
        status: q.status,
        limit: q.limit,
        cursor: q.cursor,
        test: q.test === 'true',
        replayId: q.replay_id,
      });
      const p2 = page(rows, q.limit);
      return { ...p2, data: p2.data.map(runView) };
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/runs/:id',
      summary: 'One run: its trigger request, nodes, vars and status',
      tag: 'Runs',
    },
    async (req) => {
      const tenantId = principal(req).tenantId;
      const run = await getRun(database, tenantId, (req.params as { id: string }).id);
      if (!run) throw notFound('Run');
      // The runs its subflow nodes started (docs/api.md §4.2): links from parent to children.
      const children = await listChildRuns(database.db, tenantId, run.id);
      return { ...runView(run), children: children.map(runView) };
    },
  );
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/runs/:id/rerun',
      summary: 'Start a new run with the same trigger input',
      tag: 'Runs',
      status: 201,
    },
    async (req, reply) => {
      const p = principal(req);
      const runId = (req.params as { id: string }).id;
      const id = await rerunRun(database.db, p.tenantId, runId, newId('run'));
      if (!id) {
        const run = await getRun(database, p.tenantId, runId);
        if (run?.mode === 'replay')
          throw new HttpError(
            409,
            'replay_run',
            'A replay run is not rerun on its own; start a new replay of its original run',
          );
        throw notFound('Run');
      }
      reply.code(201);
      const run = await getRun(database, p.tenantId, id);
      return run && runView(run);
    },
  );
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/runs/:id/cancel',
      summary: 'Cancel a queued or running run',
      tag: 'Runs',
    },
    async (req) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      const cancelled = await cancelRun(database.db, p.tenantId, id, new Date(now()));
      if (!cancelled) {
        const run = await getRun(database, p.tenantId, id);
        if (!run) throw notFound('Run');
        throw new HttpError(409, 'run_finished', `The run has already ended (${run.status})`, {
          status: run.status,
        });
      }
      metrics?.runCancelled();
      const run = await getRun(database, p.tenantId, id);
      return run && runView(run);
    },
  );
}
