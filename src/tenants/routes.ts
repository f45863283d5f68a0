/** /api/v1 tenants, api-keys and settings. */
import type { FastifyInstance } from 'fastify';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { requireAdmin } from '../api/auth.ts';
import { HttpError, notFound } from '../api/errors.ts';
import { type ApiDocs, principal, validate } from '../api/http.ts';
import type { Database } from '../db/connect.ts';
import { notifyCache } from '../db/notify.ts';
import {
  createApiKey,
  createTenant,
  getTenant,
  listApiKeys,
  listTenants,
  revokeApiKey,
  updateTenantSettings,
} from './store.ts';

const tenantBody = z.object({ name: z.string().trim().min(1).max(200) }).strict();
const apiKeyBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    tenant_id: z.string().min(1).optional(),
    is_admin: z.boolean().optional(),
  })
  .strict();

const cidr = z.string().refine((s) => {
  try {
    if (s.includes('/')) ipaddr.parseCIDR(s);
    else ipaddr.parse(s);
    return true;
  } catch {
    return false;
  }
}, 'each entry is an IP address or CIDR such as 203.0.113.0/24 or 2001:db8::/32');

export const settingsBody = z
  .object({
    ip_allowlist: z.array(cidr).max(1000).optional(),
    retention_days: z.number().int().min(1).max(3650).optional(),
    /** Days finished runs are kept (null: kept for good). */
    run_retention_days: z.number().int().min(1).max(3650).nullable().optional(),
    /** Runs of the tenant running at once, across processes (null: no cap). */
    max_concurrent_runs: z.number().int().min(1).max(10_000).nullable().optional(),
    notify: z
      .object({ emails: z.array(z.email()).max(50).default([]) })
      .strict()
      .optional(),
  })
  .strict();

export function registerTenantRoutes(app: FastifyInstance, docs: ApiDocs, database: Database): void {
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/tenants',
      summary: 'Create a tenant (admin)',
      tag: 'Tenants',
      body: tenantBody,
      status: 201,
    },
    async (req, reply) => {
      requireAdmin(principal(req));
      const body = validate(tenantBody, req.body);
      reply.code(201);
      return createTenant(database, body.name);
    },
  );
  docs.route(
    app,
    { method: 'GET', url: '/api/v1/tenants', summary: 'List tenants (admin)', tag: 'Tenants' },
    async (req) => {
      requireAdmin(principal(req));
      return { data: await listTenants(database) };
    },
  );

  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/api-keys',
      summary: 'Create an API key; the key is shown once',
      tag: 'API keys',
      body: apiKeyBody,
      status: 201,
    },
    async (req, reply) => {
      const p = principal(req);
      const body = validate(apiKeyBody, req.body);
      const tenantId = body.tenant_id ?? p.tenantId;
      if (tenantId !== p.tenantId || body.is_admin) requireAdmin(p);
      if (!(await getTenant(database, tenantId))) throw notFound('Tenant');
      const created = await createApiKey(database, {
        tenantId,
        name: body.name,
        isAdmin: body.is_admin ?? false,
      });
      reply.code(201);
      return {
        id: created.id,
        name: body.name,
        tenant_id: tenantId,
        is_admin: body.is_admin ?? false,
        key: created.key,
        key_prefix: created.key_prefix,
        created_at: created.created_at,
      };
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/api-keys',
      summary: "List this tenant's API keys (never the keys themselves)",
      tag: 'API keys',
    },
    async (req) => {
      return { data: await listApiKeys(database, principal(req).tenantId) };
    },
  );
  docs.route(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/api-keys/:id',
      summary: 'Revoke an API key',
      tag: 'API keys',
      status: 204,
    },
    async (req, reply) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      if (id === p.keyId)
        throw new HttpError(409, 'cannot_revoke_self', 'A key cannot revoke itself; use another key');
      if (!(await revokeApiKey(database, p.tenantId, id))) throw notFound('API key');
      return reply.code(204).send();
    },
  );

  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/settings',
      summary: "The tenant's settings (IP allowlist, retention, run concurrency, notifications)",
      tag: 'Settings',
    },
    async (req) => {
      const t = await getTenant(database, principal(req).tenantId);
      if (!t) throw notFound('Tenant');
      return settingsView(t.settings);
    },
  );
  const update = async (req: any, replace: boolean) => {
    const p = principal(req);
    const body = validate(settingsBody, req.body);
    const t = await getTenant(database, p.tenantId);
    if (!t) throw notFound('Tenant');
    const next = replace ? body : { ...t.settings, ...body };
    const row = await database.db.transaction().execute(async (tx) => {
      const r = await updateTenantSettings({ ...database, db: tx }, p.tenantId, next);
      await notifyCache(tx, `tenant:${p.tenantId}`);
      return r;
    });
    return settingsView(row!.settings);
  };
  docs.route(
    app,
    {
      method: 'PUT',
      url: '/api/v1/settings',
      summary: "Replace the tenant's settings",
      tag: 'Settings',
      body: settingsBody,
    },
    (req) => update(req, true),
  );
  docs.route(
    app,
    {
      method: 'PATCH',
      url: '/api/v1/settings',
      summary: "Change some of the tenant's settings",
      tag: 'Settings',
      body: settingsBody,
    },
    (req) => update(req, false),
  );
}

function settingsView(s: Record<string, unknown> | null) {
  return {
    ip_allowlist: (s?.ip_allowlist as string[]) ?? [],
    retention_days: (s?.retention_days as number) ?? 30,
    run_retention_days: s && 'run_retention_days' in s ? (s.run_retention_days as number | null) : 30,
    max_concurrent_runs: (s?.max_concurrent_runs as number | null | undefined) ?? null,
    notify: (s?.notify as object) ?? { emails: [] },
  };
}
