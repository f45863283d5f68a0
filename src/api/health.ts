/** /healthz (the process answers) and /readyz (database reachable, migrations current). */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Database } from '../db/connect.ts';
import { pendingMigrations } from '../db/migrate.ts';

export function registerHealthRoutes(app: FastifyInstance, database: Database): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await withTimeout(sql`select 1`.execute(database.db), 2000);
      const pending = await withTimeout(pendingMigrations(database.db), 2000);
      if (pending.length)
        return reply.code(503).send({
          status: 'not_ready',
          code: 'migrations_pending',
          msg: `Migrations pending: ${pending.join(', ')}`,
        });
      return { status: 'ready', database: database.kind };
    } catch {
      return reply
        .code(503)
        .send({ status: 'not_ready', code: 'database_unreachable', msg: 'The database is not reachable' });
    }
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
