/**
 * Drafts (docs/api.md §3.12): `PUT /api/v1/flows/:id/draft` keeps a draft without changing what
 * serves traffic, `POST …/draft/publish` makes it the next version, `DELETE …/draft` drops it. The
 * test URL runs it (src/ingest/route.ts).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError, notFound } from '../api/errors.ts';
import { type ApiDocs, principal, validate } from '../api/http.ts';
import { type FlowNode, webhookNodes, webhookUrl } from '../core/flowDocument.ts';
import type { Database } from '../db/connect.ts';
import { type DraftRow, discardDraft, getDraft, saveDraft } from './draftStore.ts';
import { flowView, saveAsNextVersion, validateDocument } from './routes.ts';
import { getFlow } from './store.ts';

const publishBody = z
  .object({ note: z.string().max(500).optional() })
  .strict()
  .optional();

export function draftView(tenantId: string, row: DraftRow, publicUrl: string) {
  const hooks = webhookNodes({ nodes: row.nodes as FlowNode[] });
  const urls = hooks.map((n, i) => ({
    node_id: n.id,
    url: webhookUrl(publicUrl, tenantId, row.flow_id, n.id, i === 0, true),
  }));
  return {
    flow_id: row.flow_id,
    revision: row.revision,
    base_version: row.base_version,
    name: row.name,
    nodes: row.nodes,
    edges: row.edges,
    settings: row.settings,
    created_at: row.created_at,
    created_by: row.created_by,
    /** The first webhook node's test URL; `test_webhooks` has each node's. */
    test_url: urls[0]?.url ?? null,
    test_webhooks: urls,
  };
}

const noDraft = () =>
  new HttpError(404, 'no_draft', 'This flow has no draft; PUT /api/v1/flows/:id/draft keeps one');

export function registerDraftRoutes(
  app: FastifyInstance,
  docs: ApiDocs,
  database: Database,
  publicUrl: string,
  now: () => number = Date.now,
): void {
  const mustGet = async (tenantId: string, id: string) => {
    const row = await getFlow(database, tenantId, id);
    if (!row) throw notFound('Flow');
    return row;
  };

  docs.route(
    app,
    { method: 'GET', url: '/api/v1/flows/:id/draft', summary: "A flow's draft", tag: 'Flows' },
    async (req) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      await mustGet(p.tenantId, id);
      const draft = await getDraft(database, p.tenantId, id);
      if (!draft) throw noDraft();
      return draftView(p.tenantId, draft, publicUrl);
    },
  );
  docs.route(
    app,
    {
      method: 'PUT',
      url: '/api/v1/flows/:id/draft',
      summary: 'Keep a draft of the flow (checked like a save; production keeps running the live version)',
      tag: 'Flows',
    },
    async (req) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      const current = await mustGet(p.tenantId, id);
      const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {};
      // `enabled` is the live flow's (a draft does not serve traffic); the rest is checked as a save.
      const doc = await validateDocument(database, p.tenantId, { ...body, enabled: current.enabled }, id);
      const draft = await saveDraft(database, p.tenantId, id, doc, p.keyId);
      if (!draft) throw notFound('Flow');
      return draftView(p.tenantId, draft, publicUrl);
    },
  );
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/flows/:id/draft/publish',
      summary: 'Publish the draft: it becomes the next version and serves traffic',
      tag: 'Flows',
      body: publishBody,
    },
    async (req) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      const body = validate(publishBody, req.body ?? undefined);
      const current = await mustGet(p.tenantId, id);
      const draft = await getDraft(database, p.tenantId, id);
      if (!draft) throw noDraft();
      const row = await saveAsNextVersion(
        database,
        current,
        draft,
        new Date(now()),
        { keyId: p.keyId, note: body?.note ?? `published draft revision ${draft.revision}` },
        draft.revision,
      );
      return flowView(row, publicUrl, now());
    },
  );
  docs.route(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/flows/:id/draft',
      summary: 'Discard the draft',
      tag: 'Flows',
      status: 204,
    },
    async (req, reply) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      await mustGet(p.tenantId, id);
      if (!(await discardDraft(database, p.tenantId, id))) throw noDraft();
      return reply.code(204).send();
    },
  );
}
