/**
 * /api/v1/endpoints over real HTTP and a real database (docs/api.md §5.1, §5.2): the signing secret is shown
 * once, secrets never come back and never sit in clear in the row, one default per tenant,
 * validation, tenant isolation, rotation and delete.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEndpoint,
  DefaultEndpointConflict,
  loadEndpointForSending,
} from '../src/delivery/endpoints/store.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { usingPostgres } from './helpers/db.ts';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

async function newTenant(name = 'Tenant'): Promise<{ tenantId: string; key: string }> {
  const tenant = await t.api('POST', '/api/v1/tenants', { name });
  expect(tenant.status).toBe(201);
  const key = await t.api('POST', '/api/v1/api-keys', { name: `${name} key`, tenant_id: tenant.body.id });
  expect(key.status).toBe(201);
  return { tenantId: tenant.body.id, key: key.body.key };
}

const base = { name: 'CRM sync', url: 'https://crm.example.com/hooks' };

async function rawRow(id: string): Promise<Record<string, unknown>> {
  const r = await t.db.database.pool.query('select * from endpoints where id = $1', [id]);
  return r.rows[0];
}

/** Every column of the row as text (bytea as hex and as utf8), to search for plaintext. */
function rowText(row: Record<string, unknown>): string {
  return Object.values(row)
    .map((v) =>
      Buffer.isBuffer(v)
        ? `${v.toString('hex')} ${v.toString('utf8')} ${v.toString('base64')}`
        : JSON.stringify(v),
    )
    .join('\n');
}

describe('create, list, get', () => {
  it('shows the whsec_ signing secret once, and never in list or get', async () => {
    const created = await t.api('POST', '/api/v1/endpoints', {
      ...base,
      method: 'PUT',
      events: ['order.created', 'flow.completed'],
      headers: { 'X-Team': 'ops' },
      rate_limit_per_s: 10,
      retry_schedule: [0, 5, 300],
      body: { type: 'template', template: '{"id": "${= data.id}"}' },
    });
    expect(created.status).toBe(201);
    expect(created.body.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(created.body.signing_secret.slice(6), 'base64')).toHaveLength(24);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^ep_/),
      name: 'CRM sync',
      url: 'https://crm.example.com/hooks',
      method: 'PUT',
      events: ['order.created', 'flow.completed'],
      auth: { type: 'none' },
      headers: { 'x-team': 'ops' },
      is_default: false,
      enabled: true,
      rate_limit_per_s: 10,
      retry_schedule: [0, 5, 300],
      body: { type: 'template', template: '{"id": "${= data.id}"}' },
    });
    const id = created.body.id;
    const secret = created.body.signing_secret;

    const one = await t.api('GET', `/api/v1/endpoints/${id}`);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(id);
    expect(one.body).not.toHaveProperty('signing_secret');
    expect(one.text).not.toContain(secret);
    expect(one.text).not.toContain('whsec_');

    const list = await t.api('GET', '/api/v1/endpoints');
    expect(list.status).toBe(200);
    expect(list.body.data.map((e: any) => e.id)).toContain(id);
    expect(list.text).not.toContain('whsec_');

    // The secret is sealed in the row, and the sending side gets it back.
    const row = await rawRow(id);
    expect(rowText(row)).not.toContain(secret);
    expect(rowText(row)).not.toContain(secret.slice(6));
    const sending = await loadEndpointForSending(t.db.database, t.secretKey, 'default', id);
    expect(sending?.secrets).toEqual([secret]);
  });

  it('defaults: POST, all events, no auth, envelope body, enabled', async () => {
    const created = await t.api('POST', '/api/v1/endpoints', base);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      method: 'POST',
      events: ['*'],
      auth: { type: 'none' },
      headers: {},
      is_default: false,
      enabled: true,
      rate_limit_per_s: null,
      retry_schedule: null,
      body: { type: 'envelope' },
    });
  });

  it('accepts private and loopback URLs at create time (the guard refuses them when sending)', async () => {
    const created = await t.api('POST', '/api/v1/endpoints', { ...base, url: 'http://127.0.0.1:9/x' });
    expect(created.status).toBe(201);
  });

  it('filters the list by event type and enabled', async () => {
    const a = await t.api('POST', '/api/v1/endpoints', { ...base, events: ['invoice.paid'] });
    const b = await t.api('POST', '/api/v1/endpoints', { ...base, events: ['invoice.void'], enabled: false });
    const paid = await t.api('GET', '/api/v1/endpoints?event_type=invoice.paid');
    const ids = paid.body.data.map((e: any) => e.id);
    expect(ids).toContain(a.body.id);
    expect(ids).not.toContain(b.body.id);
    // "*" endpoints receive every event type.
    expect(paid.body.data.some((e: any) => e.events.includes('*'))).toBe(true);
    const disabled = await t.api('GET', '/api/v1/endpoints?enabled=false');
    expect(disabled.body.data.map((e: any) => e.id)).toEqual([b.body.id]);
    const page = await t.api('GET', '/api/v1/endpoints?limit=1');
    expect(page.body.data).toHaveLength(1);
    expect(page.body.next_cursor).toBe(page.body.data[0].id);
  });
});

