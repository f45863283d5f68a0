/**
 * SQL for outbound endpoints (docs/api.md §5.1). Secrets never sit in clear in a row: the signing secret
 * (and the previous one during a rotation) is sealed in `secret_enc` / `previous_secret_enc`, the
 * secret part of inline auth (basic password, api_key value, bearer token) in `auth_secret_enc`,
 * while `auth` keeps only the non-secret part ({type, username} / {type, header} / {type,
 * credential_id}). Every sealed value is bound to its row by its additional data.
 *
 * At most one default endpoint per tenant: the partial unique index `endpoints_one_default`
 * enforces it; making one the default clears the others in the same transaction, and a race
 * between two such transactions surfaces as DefaultEndpointConflict.
 */
import { randomBytes } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { decryptSecret, encryptSecret } from '../../core/crypto.ts';
import { newId } from '../../core/ids.ts';
import { loadCredential } from '../../credentials/store.ts';
import type { Database } from '../../db/connect.ts';
import { notifyCache } from '../../db/notify.ts';
import type { CircuitState, DB, EndpointAuthRow, EndpointBodyRow } from '../../db/schema.ts';

export type EndpointMethod = 'POST' | 'PUT' | 'PATCH';
export type EndpointAuthType = 'none' | 'basic' | 'api_key' | 'bearer';
export type EndpointBody = EndpointBodyRow;

/**
 * Auth as given to create/update. Inline: the secret field is set. By reference: `credential_id`.
 * On update, an inline auth of the same type as the stored inline one may leave its secret out to
 * keep the stored secret (the UI never sees it, so it cannot send it back).
 */
export type EndpointAuthInput =
  | { type: 'none' }
  | { type: 'basic'; username: string; password?: string }
  | { type: 'api_key'; header: string; value?: string }
  | { type: 'bearer'; token?: string }
  | { type: 'basic' | 'api_key' | 'bearer'; credential_id: string };

/** What the API shows: the non-secret part, and whether a secret is stored. */
export type EndpointAuthView =
  | { type: 'none' }
  | { type: 'basic'; username: string; has_password: boolean }
  | { type: 'api_key'; header: string; has_value: boolean }
  | { type: 'bearer'; has_token: boolean }
  | { type: 'basic' | 'api_key' | 'bearer'; credential_id: string };

export type EndpointView = {
  id: string;
  name: string;
  url: string;
  method: EndpointMethod;
  events: string[];
  auth: EndpointAuthView;
  headers: Record<string, string>;
  is_default: boolean;
  enabled: boolean;
  disabled_reason: string | null;
  rate_limit_per_s: number | null;
  /** Attempts in flight to this endpoint per delivery process at most (docs/api.md §5.7). */
  max_in_flight: number;
  body: EndpointBody;
  retry_schedule: number[] | null;
  /** The circuit breaker (docs/api.md §5.7). */
  circuit: CircuitView;
  /** Until when the previous signing secret still signs (after a rotation), or null. */
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

/**
 * `until`: when an open circuit lets a probe through (it may be past: the probe goes with the next
 * due delivery); null when closed or while the half-open probe is out.
 */
export type CircuitView = {
  state: CircuitState;
  consecutive_failures: number;
  until: Date | null;
};

export type EndpointInput = {
  name: string;
  url: string;
  method?: EndpointMethod;
  events?: string[];
  auth?: EndpointAuthInput;
  headers?: Record<string, string>;
  is_default?: boolean;
  enabled?: boolean;
  rate_limit_per_s?: number | null;
  max_in_flight?: number;
  body?: EndpointBody;
  retry_schedule?: number[] | null;
};

export type EndpointPatch = Partial<EndpointInput>;

/** Auth with its secrets, for sending. api_key may go in a header or (from a credential) the query. */
export type ResolvedEndpointAuth =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | { type: 'api_key'; in: 'header' | 'query'; name: string; value: string }
  | { type: 'bearer'; token: string };

export type EndpointForSending = {
  tenantId: string;
  id: string;
  name: string;
  url: string;
  method: EndpointMethod;
  events: string[];
  headers: Record<string, string>;
  auth: ResolvedEndpointAuth;
  /** Signing secrets (`whsec_…`): the current one first, then the previous one while it is valid. */
  secrets: string[];
  isDefault: boolean;
  enabled: boolean;
  disabledReason: string | null;
  rateLimitPerS: number | null;
  maxInFlight: number;
  body: EndpointBody;
  retrySchedule: number[] | null;
};

/** Another endpoint of the tenant became the default at the same moment (unique index). */
export class DefaultEndpointConflict extends Error {
  constructor() {
    super('Another endpoint of this tenant was made the default at the same time; try again');
    this.name = 'DefaultEndpointConflict';
  }
}

/** The auth input references a credential that is missing or of another type. */
export class EndpointCredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointCredentialError';
  }
}

