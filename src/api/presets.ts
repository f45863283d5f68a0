/** GET /api/v1/presets: the provider presets a webhook node may name (docs/api.md §3.10). */
import type { FastifyInstance } from 'fastify';
import { describePreset, listPresets } from '../core/presets/index.ts';
import type { ApiDocs } from './http.ts';

export function registerPresetRoutes(app: FastifyInstance, docs: ApiDocs): void {
  const data = listPresets().map(describePreset);
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/presets',
      summary: 'The provider presets: credential type, secret fields, headers, handshake and de-duplication',
      tag: 'Flows',
    },
    async () => ({ data }),
  );
}
