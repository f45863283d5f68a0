/**
 * `GET /metrics` in the Prometheus text format, on the API's port. Scrapers usually carry no API
 * key, so it is open unless HOOKFLOW_METRICS_TOKEN is set; then it takes
 * `Authorization: Bearer <token>`, compared in constant time.
 */
import type { FastifyInstance } from 'fastify';
import { secretsEqual } from '../core/verify/util.ts';
import type { HookflowMetrics } from './metrics.ts';

export function registerMetricsRoute(
  app: FastifyInstance,
  metrics: HookflowMetrics,
  opts: { token?: string } = {},
): void {
  const { token } = opts;
  app.get('/metrics', async (request, reply) => {
    if (token !== undefined) {
      const given = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1];
      if (given === undefined || !secretsEqual(given, token))
        return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({
          msg: 'Metrics need Authorization: Bearer <HOOKFLOW_METRICS_TOKEN>',
          code: 'unauthorized',
        });
    }
    const body = await metrics.render();
    return reply.type(metrics.contentType).send(body);
  });
}