/** An inline auth on update left its secret out, and there is no stored secret of that type to keep. */
export class EndpointAuthSecretMissing extends Error {
  constructor(readonly field: string) {
    super(`auth.${field} is required`);
    this.name = 'EndpointAuthSecretMissing';
  }
}

/** Attempts in flight per endpoint and delivery process when the endpoint does not say (docs/api.md §5.7). */
export const DEFAULT_MAX_IN_FLIGHT = 10;

/** How long the previous signing secret keeps signing after a rotation (docs/api.md §5.2). */
export const PREVIOUS_SECRET_VALIDITY_MS = 24 * 60 * 60 * 1000;

const secretAad = (tenantId: string, id: string) => `endpoint:${tenantId}:${id}`;
const authAad = (tenantId: string, id: string) => `endpoint:${tenantId}:${id}:auth`;

/** A new signing secret: `whsec_` + base64 of 24 random bytes (the Standard Webhooks form). */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

const VIEW_COLUMNS = [
  'id',
  'name',
  'url',
  'method',
  'events',
  'auth',
  'auth_secret_enc',
  'headers',
  'is_default',
  'enabled',
  'disabled_reason',
  'rate_limit_per_s',
  'max_in_flight',
  'circuit_state',
  'circuit_failures',
  'circuit_until',
  'body',
  'retry_schedule',
  'previous_secret_expires_at',
  'created_at',
  'updated_at',
] as const;

