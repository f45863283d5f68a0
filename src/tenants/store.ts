/** SQL for tenants, API keys and tenant settings. */
import { sql } from 'kysely';
import { hashApiKey, newApiKey } from '../core/crypto.ts';
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';
import type { TenantSettings } from '../db/schema.ts';

export type Principal = { keyId: string; tenantId: string; isAdmin: boolean };

export async function findPrincipalByKey(database: Database, key: string): Promise<Principal | undefined> {
  const row = await database.db
    .selectFrom('api_keys')
    .select(['id', 'tenant_id', 'is_admin'])
    .where('key_hash', '=', hashApiKey(key))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { keyId: row.id, tenantId: row.tenant_id, isAdmin: row.is_admin } : undefined;
}

export async function createApiKey(
  database: Database,
  input: { tenantId: string; name: string; isAdmin?: boolean; key?: string },
): Promise<{ id: string; key: string; key_prefix: string; created_at: Date }> {
  const key = input.key ?? newApiKey();
  const id = newId('key');
  const row = await database.db
    .insertInto('api_keys')
    .values({
      id,
      tenant_id: input.tenantId,
      name: input.name,
      key_hash: hashApiKey(key),
      key_prefix: key.slice(0, 8),
      is_admin: input.isAdmin ?? false,
    })
    .returning(['created_at', 'key_prefix'])
    .executeTakeFirstOrThrow();
  return { id, key, key_prefix: row.key_prefix, created_at: row.created_at };
}

export async function listApiKeys(database: Database, tenantId: string) {
  return database.db
    .selectFrom('api_keys')
    .select(['id', 'tenant_id', 'name', 'key_prefix', 'is_admin', 'created_at', 'revoked_at'])
    .where('tenant_id', '=', tenantId)
    .orderBy('id')
    .execute();
}

export async function revokeApiKey(database: Database, tenantId: string, id: string): Promise<boolean> {
  const r = await database.db
    .updateTable('api_keys')
    .set({ revoked_at: sql`now()` as any })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function countApiKeys(database: Database): Promise<number> {
  const r = await database.db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Makes sure the configured bootstrap key exists as a platform admin of the default tenant. */
export async function ensureBootstrapKey(database: Database, key: string): Promise<boolean> {
  const existing = await database.db
    .selectFrom('api_keys')
    .select('id')
    .where('key_hash', '=', hashApiKey(key))
    .executeTakeFirst();
  if (existing) {
    await database.db
      .updateTable('api_keys')
      .set({ revoked_at: null, is_admin: true, tenant_id: 'default' })
      .where('id', '=', existing.id)
      .execute();
    return false;
  }
  await createApiKey(database, { tenantId: 'default', name: 'bootstrap', isAdmin: true, key });
  return true;
}

export async function createTenant(database: Database, name: string) {
  return database.db
    .insertInto('tenants')
    .values({ id: newId('ten'), name })
    .returning(['id', 'name', 'settings', 'created_at'])
    .executeTakeFirstOrThrow();
}

export async function listTenants(database: Database) {
  return database.db
    .selectFrom('tenants')
    .select(['id', 'name', 'settings', 'created_at'])
    .orderBy('created_at')
    .execute();
}

export async function getTenant(database: Database, id: string) {
  return database.db
    .selectFrom('tenants')
    .select(['id', 'name', 'settings', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function updateTenantSettings(database: Database, id: string, settings: TenantSettings) {
  return database.db
    .updateTable('tenants')
    .set({ settings: JSON.stringify(settings) })
    .where('id', '=', id)
    .returning(['id', 'name', 'settings', 'created_at'])
    .executeTakeFirst();
}
