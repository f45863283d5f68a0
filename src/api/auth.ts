/** Bearer API keys on /api/v1: every request resolves to a principal (key, tenant, admin flag). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../db/connect.ts';
import { findPrincipalByKey, type Principal } from '../tenants/store.ts';
import { HttpError } from './errors.ts';

export function registerAuth(app: FastifyInstance, database: Database): void {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m)
      throw new HttpError(401, 'unauthorized', 'Missing API key: send "Authorization: Bearer <api key>"');
    const found = await findPrincipalByKey(database, m[1]);
    if (!found) throw new HttpError(401, 'unauthorized', 'Invalid or revoked API key');
    (request as FastifyRequest & { principal?: Principal }).principal = found;
  });
}

export function requireAdmin(p: Principal): void {
  if (!p.isAdmin) throw new HttpError(403, 'forbidden', 'Only a platform admin key can do this');
}