type ViewRow = {
  id: string;
  name: string;
  url: string;
  method: EndpointMethod;
  events: string[];
  auth: EndpointAuthRow;
  auth_secret_enc: Buffer | null;
  headers: Record<string, string>;
  is_default: boolean;
  enabled: boolean;
  disabled_reason: string | null;
  rate_limit_per_s: number | null;
  max_in_flight: number;
  circuit_state: CircuitState;
  circuit_failures: number;
  circuit_until: Date | null;
  body: EndpointBody;
  retry_schedule: number[] | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

function authView(auth: EndpointAuthRow, hasSecret: boolean): EndpointAuthView {
  if (auth.type !== 'none' && auth.credential_id)
    return { type: auth.type, credential_id: auth.credential_id };
  switch (auth.type) {
    case 'basic':
      return { type: 'basic', username: auth.username ?? '', has_password: hasSecret };
    case 'api_key':
      return { type: 'api_key', header: auth.header ?? '', has_value: hasSecret };
    case 'bearer':
      return { type: 'bearer', has_token: hasSecret };
    default:
      return { type: 'none' };
  }
}

function toView(row: ViewRow): EndpointView {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    method: row.method,
    events: row.events,
    auth: authView(row.auth, row.auth_secret_enc !== null),
    headers: row.headers,
    is_default: row.is_default,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    rate_limit_per_s: row.rate_limit_per_s,
    max_in_flight: row.max_in_flight,
    body: row.body,
    retry_schedule: row.retry_schedule === null ? null : row.retry_schedule.map(Number),
    circuit: {
      state: row.circuit_state,
      consecutive_failures: row.circuit_failures,
      until: row.circuit_state === 'open' && row.circuit_until ? new Date(row.circuit_until) : null,
    },
    previous_secret_expires_at: row.previous_secret_expires_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const SECRET_FIELD = { basic: 'password', api_key: 'value', bearer: 'token' } as const;

/**
 * Splits auth input into the stored non-secret part and the sealed secret. `current` is the stored
 * auth (on update): an inline auth without its secret keeps the stored one when the type matches.
 */
async function sealAuth(
  trx: Kysely<DB>,
  key: Buffer,
  tenantId: string,
  id: string,
  auth: EndpointAuthInput,
  current?: { auth: EndpointAuthRow; auth_secret_enc: Buffer | null },
): Promise<{ row: EndpointAuthRow; secretEnc: Buffer | null }> {
  if (auth.type === 'none') return { row: { type: 'none' }, secretEnc: null };
  if ('credential_id' in auth && auth.credential_id !== undefined) {
    const cred = await trx
      .selectFrom('credentials')
      .select(['type'])
      .where('tenant_id', '=', tenantId)
      .where('id', '=', auth.credential_id)
      .executeTakeFirst();
    if (!cred) throw new EndpointCredentialError(`Credential "${auth.credential_id}" does not exist`);
    if (cred.type !== auth.type)
      throw new EndpointCredentialError(
        `Credential "${auth.credential_id}" is a ${cred.type} credential, not ${auth.type}`,
      );
    return { row: { type: auth.type, credential_id: auth.credential_id }, secretEnc: null };
  }
  const field = SECRET_FIELD[auth.type];
  const given = (auth as Record<string, unknown>)[field] as string | undefined;
  let secretEnc: Buffer | null;
  if (given !== undefined) {
    secretEnc = encryptSecret(key, JSON.stringify({ [field]: given }), authAad(tenantId, id));
  } else if (
    current &&
    current.auth.type === auth.type &&
    !(current.auth as { credential_id?: string }).credential_id &&
    current.auth_secret_enc
  ) {
    secretEnc = current.auth_secret_enc;
  } else {
    throw new EndpointAuthSecretMissing(field);
  }
  const row: EndpointAuthRow =
    auth.type === 'basic'
      ? { type: 'basic', username: (auth as { username: string }).username }
      : auth.type === 'api_key'
        ? { type: 'api_key', header: (auth as { header: string }).header }
        : { type: 'bearer' };
  return { row, secretEnc };
}

function isDefaultViolation(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  return (
    e?.code === '23505' &&
    (e.constraint === 'endpoints_one_default' || String(e.message ?? '').includes('endpoints_one_default'))
  );
}

async function clearOtherDefaults(trx: Kysely<DB>, tenantId: string, id: string): Promise<void> {
  await trx
    .updateTable('endpoints')
    .set({ is_default: false, updated_at: sql`now()` as any })
    .where('tenant_id', '=', tenantId)
    .where('is_default', '=', true)
    .where('id', '<>', id)
    .execute();
}

async function inTransaction<T>(database: Database, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  try {
    return await database.db.transaction().execute(fn);
  } catch (err) {
    if (isDefaultViolation(err)) throw new DefaultEndpointConflict();
    throw err;
  }
}

/** Creates an endpoint; returns it with its signing secret, which is shown this once. */
export async function createEndpoint(
  database: Database,
  key: Buffer,
  tenantId: string,
  input: EndpointInput,
): Promise<EndpointView & { signing_secret: string }> {
  const id = newId('ep');
  const signingSecret = newSigningSecret();
  const view = await inTransaction(database, async (trx) => {
    const auth = await sealAuth(trx, key, tenantId, id, input.auth ?? { type: 'none' });
    if (input.is_default) await clearOtherDefaults(trx, tenantId, id);
    const row = await trx
      .insertInto('endpoints')
      .values({
        tenant_id: tenantId,
        id,
        name: input.name,
        url: input.url,
        method: input.method ?? 'POST',
        events: input.events ?? ['*'],
        auth: JSON.stringify(auth.row),
        auth_secret_enc: auth.secretEnc,
        headers: JSON.stringify(input.headers ?? {}),
        is_default: input.is_default ?? false,
        enabled: input.enabled ?? true,
        rate_limit_per_s: input.rate_limit_per_s ?? null,
        max_in_flight: input.max_in_flight ?? DEFAULT_MAX_IN_FLIGHT,
        body: JSON.stringify(input.body ?? { type: 'envelope' }),
        retry_schedule: input.retry_schedule ?? null,
        secret_enc: encryptSecret(key, signingSecret, secretAad(tenantId, id)),
      })
      .returning([...VIEW_COLUMNS])
      .executeTakeFirstOrThrow();
    await notifyCache(trx, `endpoint:${tenantId}:${id}`);
    return toView(row as ViewRow);
  });
  return { ...view, signing_secret: signingSecret };
}

export async function getEndpoint(
  database: Database,
  tenantId: string,
  id: string,
): Promise<EndpointView | undefined> {
  const row = await database.db
    .selectFrom('endpoints')
    .select([...VIEW_COLUMNS])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toView(row as ViewRow) : undefined;
}

/** Newest first; the cursor is the last id of the previous page (ids are time-ordered). */
export async function listEndpoints(
  database: Database,
  tenantId: string,
  opts: { eventType?: string; enabled?: boolean; isDefault?: boolean; limit?: number; cursor?: string } = {},
): Promise<EndpointView[]> {
  let q = database.db
    .selectFrom('endpoints')
    .select([...VIEW_COLUMNS])
    .where('tenant_id', '=', tenantId);
  if (opts.eventType !== undefined)
    q = q.where(sql<boolean>`(${opts.eventType} = any(events) or '*' = any(events))`);
  if (opts.enabled !== undefined) q = q.where('enabled', '=', opts.enabled);
  if (opts.isDefault !== undefined) q = q.where('is_default', '=', opts.isDefault);
  if (opts.cursor) q = q.where('id', '<', opts.cursor);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(opts.limit ?? 500)
    .execute();
  return rows.map((r) => toView(r as ViewRow));
}

/** Applies a partial update; undefined when the endpoint does not exist (in this tenant). */
export async function updateEndpoint(
  database: Database,
  key: Buffer,
  tenantId: string,
  id: string,
  patch: EndpointPatch,
): Promise<EndpointView | undefined> {
  return inTransaction(database, async (trx) => {
    const current = await trx
      .selectFrom('endpoints')
      .select(['auth', 'auth_secret_enc'])
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!current) return undefined;
    const auth = patch.auth ? await sealAuth(trx, key, tenantId, id, patch.auth, current) : undefined;
    if (patch.is_default === true) await clearOtherDefaults(trx, tenantId, id);
    const row = await trx
      .updateTable('endpoints')
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.url !== undefined ? { url: patch.url } : {}),
        ...(patch.method !== undefined ? { method: patch.method } : {}),
        ...(patch.events !== undefined ? { events: patch.events } : {}),
        ...(auth ? { auth: JSON.stringify(auth.row), auth_secret_enc: auth.secretEnc } : {}),
        ...(patch.headers !== undefined ? { headers: JSON.stringify(patch.headers) } : {}),
        ...(patch.is_default !== undefined ? { is_default: patch.is_default } : {}),
        // Enabling again clears why it was disabled.
        ...(patch.enabled !== undefined
          ? { enabled: patch.enabled, ...(patch.enabled ? { disabled_reason: null } : {}) }
          : {}),
        ...(patch.rate_limit_per_s !== undefined ? { rate_limit_per_s: patch.rate_limit_per_s } : {}),
        ...(patch.max_in_flight !== undefined ? { max_in_flight: patch.max_in_flight } : {}),
        // A new address, or an endpoint enabled again, starts with a closed circuit.
        ...(patch.url !== undefined || patch.enabled === true
          ? circuitResetWhen(
              sql`(${patch.url ?? null}::text is not null and url <> ${patch.url ?? null}) or (${patch.enabled === true} and not enabled)`,
            )
          : {}),
        ...(patch.body !== undefined ? { body: JSON.stringify(patch.body) } : {}),
        ...(patch.retry_schedule !== undefined ? { retry_schedule: patch.retry_schedule } : {}),
        updated_at: sql`now()` as any,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returning([...VIEW_COLUMNS])
      .executeTakeFirst();
    if (row) await notifyCache(trx, `endpoint:${tenantId}:${id}`);
    return row ? toView(row as ViewRow) : undefined;
  });
}

