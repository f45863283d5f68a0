/** Export and import of portable flow documents (docs/api.md §3.12). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound } from '../api/errors.ts';
import { type ApiDocs, principal, validate } from '../api/http.ts';
import type { Database } from '../db/connect.ts';
import { exportFlow, resolvePortable } from './portable.ts';
import { flowView, validateDocument } from './routes.ts';
import { getFlow, insertFlow, replaceFlow } from './store.ts';

const importQuery = z.object({ update: z.string().min(1).max(200).optional() }).strict();

export function registerPortableFlowRoutes(
  app: FastifyInstance,
  docs: ApiDocs,
  database: Database,
  publicUrl: string,
  now: () => number = Date.now,
): void {
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/flows/:id/export',
      summary: 'A portable document of a flow: credentials, endpoints and flows referenced by name',
      tag: 'Flows',
    },
    async (req) => {
      const p = principal(req);
      const row = await getFlow(database, p.tenantId, (req.params as { id: string }).id);
      if (!row) throw notFound('Flow');
      return exportFlow(database, row);
    },
  );
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/flows/import',
      summary: 'Create a flow from a portable document, or replace one (?update=<flow id>)',
      tag: 'Flows',
      query: importQuery,
    },
    async (req, reply) => {
      const p = principal(req);
      const q = validate(importQuery, req.query, 'query');
      if (q.update && !(await getFlow(database, p.tenantId, q.update))) throw notFound('Flow');
      const resolved = await resolvePortable(database, p.tenantId, req.body, q.update);
      const doc = await validateDocument(database, p.tenantId, resolved, q.update);
      const by = { keyId: p.keyId, note: 'imported' };
      if (!q.update) {
        reply.code(201);
        return flowView(await insertFlow(database, p.tenantId, doc, new Date(now()), by), publicUrl, now());
      }
      const row = await replaceFlow(database, p.tenantId, q.update, doc, new Date(now()), by);
      if (!row) throw notFound('Flow');
      return flowView(row, publicUrl, now());
    },
  );
}
