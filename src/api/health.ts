/**
 * /healthz (the process answers) and /readyz (database reachable, migrations current; see
 * ReadinessCheck — answered from a check at most a second old).
 */
import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/connect.ts';
import { ReadinessCheck } from '../db/readiness.ts';

export function registerHealthRoutes(app: FastifyInstance, database: Database): void {
  const readiness = new ReadinessCheck(database.db);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = await readiness.check();
    if (r.ready) return { status: 'ready', database: database.kind };
    return reply.code(503).send({ status: 'not_ready', code: r.code, msg: r.msg });
  });
}