/** The circuit columns, set back to a closed circuit where `reset` holds (and kept otherwise). */
function circuitResetWhen(reset: ReturnType<typeof sql<boolean>>) {
  return {
    circuit_state: sql<CircuitState>`case when ${reset} then 'closed' else circuit_state end`,
    circuit_failures: sql<number>`case when ${reset} then 0 else circuit_failures end`,
    circuit_until: sql<Date | null>`case when ${reset} then null else circuit_until end`,
    circuit_cooldown_s: sql<number>`case when ${reset} then 30 else circuit_cooldown_s end`,
  } as any;
}

/**
 * A new signing secret; the current one becomes the previous one and keeps signing until
 * `nowMs + validityMs`. Returns the new secret (shown once), or undefined when there is no such endpoint.
 */
export async function rotateEndpointSecret(
  database: Database,
  key: Buffer,
  tenantId: string,
  id: string,
  opts: { nowMs?: number; validityMs?: number } = {},
): Promise<{ signing_secret: string; previous_secret_expires_at: Date } | undefined> {
  const expires = new Date((opts.nowMs ?? Date.now()) + (opts.validityMs ?? PREVIOUS_SECRET_VALIDITY_MS));
  return database.db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('endpoints')
      .select(['secret_enc'])
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!current) return undefined;
    const signingSecret = newSigningSecret();
    await trx
      .updateTable('endpoints')
      .set({
        previous_secret_enc: current.secret_enc,
        previous_secret_expires_at: expires,
        secret_enc: encryptSecret(key, signingSecret, secretAad(tenantId, id)),
        updated_at: sql`now()` as any,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
    await notifyCache(trx, `endpoint:${tenantId}:${id}`);
    return { signing_secret: signingSecret, previous_secret_expires_at: expires };
  });
}

