/** GET /api/v1/node-types: the node registry's catalog, which the canvas builds itself from (docs/api.md §4.6). */
import type { FastifyInstance } from 'fastify';
import { nodeCatalog } from '../nodes/index.ts';
import type { ApiDocs } from './http.ts';

export function registerNodeTypeRoutes(app: FastifyInstance, docs: ApiDocs): void {
  const data = nodeCatalog();
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/node-types',
      summary: 'The node types: label, description, edges, initial config, panel fields, summary',
      tag: 'Flows',
    },
    async () => ({ data }),
  );
}