describe('auth secrets', () => {
  it('seals basic passwords: shown as has_password, absent from the row, used when sending', async () => {
    const created = await t.api('POST', '/api/v1/endpoints', {
      ...base,
      auth: { type: 'basic', username: 'crm-user', password: 'hunter2-very-secret' },
    });
    expect(created.status).toBe(201);
    expect(created.body.auth).toEqual({ type: 'basic', username: 'crm-user', has_password: true });
    expect(created.text).not.toContain('hunter2-very-secret');
    const got = await t.api('GET', `/api/v1/endpoints/${created.body.id}`);
    expect(got.body.auth).toEqual({ type: 'basic', username: 'crm-user', has_password: true });
    expect(got.text).not.toContain('hunter2');

    const row = await rawRow(created.body.id);
    expect(row.auth).toEqual({ type: 'basic', username: 'crm-user' });
    expect(rowText(row)).not.toContain('hunter2');
    expect(rowText(row)).not.toContain(Buffer.from('hunter2-very-secret').toString('base64'));

    const sending = await loadEndpointForSending(t.db.database, t.secretKey, 'default', created.body.id);
    expect(sending?.auth).toEqual({ type: 'basic', username: 'crm-user', password: 'hunter2-very-secret' });

    // A PATCH of the username alone keeps the stored password.
    const renamed = await t.api('PATCH', `/api/v1/endpoints/${created.body.id}`, {
      auth: { type: 'basic', username: 'other-user' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.auth).toEqual({ type: 'basic', username: 'other-user', has_password: true });
    const after = await loadEndpointForSending(t.db.database, t.secretKey, 'default', created.body.id);
    expect(after?.auth).toEqual({ type: 'basic', username: 'other-user', password: 'hunter2-very-secret' });
  });

  it('seals api_key values and bearer tokens', async () => {
    const apiKey = await t.api('POST', '/api/v1/endpoints', {
      ...base,
      auth: { type: 'api_key', header: 'X-Api-Key', value: 'key-value-123456' },
    });
    expect(apiKey.status).toBe(201);
    expect(apiKey.body.auth).toEqual({ type: 'api_key', header: 'X-Api-Key', has_value: true });
    expect(rowText(await rawRow(apiKey.body.id))).not.toContain('key-value-123456');

    const bearer = await t.api('POST', '/api/v1/endpoints', {
      ...base,
      auth: { type: 'bearer', token: 'tok-abcdef-987654' },
    });
    expect(bearer.status).toBe(201);
    expect(bearer.body.auth).toEqual({ type: 'bearer', has_token: true });
    expect(rowText(await rawRow(bearer.body.id))).not.toContain('tok-abcdef-987654');
    const list = await t.api('GET', '/api/v1/endpoints');
    expect(list.text).not.toContain('key-value-123456');
    expect(list.text).not.toContain('tok-abcdef-987654');
  });

  it('references a credential of the same type, resolved when sending', async () => {
    const cred = await t.api('POST', '/api/v1/credentials', {
      name: 'crm bearer',
      type: 'bearer',
      data: { token: 'from-credential-token' },
    });
    expect(cred.status).toBe(201);
    const created = await t.api('POST', '/api/v1/endpoints', {
      ...base,
      auth: { type: 'bearer', credential_id: cred.body.id },
    });
    expect(created.status).toBe(201);
    expect(created.body.auth).toEqual({ type: 'bearer', credential_id: cred.body.id });
    const sending = await loadEndpointForSending(t.db.database, t.secretKey, 'default', created.body.id);
    expect(sending?.auth).toEqual({ type: 'bearer', token: 'from-credential-token' });

    const wrongType = await t.api('POST', '/api/v1/endpoints', {
      ...base,
      auth: { type: 'basic', credential_id: cred.body.id },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errors[0].field).toBe('auth.credential_id');
    const missing = await t.api('POST', '/api/v1/endpoints', {
      ...base,
      auth: { type: 'bearer', credential_id: 'cred_nope' },
    });
    expect(missing.status).toBe(400);
  });
});

describe('default endpoint', () => {
  it('keeps at most one default per tenant: a new default clears the old one', async () => {
    const first = await t.api('POST', '/api/v1/endpoints', { ...base, name: 'first', is_default: true });
    expect(first.status).toBe(201);
    expect(first.body.is_default).toBe(true);
    const second = await t.api('POST', '/api/v1/endpoints', { ...base, name: 'second', is_default: true });
    expect(second.status).toBe(201);
    expect(second.body.is_default).toBe(true);
    expect((await t.api('GET', `/api/v1/endpoints/${first.body.id}`)).body.is_default).toBe(false);

    // Through PATCH too.
    const third = await t.api('POST', '/api/v1/endpoints', { ...base, name: 'third' });
    const patched = await t.api('PATCH', `/api/v1/endpoints/${third.body.id}`, { is_default: true });
    expect(patched.status).toBe(200);
    expect(patched.body.is_default).toBe(true);
    const defaults = await t.api('GET', '/api/v1/endpoints?is_default=true');
    expect(defaults.body.data.map((e: any) => e.id)).toEqual([third.body.id]);
    const count = await t.db.database.pool.query(
      `select count(*)::int as n from endpoints where tenant_id = 'default' and is_default`,
    );
    expect(count.rows[0].n).toBe(1);

    // Another tenant has its own default.
    const other = await newTenant('Default elsewhere');
    const theirs = await t.api('POST', '/api/v1/endpoints', { ...base, is_default: true }, other.key);
    expect(theirs.status).toBe(201);
    expect((await t.api('GET', `/api/v1/endpoints/${third.body.id}`)).body.is_default).toBe(true);
  });

  it('answers 409 when two requests make a default at the same moment and one loses', async () => {
    const { key } = await newTenant('Racing defaults');
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        t.api('POST', '/api/v1/endpoints', { ...base, name: `race ${i}`, is_default: true }, key),
      ),
    );
    for (const r of results) expect([201, 409]).toContain(r.status);
    for (const r of results.filter((x) => x.status === 409))
      expect(r.body.code).toBe('default_endpoint_conflict');
    const list = await t.api('GET', '/api/v1/endpoints?is_default=true', undefined, key);
    expect(list.body.data).toHaveLength(1);
  });

  // Needs two connections to really interleave transactions: PostgreSQL only.
  it.skipIf(!usingPostgres)(
    'turns a concurrent default (unique index) into DefaultEndpointConflict',
    async () => {
      const { tenantId } = await newTenant('Concurrent default');
      const other = await t.db.database.pool.connect();
      try {
        await other.query('begin');
        await other.query(
          `insert into endpoints (tenant_id, id, name, url, is_default, secret_enc)
         values ($1, 'ep_other_tx', 'other', 'https://x.example', true, '\\x00')`,
          [tenantId],
        );
        const losing = createEndpoint(t.db.database, t.secretKey, tenantId, {
          ...base,
          is_default: true,
        }).catch((e) => e);
        await new Promise((r) => setTimeout(r, 200)); // the insert now waits on the other transaction
        await other.query('commit');
        expect(await losing).toBeInstanceOf(DefaultEndpointConflict);
      } finally {
        other.release();
      }
    },
  );
});

describe('validation', () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ['missing url', { name: 'x' }, 'url'],
    ['ftp url', { ...base, url: 'ftp://example.com/x' }, 'url'],
    ['not a url', { ...base, url: 'not a url' }, 'url'],
    ['credentials in the url', { ...base, url: 'https://u:p@example.com/' }, 'url'],
    ['method GET', { ...base, method: 'GET' }, 'method'],
    ['events not an array', { ...base, events: 'order.created' }, 'events'],
    ['basic without password', { ...base, auth: { type: 'basic', username: 'u' } }, 'auth.password'],
    ['api_key without header', { ...base, auth: { type: 'api_key', value: 'v' } }, 'auth.header'],
    ['bearer without token', { ...base, auth: { type: 'bearer' } }, 'auth.token'],
    ['unknown auth type', { ...base, auth: { type: 'oauth' } }, 'auth.type'],
    [
      'secret and credential',
      { ...base, auth: { type: 'bearer', token: 't', credential_id: 'c' } },
      'auth.token',
    ],
    ['reserved header', { ...base, headers: { 'webhook-signature': 'x' } }, 'headers.webhook-signature'],
    ['header with newline', { ...base, headers: { 'x-a': 'a\r\nb: c' } }, 'headers.x-a'],
    ['rate limit 0', { ...base, rate_limit_per_s: 0 }, 'rate_limit_per_s'],
    ['negative retry', { ...base, retry_schedule: [5, -1] }, 'retry_schedule.1'],
    ['template body without template', { ...base, body: { type: 'template' } }, 'body.template'],
    ['unknown field', { ...base, colour: 'red' }, ''],
  ];
  for (const [what, body, field] of bad) {
    it(`refuses ${what} with 400 {msg, code, errors}`, async () => {
      const res = await t.api('POST', '/api/v1/endpoints', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ msg: expect.any(String), code: 'invalid_request' });
      expect(Array.isArray(res.body.errors)).toBe(true);
      if (field) expect(res.body.errors.map((e: any) => e.field)).toContain(field);
    });
  }

  it('refuses a bad PATCH the same way, and 400 for a bad list filter', async () => {
    const created = await t.api('POST', '/api/v1/endpoints', base);
    const res = await t.api('PATCH', `/api/v1/endpoints/${created.body.id}`, { url: 'gopher://x' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('url');
    // Switching to an inline auth of another type needs its secret.
    const noSecret = await t.api('PATCH', `/api/v1/endpoints/${created.body.id}`, {
      auth: { type: 'basic', username: 'u' },
    });
    expect(noSecret.status).toBe(400);
    expect(noSecret.body.errors[0].field).toBe('auth.password');
    expect((await t.api('GET', '/api/v1/endpoints?enabled=maybe')).status).toBe(400);
  });
});