export async function deleteEndpoint(database: Database, tenantId: string, id: string): Promise<boolean> {
  const r = await database.db
    .deleteFrom('endpoints')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  await notifyCache(database.db, `endpoint:${tenantId}:${id}`);
  return Number(r.numDeletedRows) > 0;
}

/**
 * Everything needed to send to an endpoint, decrypted: signing secrets (current first, then the
 * previous one while it is still valid at `nowMs`) and auth with its secret, a credential_id
 * resolved through the credential store. Undefined when the endpoint does not exist in the
 * tenant; throws when its credential is gone or no longer of the right type.
 */
export async function loadEndpointForSending(
  database: Database,
  key: Buffer,
  tenantId: string,
  id: string,
  nowMs: number = Date.now(),
): Promise<EndpointForSending | undefined> {
  const row = await database.db
    .selectFrom('endpoints')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const secrets = [decryptSecret(key, row.secret_enc, secretAad(tenantId, id))];
  if (
    row.previous_secret_enc &&
    row.previous_secret_expires_at &&
    new Date(row.previous_secret_expires_at).getTime() > nowMs
  )
    secrets.push(decryptSecret(key, row.previous_secret_enc, secretAad(tenantId, id)));
  return {
    tenantId,
    id: row.id,
    name: row.name,
    url: row.url,
    method: row.method,
    events: row.events,
    headers: row.headers,
    auth: await resolveAuth(database, key, tenantId, id, row.auth, row.auth_secret_enc),
    secrets,
    isDefault: row.is_default,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    rateLimitPerS: row.rate_limit_per_s,
    maxInFlight: row.max_in_flight,
    body: row.body,
    retrySchedule: row.retry_schedule === null ? null : row.retry_schedule.map(Number),
  };
}

async function resolveAuth(
  database: Database,
  key: Buffer,
  tenantId: string,
  endpointId: string,
  auth: EndpointAuthRow,
  secretEnc: Buffer | null,
): Promise<ResolvedEndpointAuth> {
  if (auth.type === 'none') return { type: 'none' };
  if (auth.credential_id)
    return resolveCredentialAuth(
      database,
      key,
      tenantId,
      auth.type,
      auth.credential_id,
      `credential "${auth.credential_id}" of endpoint "${endpointId}"`,
    );
  if (!secretEnc) throw new Error(`endpoint "${endpointId}" has ${auth.type} auth without its secret`);
  const secret = JSON.parse(decryptSecret(key, secretEnc, authAad(tenantId, endpointId))) as Record<
    string,
    string
  >;
  switch (auth.type) {
    case 'basic':
      return { type: 'basic', username: auth.username ?? '', password: secret.password };
    case 'bearer':
      return { type: 'bearer', token: secret.token };
    case 'api_key':
      return { type: 'api_key', in: 'header', name: auth.header ?? '', value: secret.value };
  }
  throw new Error(`endpoint "${endpointId}" has an unknown auth type`);
}

/**
 * Endpoint auth with its secret from a stored credential (the `{type, credential_id}` form), for
 * sending. Throws EndpointCredentialError when the credential is missing or of another type;
 * `what` names the reference in that message.
 */
export async function resolveCredentialAuth(
  database: Database,
  key: Buffer,
  tenantId: string,
  type: Exclude<EndpointAuthType, 'none'>,
  credentialId: string,
  what = `Credential "${credentialId}"`,
): Promise<ResolvedEndpointAuth> {
  const cred = await loadCredential(database, key, tenantId, credentialId);
  if (!cred) throw new EndpointCredentialError(`${what} does not exist`);
  if (cred.type !== type)
    throw new EndpointCredentialError(`${what} is a ${cred.type} credential, not ${type}`);
  const d = cred.data as Record<string, string>;
  switch (type) {
    case 'basic':
      return { type: 'basic', username: String(d.username ?? ''), password: String(d.password ?? '') };
    case 'bearer':
      return { type: 'bearer', token: String(d.token ?? '') };
    case 'api_key':
      return {
        type: 'api_key',
        in: d.in === 'query' ? 'query' : 'header',
        name: String(d.name ?? d.header ?? ''),
        value: String(d.value ?? ''),
      };
  }
}

/** The ids of the tenant's endpoints of that exact name (flow import, docs/api.md §3.12). */
export async function findEndpointIdsByName(database: Database, tenantId: string, name: string) {
  const rows = await database.db
    .selectFrom('endpoints')
    .select(['id'])
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name)
    .orderBy('id')
    .limit(10)
    .execute();
  return rows.map((r) => r.id);
}
