/**
 * Shadow replay (docs/api.md §3.14): `POST /api/v1/flows/:id/replays` runs stored requests again
 * against a version or the draft, side effects held back; `GET /api/v1/replays/:id` is the report.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError, notFound } from '../api/errors.ts';
import { type ApiDocs, limitSchema, page, principal, validate } from '../api/http.ts';
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';
import { getDraft } from '../flows/draftStore.ts';
import { getFlow, getFlowVersion } from '../flows/store.ts';
import { MAX_RUNNING_REPLAYS } from './coordinator.ts';
import {
  countRunningReplays,
  getReplay,
  insertReplay,
  listReplays,
  replayableRuns,
  replayItems,
  unusableRuns,
} from './store.ts';

export const MAX_REPLAY_RUNS = 1000;

const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

const replayBody = z
  .object({
    version: z.union([z.number().int().min(1), z.literal('draft')]),
    run_ids: z.array(z.string().min(1).max(100)).min(1).max(MAX_REPLAY_RUNS).optional(),
    since: isoDate.optional(),
    until: isoDate.optional(),
    limit: z.number().int().min(1).max(MAX_REPLAY_RUNS).default(100),
  })
  .strict();

const listQuery = z.object({ limit: limitSchema, cursor: z.string().max(100).optional() });

type ItemRow = Awaited<ReturnType<typeof replayItems>>[number];

const outcome = (status: string | null, error: string | null, vars: unknown, response: unknown) =>
  status === null ? null : { status, error, vars: vars ?? {}, response: response ?? null };

function itemView(x: ItemRow) {
  return {
    run_id: x.run_id,
    replay_run_id: x.replay_run_id,
    status: x.status,
    original: outcome(x.o_status, x.o_error, x.o_vars, x.o_response),
    replay: x.status === 'pending' ? null : outcome(x.r_status, x.r_error, x.r_vars, x.r_response),
    differences: x.differences ?? [],
  };
}

export function registerReplayRoutes(
  app: FastifyInstance,
  docs: ApiDocs,
  database: Database,
  opts: { onCreated?: () => void } = {},
): void {
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/flows/:id/replays',
      summary: 'Replay stored requests against a version or the draft, side effects held back',
      tag: 'Replays',
      body: replayBody,
      status: 202,
    },
    async (req, reply) => {
      const p = principal(req);
      const { id: flowId } = req.params as { id: string };
      const body = validate(replayBody, req.body);
      if (body.since && body.until && body.since >= body.until)
        throw new HttpError(400, 'invalid_request', 'since must be before until');
      if (body.run_ids && (body.since || body.until))
        throw new HttpError(400, 'invalid_request', 'Give run_ids or a time range (since, until), not both');
      if (!(await getFlow(database, p.tenantId, flowId))) throw notFound('Flow');

      let target: { version: number | null; draftRevision: number | null };
      if (body.version === 'draft') {
        const draft = await getDraft(database, p.tenantId, flowId);
        if (!draft)
          throw new HttpError(404, 'no_draft', 'This flow has no draft to replay against; save one first');
        target = { version: null, draftRevision: draft.revision };
      } else {
        if (!(await getFlowVersion(database, p.tenantId, flowId, body.version)))
          throw new HttpError(404, 'not_found', `Version ${body.version} of this flow does not exist`);
        target = { version: body.version, draftRevision: null };
      }

      let runIds: string[];
      if (body.run_ids) {
        runIds = [...new Set(body.run_ids)];
        const unusable = await unusableRuns(database, p.tenantId, flowId, runIds);
        if (unusable.length)
          throw new HttpError(
            400,
            'unusable_runs',
            `${unusable.length} of the runs cannot be replayed: ${unusable[0]!.run_id} is ${unusable[0]!.reason}`,
            { runs: unusable },
          );
      } else {
        runIds = await replayableRuns(database, p.tenantId, flowId, {
          since: body.since,
          until: body.until,
          limit: body.limit,
        });
      }
      if (runIds.length === 0)
        throw new HttpError(
          400,
          'no_runs',
          'No ended production runs of this flow match; send it some traffic first, or widen the time range',
        );
      if ((await countRunningReplays(database, p.tenantId)) >= MAX_RUNNING_REPLAYS)
        throw new HttpError(
          409,
          'too_many_replays',
          `This tenant already has ${MAX_RUNNING_REPLAYS} replays running; try again when one is done`,
        );

      // Oldest first: the runs are replayed in the order they came.
      runIds.reverse();
      const id = newId('rpl');
      await insertReplay(database, {
        tenantId: p.tenantId,
        id,
        flowId,
        target,
        runIds,
        replayRunIds: runIds.map(() => newId('run')),
        createdBy: p.keyId,
      });
      opts.onCreated?.();
      reply.code(202);
      return { id, status: 'running', total: runIds.length };
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/flows/:id/replays',
      summary: "A flow's replays, newest first",
      tag: 'Replays',
      query: listQuery,
    },
    async (req) => {
      const p = principal(req);
      const { id: flowId } = req.params as { id: string };
      const q = validate(listQuery, req.query, 'query');
      if (!(await getFlow(database, p.tenantId, flowId))) throw notFound('Flow');
      return page(await listReplays(database, p.tenantId, flowId, q), q.limit);
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/replays/:id',
      summary: 'A replay report: progress, and each original run compared with its replay',
      tag: 'Replays',
    },
    async (req) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      const replay = await getReplay(database, p.tenantId, id);
      if (!replay) throw notFound('Replay');
      const items = (await replayItems(database, p.tenantId, id)).map(itemView);
      return { ...replay, items };
    },
  );
}