describe('tenant isolation', () => {
  it("answers 404 for another tenant's endpoint on get, patch, rotate and delete", async () => {
    const mine = await t.api('POST', '/api/v1/endpoints', { ...base, name: 'mine' });
    const other = await newTenant('Other');
    const paths: [string, string, unknown?][] = [
      ['GET', `/api/v1/endpoints/${mine.body.id}`],
      ['PATCH', `/api/v1/endpoints/${mine.body.id}`, { name: 'stolen' }],
      ['POST', `/api/v1/endpoints/${mine.body.id}/rotate-secret`],
      ['DELETE', `/api/v1/endpoints/${mine.body.id}`],
    ];
    for (const [method, path, body] of paths) {
      const res = await t.api(method, path, body, other.key);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
    const theirList = await t.api('GET', '/api/v1/endpoints', undefined, other.key);
    expect(theirList.body.data.map((e: any) => e.id)).not.toContain(mine.body.id);
    const still = await t.api('GET', `/api/v1/endpoints/${mine.body.id}`);
    expect(still.body.name).toBe('mine');
  });
});

describe('update, rotate, delete', () => {
  it('patches only the given fields; enabling clears the disabled reason', async () => {
    const created = await t.api('POST', '/api/v1/endpoints', { ...base, headers: { 'x-a': '1' } });
    const id = created.body.id;
    await t.db.database.pool.query(
      `update endpoints set enabled = false, disabled_reason = 'gone' where id = $1`,
      [id],
    );
    const patched = await t.api('PATCH', `/api/v1/endpoints/${id}`, { name: 'renamed', enabled: true });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'renamed',
      url: base.url,
      headers: { 'x-a': '1' },
      enabled: true,
      disabled_reason: null,
    });
    expect(patched.body).not.toHaveProperty('signing_secret');
  });

  it('rotates the secret: the new one shown once, the old one still signs until it expires', async () => {
    const created = await t.api('POST', '/api/v1/endpoints', base);
    const old = created.body.signing_secret;
    const rotated = await t.api('POST', `/api/v1/endpoints/${created.body.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.signing_secret).toMatch(/^whsec_/);
    expect(rotated.body.signing_secret).not.toBe(old);
    const sending = await loadEndpointForSending(t.db.database, t.secretKey, 'default', created.body.id);
    expect(sending?.secrets).toEqual([rotated.body.signing_secret, old]);
    const later = await loadEndpointForSending(
      t.db.database,
      t.secretKey,
      'default',
      created.body.id,
      Date.now() + 25 * 3600 * 1000,
    );
    expect(later?.secrets).toEqual([rotated.body.signing_secret]);
    expect(rowText(await rawRow(created.body.id))).not.toContain(old.slice(6));
  });

  it("dates the old secret's expiry from the app's clock", async () => {
    const at = Date.parse('2027-03-01T12:00:00Z');
    const clocked = await startTestApp({ now: () => at });
    try {
      const created = await clocked.api('POST', '/api/v1/endpoints', base);
      const rotated = await clocked.api('POST', `/api/v1/endpoints/${created.body.id}/rotate-secret`);
      expect(rotated.status).toBe(200);
      expect(rotated.body.previous_secret_expires_at).toBe('2027-03-02T12:00:00.000Z');
    } finally {
      await clocked.close();
    }
  });

  it('deletes with 204, then 404', async () => {
    const created = await t.api('POST', '/api/v1/endpoints', base);
    const del = await t.api('DELETE', `/api/v1/endpoints/${created.body.id}`);
    expect(del.status).toBe(204);
    expect((await t.api('GET', `/api/v1/endpoints/${created.body.id}`)).status).toBe(404);
    expect((await t.api('DELETE', `/api/v1/endpoints/${created.body.id}`)).status).toBe(404);
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = await t.api('GET', '/api/openapi.json');
    expect(doc.body.paths['/api/v1/endpoints'].post).toBeDefined();
    expect(doc.body.paths['/api/v1/endpoints/{id}'].patch).toBeDefined();
  });
});
