/** SQL for credentials: sealed with the master key, bound to their row, never returned in clear by the API. */
import { sql } from 'kysely';
import { decryptSecret, encryptSecret } from '../core/crypto.ts';
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';

export type CredentialSummary = {
  id: string;
  name: string;
  type: string;
  hint: string;
  created_at: Date;
  updated_at: Date;
};

const aad = (tenantId: string, id: string) => `credential:${tenantId}:${id}`;

/**
 * The field that is the secret, whatever the type: `secret` (hmac, github, stripe, slack, …),
 * `password` (basic, smtp), `value` (api_key), `token` (bearer, gitlab), `auth_token` (twilio),
 * `app_secret` (meta — not its `verify_token` —, dropbox), `consumer_secret` (x),
 * `signature_key` (square). The first one present counts.
 */
const SECRET_FIELDS = [
  'secret',
  'password',
  'value',
  'token',
  'auth_token',
  'app_secret',
  'consumer_secret',
  'signature_key',
] as const;

/** Last four characters of the part of the data that is the secret, for recognising it in lists. */
export function credentialHint(data: Record<string, unknown>): string {
  for (const k of SECRET_FIELDS) {
    const v = data[k];
    if (typeof v === 'string' && v.length >= 8) return `…${v.slice(-4)}`;
    if (typeof v === 'string') return '…';
  }
  return '';
}

export async function createCredential(
  database: Database,
  key: Buffer,
  input: { tenantId: string; name: string; type: string; data: Record<string, unknown> },
): Promise<CredentialSummary> {
  const id = newId('cred');
  return database.db
    .insertInto('credentials')
    .values({
      tenant_id: input.tenantId,
      id,
      name: input.name,
      type: input.type,
      data_enc: encryptSecret(key, JSON.stringify(input.data), aad(input.tenantId, id)),
      hint: credentialHint(input.data),
    })
    .returning(['id', 'name', 'type', 'hint', 'created_at', 'updated_at'])
    .executeTakeFirstOrThrow();
}

export async function updateCredential(
  database: Database,
  key: Buffer,
  tenantId: string,
  id: string,
  patch: { name?: string; data?: Record<string, unknown> },
): Promise<CredentialSummary | undefined> {
  return database.db
    .updateTable('credentials')
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.data !== undefined
        ? {
            data_enc: encryptSecret(key, JSON.stringify(patch.data), aad(tenantId, id)),
            hint: credentialHint(patch.data),
          }
        : {}),
      updated_at: sql`now()` as any,
    })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returning(['id', 'name', 'type', 'hint', 'created_at', 'updated_at'])
    .executeTakeFirst();
}

export async function listCredentials(database: Database, tenantId: string): Promise<CredentialSummary[]> {
  return database.db
    .selectFrom('credentials')
    .select(['id', 'name', 'type', 'hint', 'created_at', 'updated_at'])
    .where('tenant_id', '=', tenantId)
    .orderBy('id')
    .execute();
}

export async function getCredentialSummary(database: Database, tenantId: string, id: string) {
  return database.db
    .selectFrom('credentials')
    .select(['id', 'name', 'type', 'hint', 'created_at', 'updated_at'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** The decrypted data, for the processes that use it (ingest verification, outbound calls). */
export async function loadCredential(
  database: Database,
  key: Buffer,
  tenantId: string,
  id: string,
): Promise<{ id: string; type: string; data: Record<string, unknown> } | undefined> {
  const row = await database.db
    .selectFrom('credentials')
    .select(['id', 'type', 'data_enc'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    type: row.type,
    data: JSON.parse(decryptSecret(key, row.data_enc, aad(tenantId, id))),
  };
}

export async function deleteCredential(database: Database, tenantId: string, id: string): Promise<boolean> {
  const r = await database.db
    .deleteFrom('credentials')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The tenant's credentials of that exact name (flow import, docs/api.md §3.12; names are not unique). */
export async function findCredentialsByName(database: Database, tenantId: string, name: string) {
  return database.db
    .selectFrom('credentials')
    .select(['id', 'name', 'type'])
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name)
    .orderBy('id')
    .limit(10)
    .execute();
}
