/**
 * The management API over real HTTP and a real database (docs/api.md §2, §3, §6, §7): authentication,
 * tenants and keys, tenant isolation, flow CRUD and validation, runs, settings, OpenAPI, health.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, startTestApp, type TestApp, webhookFlow } from './helpers/app.ts';

const PUBLIC_URL = 'https://hooks.example.test';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: { PUBLIC_URL } });
});
afterAll(async () => {
  await t?.close();
});

/** A fresh tenant and a (non-admin) key of it, made through the admin API. */
async function newTenant(name = 'Tenant'): Promise<{ tenantId: string; key: string; keyId: string }> {
  const tenant = await t.api('POST', '/api/v1/tenants', { name });
  expect(tenant.status).toBe(201);
  const key = await t.api('POST', '/api/v1/api-keys', { name: `${name} key`, tenant_id: tenant.body.id });
  expect(key.status).toBe(201);
  return { tenantId: tenant.body.id, key: key.body.key, keyId: key.body.id };
}

/** The URL of a hook on the test server (flow views carry PUBLIC_URL, which is not this server). */
function localHookUrl(publicHookUrl: string): string {
  expect(publicHookUrl.startsWith(PUBLIC_URL)).toBe(true);
  return t.url + publicHookUrl.slice(PUBLIC_URL.length);
}

async function postHook(publicHookUrl: string, body: unknown = {}): Promise<Response> {
  return fetch(localHookUrl(publicHookUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function rawRequest(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; text: string; body: any; contentType: string | null }> {
  const res = await fetch(t.url + path, init);
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, text, body, contentType: res.headers.get('content-type') };
}

function expectErrorBody(res: { status: number; body: any; text: string }, status: number, code?: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual(expect.objectContaining({ msg: expect.any(String), code: expect.any(String) }));
  expect(res.body.msg.length).toBeGreaterThan(0);
  if (code) expect(res.body.code).toBe(code);
  expectNoInternals(res.text);
}

function expectNoInternals(text: string) {
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toMatch(/node_modules|\.ts:\d+|stack/i);
}

/** A flow with two webhook nodes and a set node between the first and a respond node. */
function twoHookFlow(name = 'Orders from shop') {
  return {
    name,
    enabled: true,
    nodes: [
      { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
      {
        id: 'set_1',
        type: 'set',
        position: { x: 200, y: 0 },
        config: { values: { 'flow.key.order': '${Webhook::Body.order.id}' } },
      },
      {
        id: 'respond_1',
        type: 'respond',
        position: { x: 400, y: 0 },
        config: { status: 200, body: '{"ok":true}' },
      },
      { id: 'webhook_2', type: 'webhook', position: { x: 0, y: 200 }, config: { methods: ['PUT'] } },
    ],
    edges: [
      { from: 'webhook_1', to: 'set_1' },
      { from: 'set_1', to: 'respond_1' },
      { from: 'webhook_2', to: 'set_1' },
    ],
    settings: { send_to_default_webhook: false, notify: { on_failure: ['ops@example.com'], on_success: [] } },
  };
}

describe('authentication of the management API', () => {
  it('answers 401 JSON {msg, code} without an Authorization header', async () => {
    const res = await t.api('GET', '/api/v1/flows', undefined, '');
    expectErrorBody(res, 401, 'unauthorized');
    expect(res.headers['content-type']).toMatch(/application\/json/);
  });

  it.each([
    ['a Basic scheme', 'Basic dXNlcjpwYXNz'],
    ['an empty Bearer', 'Bearer '],
    ['two tokens', 'Bearer one two'],
    ['no scheme', 'hf_just_the_key'],
  ])('answers 401 JSON for a malformed Authorization header (%s)', async (_label, header) => {
    const res = await rawRequest('/api/v1/flows', { headers: { authorization: header } });
    expectErrorBody(res, 401, 'unauthorized');
  });

  it('answers 401 JSON for a well-formed but unknown key', async () => {
    const res = await t.api('GET', '/api/v1/flows', undefined, `hf_${'x'.repeat(43)}`);
    expectErrorBody(res, 401, 'unauthorized');
  });

  it('stops accepting a key once it is revoked, and a key cannot revoke itself', async () => {
    const { key, keyId } = await newTenant('Revoking');
    const other = await t.api('POST', '/api/v1/api-keys', { name: 'second' }, key);
    expect(other.status).toBe(201);
    expect((await t.api('GET', '/api/v1/flows', undefined, other.body.key)).status).toBe(200);

    const self = await t.api('DELETE', `/api/v1/api-keys/${keyId}`, undefined, key);
    expectErrorBody(self, 409, 'cannot_revoke_self');

    const revoke = await t.api('DELETE', `/api/v1/api-keys/${other.body.id}`, undefined, key);
    expect(revoke.status).toBe(204);
    const after = await t.api('GET', '/api/v1/flows', undefined, other.body.key);
    expectErrorBody(after, 401, 'unauthorized');
    const listed = await t.api('GET', '/api/v1/api-keys', undefined, key);
    expect(listed.body.data.find((k: any) => k.id === other.body.id).revoked_at).toBeTruthy();
    // Revoking twice: the key is already gone.
    expect((await t.api('DELETE', `/api/v1/api-keys/${other.body.id}`, undefined, key)).status).toBe(404);
  });

  it('answers 404 JSON for an unknown route, authenticated or not', async () => {
    const a = await t.api('GET', '/api/v1/no-such-thing');
    expectErrorBody(a, 404, 'route_not_found');
    const b = await rawRequest('/api/nowhere/at/all');
    expectErrorBody(b, 404, 'route_not_found');
    // GET of other paths opens the admin UI (test/ui-serving.test.ts); other methods are not found.
    const c = await rawRequest('/nowhere/at/all', { method: 'POST' });
    expectErrorBody(c, 404, 'route_not_found');
  });

  it('answers 400 JSON {msg, code} for a malformed JSON body, without a stack trace', async () => {
    const res = await t.api('POST', '/api/v1/flows', '{"name": "broken", "nodes": [');
    expectErrorBody(res, 400, 'invalid_json');
  });

  it('answers 400 JSON, never 500, to text the database cannot store (a NUL character)', async () => {
    const nulFlow = webhookFlow({}, { name: 'a\u0000b' });
    expectErrorBody(await t.api('POST', '/api/v1/flows', nulFlow), 400);
    const nulInConfig = {
      ...webhookFlow(),
      nodes: [
        ...webhookFlow().nodes,
        { id: 'set_1', type: 'set', config: { values: { 'vars.x': 'a\u0000b' } } },
      ],
    };
    expectErrorBody(await t.api('POST', '/api/v1/flows', nulInConfig), 400);
    expectErrorBody(await t.api('POST', '/api/v1/tenants', { name: 'a\u0000b' }), 400);
    expectErrorBody(await t.api('POST', '/api/v1/api-keys', { name: 'a\u0000b' }), 400);
    expectErrorBody(
      await t.api('POST', '/api/v1/credentials', {
        name: 'a\u0000',
        type: 'basic',
        data: { username: 'u', password: 'p' },
      }),
      400,
    );
    for (const path of [
      '/api/v1/flows?search=%00',
      '/api/v1/runs?flow_id=%00',
      '/api/v1/runs/run_%00',
      '/api/v1/flows/flw_%00',
      '/api/v1/credentials/cred_%00',
    ]) {
      const res = await t.api('GET', path);
      expect([400, 404], path).toContain(res.status);
      expectErrorBody(res, res.status);
    }
  });

  it('answers 400 JSON for a body that is JSON but not an object of the right shape', async () => {
    const res = await t.api('POST', '/api/v1/tenants', { name: '' });
    expectErrorBody(res, 400, 'invalid_request');
    const extra = await t.api('POST', '/api/v1/tenants', { name: 'x', colour: 'red' });
    expectErrorBody(extra, 400, 'invalid_request');
  });
});

describe('tenants and API keys', () => {
  it('lets the admin create a tenant and a key for it, shown once and stored only as a hash', async () => {
    const tenant = await t.api('POST', '/api/v1/tenants', { name: 'Acme' });
    expect(tenant.status).toBe(201);
    expect(tenant.body).toMatchObject({ id: expect.any(String), name: 'Acme' });

    const created = await t.api('POST', '/api/v1/api-keys', { name: 'acme ci', tenant_id: tenant.body.id });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^hf_[A-Za-z0-9_-]{20,}$/);
    expect(created.body).toMatchObject({ name: 'acme ci', tenant_id: tenant.body.id, is_admin: false });

    // The new key works and belongs to the new tenant.
    const keys = await t.api('GET', '/api/v1/api-keys', undefined, key);
    expect(keys.status).toBe(200);
    expect(keys.body.data).toHaveLength(1);
    expect(keys.body.data[0]).toMatchObject({
      id: created.body.id,
      name: 'acme ci',
      tenant_id: tenant.body.id,
    });
    expect(keys.body.data[0]).not.toHaveProperty('key');
    expect(keys.body.data[0]).not.toHaveProperty('key_hash');
    expect(keys.text).not.toContain(key);

    // The admin's own list (default tenant) shows neither this key nor any secret.
    const adminList = await t.api('GET', '/api/v1/api-keys');
    expect(adminList.body.data.map((k: any) => k.id)).not.toContain(created.body.id);
    expect(adminList.text).not.toContain(t.adminKey);

    // The row holds a hash of the key, never the key.
    const row = await t.db.database.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(Buffer.from(row.key_hash as Uint8Array).equals(createHash('sha256').update(key).digest())).toBe(
      true,
    );
    for (const value of Object.values(row)) {
      const text =
        Buffer.isBuffer(value) || value instanceof Uint8Array
          ? Buffer.from(value).toString('latin1')
          : String(value);
      expect(text).not.toContain(key);
      expect(text).not.toContain(key.slice(3));
    }
  });

  it('lets the admin list tenants', async () => {
    const { tenantId } = await newTenant('Listed');
    const res = await t.api('GET', '/api/v1/tenants');
    expect(res.status).toBe(200);
    const ids = res.body.data.map((x: any) => x.id);
    expect(ids).toContain('default');
    expect(ids).toContain(tenantId);
  });

  it('forbids a non-admin key to create or list tenants (403)', async () => {
    const { key } = await newTenant('Plain');
    expectErrorBody(await t.api('POST', '/api/v1/tenants', { name: 'Sneaky' }, key), 403, 'forbidden');
    expectErrorBody(await t.api('GET', '/api/v1/tenants', undefined, key), 403, 'forbidden');
  });

  it('forbids a non-admin key to create keys for another tenant or admin keys, but allows its own', async () => {
    const a = await newTenant('Keys A');
    const b = await newTenant('Keys B');
    expectErrorBody(
      await t.api('POST', '/api/v1/api-keys', { name: 'x', tenant_id: b.tenantId }, a.key),
      403,
    );
    expectErrorBody(await t.api('POST', '/api/v1/api-keys', { name: 'x', tenant_id: 'default' }, a.key), 403);
    expectErrorBody(await t.api('POST', '/api/v1/api-keys', { name: 'x', is_admin: true }, a.key), 403);
    const own = await t.api('POST', '/api/v1/api-keys', { name: 'own' }, a.key);
    expect(own.status).toBe(201);
    expect(own.body.tenant_id).toBe(a.tenantId);
    // B's keys are untouched.
    const bKeys = await t.api('GET', '/api/v1/api-keys', undefined, b.key);
    expect(bKeys.body.data).toHaveLength(1);
  });

  it('answers 404 when the admin names a tenant that does not exist', async () => {
    expectErrorBody(await t.api('POST', '/api/v1/api-keys', { name: 'x', tenant_id: 'ten_nope' }), 404);
  });
});

describe('tenant isolation of the management API', () => {
  let a: Awaited<ReturnType<typeof newTenant>>;
  let b: Awaited<ReturnType<typeof newTenant>>;
  let flowA: any;
  let runA: string;
  let credA: any;

  beforeAll(async () => {
    a = await newTenant('Isolated A');
    b = await newTenant('Isolated B');
    const flow = await t.api('POST', '/api/v1/flows', webhookFlow({}, { name: 'A secret flow' }), a.key);
    expect(flow.status).toBe(201);
    flowA = flow.body;
    const hook = await postHook(flowA.webhooks[0].url, { hello: 'a' });
    expect(hook.status).toBe(200);
    runA = (await hook.json()).run_id;
    const cred = await t.api(
      'POST',
      '/api/v1/credentials',
      { name: 'A basic', type: 'basic', data: { username: 'u', password: 'secret-password' } },
      a.key,
    );
    expect(cred.status).toBe(201);
    credA = cred.body;
    const sample = await t.api(
      'POST',
      `/api/v1/flows/${flowA.id}/nodes/webhook_1/sample`,
      { json: { order: { id: 'A1' } } },
      a.key,
    );
    expect(sample.status).toBe(200);
  });

  it("answers 404 to another tenant's GET, PUT, PATCH and DELETE of a flow, and changes nothing", async () => {
    const path = `/api/v1/flows/${flowA.id}`;
    expectErrorBody(await t.api('GET', path, undefined, b.key), 404, 'not_found');
    expectErrorBody(await t.api('PUT', path, webhookFlow({}, { name: 'hijacked' }), b.key), 404, 'not_found');
    expectErrorBody(
      await t.api('PATCH', path, { enabled: false, name: 'hijacked' }, b.key),
      404,
      'not_found',
    );
    expectErrorBody(await t.api('DELETE', path, undefined, b.key), 404, 'not_found');

    const still = await t.api('GET', path, undefined, a.key);
    expect(still.status).toBe(200);
    expect(still.body).toMatchObject({ name: 'A secret flow', enabled: true, version: flowA.version });
  });

  it("answers 404 to another tenant's run, credential and sample", async () => {
    expectErrorBody(await t.api('GET', `/api/v1/runs/${runA}`, undefined, b.key), 404, 'not_found');
    expect((await t.api('GET', `/api/v1/runs/${runA}`, undefined, a.key)).status).toBe(200);

    const cred = `/api/v1/credentials/${credA.id}`;
    expectErrorBody(await t.api('GET', cred, undefined, b.key), 404);
    expectErrorBody(await t.api('PATCH', cred, { name: 'mine now' }, b.key), 404);
    expectErrorBody(await t.api('DELETE', cred, undefined, b.key), 404);
    expect((await t.api('GET', cred, undefined, a.key)).body).toMatchObject({
      name: 'A basic',
      type: 'basic',
    });

    const nodes = `/api/v1/flows/${flowA.id}/nodes/webhook_1`;
    expectErrorBody(await t.api('GET', `${nodes}/sample`, undefined, b.key), 404);
    expectErrorBody(await t.api('POST', `${nodes}/sample`, { json: { x: 1 } }, b.key), 404);
    expectErrorBody(await t.api('POST', `${nodes}/listen`, undefined, b.key), 404);
    const sample = await t.api('GET', `${nodes}/sample`, undefined, a.key);
    expect(sample.body.request.body).toEqual({ order: { id: 'A1' } });
  });

  it("lists only the own tenant's flows, runs, credentials and keys", async () => {
    const flowB = await t.api('POST', '/api/v1/flows', webhookFlow({}, { name: 'B flow' }), b.key);
    expect(flowB.status).toBe(201);
    const hook = await postHook(flowB.body.webhooks[0].url, { hello: 'b' });
    expect(hook.status).toBe(200);
    const runB = (await hook.json()).run_id;

    const flows = await t.api('GET', '/api/v1/flows', undefined, b.key);
    expect(flows.body.data.map((f: any) => f.id)).toEqual([flowB.body.id]);
    const found = await t.api(
      'GET',
      `/api/v1/flows?search=${encodeURIComponent(flowA.id)}`,
      undefined,
      b.key,
    );
    expect(found.body.data).toEqual([]);

    const runs = await t.api('GET', '/api/v1/runs', undefined, b.key);
    expect(runs.body.data.map((r: any) => r.id)).toEqual([runB]);
    const runsOfA = await t.api('GET', `/api/v1/runs?flow_id=${flowA.id}`, undefined, b.key);
    expect(runsOfA.body.data).toEqual([]);

    expect((await t.api('GET', '/api/v1/credentials', undefined, b.key)).body.data).toEqual([]);
    const keys = await t.api('GET', '/api/v1/api-keys', undefined, b.key);
    expect(keys.body.data.map((k: any) => k.id)).toEqual([b.keyId]);
    expectErrorBody(await t.api('DELETE', `/api/v1/api-keys/${a.keyId}`, undefined, b.key), 404);
    expect((await t.api('GET', '/api/v1/flows', undefined, a.key)).status).toBe(200);
  });

  it("does not reach a tenant's flow through a hook URL naming another tenant", async () => {
    const swapped = flowA.webhooks[0].url.replace(`/hooks/${a.tenantId}/`, `/hooks/${b.tenantId}/`);
    expect(swapped).not.toBe(flowA.webhooks[0].url);
    const res = await postHook(swapped, { hello: 'swapped' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ msg: 'Webhook not found' });
  });

  it("does not let a flow name another tenant's credential", async () => {
    const res = await t.api(
      'POST',
      '/api/v1/flows',
      webhookFlow({ auth: { type: 'basic', credential_id: credA.id } }),
      b.key,
    );
    expectErrorBody(res, 400, 'invalid_flow');
    expect(res.body.errors).toContainEqual(
      expect.objectContaining({ node: 'webhook_1', field: 'config.auth.credential_id' }),
    );
  });
});

describe('flows CRUD', () => {
  it('creates a flow (201) with the public URL of each webhook node', async () => {
    const res = await t.api('POST', '/api/v1/flows', twoHookFlow());
    expect(res.status).toBe(201);
    const flow = res.body;
    expect(flow.id).toMatch(/^flw_/);
    expect(flow.tenant_id).toBe('default');
    const base = `${PUBLIC_URL}/hooks/default/${flow.id}`;
    const node = (id: string) => flow.nodes.find((n: any) => n.id === id);
    expect(node('webhook_1').url).toBe(base);
    expect(node('webhook_2').url).toBe(`${base}/webhook_2`);
    expect(node('set_1')).not.toHaveProperty('url');
    expect(flow.webhooks).toEqual([
      { node_id: 'webhook_1', url: base },
      { node_id: 'webhook_2', url: `${base}/webhook_2` },
    ]);
    expect(flow).toMatchObject({ name: 'Orders from shop', enabled: true, version: expect.any(Number) });
    expect(flow.settings.notify.on_failure).toEqual(['ops@example.com']);

    // Both URLs really reach their nodes.
    const first = await postHook(base, { order: { id: 'X' } });
    expect(first.status).toBe(200);
    const second = await fetch(localHookUrl(`${base}/webhook_2`), {
      method: 'PUT',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(second.status).toBe(200);
    const run = await t.api('GET', `/api/v1/runs/${(await second.json()).run_id}`);
    expect(run.body.trigger_node_id).toBe('webhook_2');
  });

  it('gets a flow, and a GET body can be PUT back unchanged', async () => {
    const created = (await t.api('POST', '/api/v1/flows', twoHookFlow('Round trip'))).body;
    const got = await t.api('GET', `/api/v1/flows/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created);

    const put = await t.api('PUT', `/api/v1/flows/${created.id}`, got.body);
    expect(put.status).toBe(200);
    expect(put.body.version).toBe(created.version + 1);
    const { version: _v1, updated_at: _u1, ...before } = created;
    const { version: _v2, updated_at: _u2, ...after } = put.body;
    expect(after).toEqual(before);
  });

  it('replaces a flow with PUT', async () => {
    const created = (await t.api('POST', '/api/v1/flows', twoHookFlow('To replace'))).body;
    const put = await t.api(
      'PUT',
      `/api/v1/flows/${created.id}`,
      webhookFlow({ methods: ['POST', 'PUT'] }, { name: 'Replaced' }),
    );
    expect(put.status).toBe(200);
    expect(put.body.name).toBe('Replaced');
    expect(put.body.nodes.map((n: any) => n.id)).toEqual(['webhook_1']);
    expect(put.body.nodes[0].config.methods).toEqual(['POST', 'PUT']);
    expect(put.body.edges).toEqual([]);
    expect((await t.api('GET', `/api/v1/flows/${created.id}`)).body.name).toBe('Replaced');
  });

  it('PATCH {enabled:false} disables only that, and the hook stops creating runs', async () => {
    const created = (await t.api('POST', '/api/v1/flows', twoHookFlow('To disable'))).body;
    const patched = await t.api('PATCH', `/api/v1/flows/${created.id}`, { enabled: false });
    expect(patched.status).toBe(200);
    expect(patched.body.enabled).toBe(false);
    expect(patched.body.name).toBe('To disable');
    expect(patched.body.nodes).toEqual(created.nodes);
    expect(patched.body.edges).toEqual(created.edges);
    expect(patched.body.settings).toEqual(created.settings);
    expect((await t.api('GET', `/api/v1/flows/${created.id}`)).body.enabled).toBe(false);

    const hook = await postHook(created.webhooks[0].url, {});
    expect([404, 409]).toContain(hook.status);
    const runs = await t.api('GET', `/api/v1/runs?flow_id=${created.id}`);
    expect(runs.body.data).toEqual([]);

    const bad = await t.api('PATCH', `/api/v1/flows/${created.id}`, { enabled: 'no' });
    expectErrorBody(bad, 400, 'invalid_flow');
  });

  it('DELETE answers 204, then the flow is 404 everywhere', async () => {
    const created = (await t.api('POST', '/api/v1/flows', twoHookFlow('To delete'))).body;
    const del = await t.api('DELETE', `/api/v1/flows/${created.id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expectErrorBody(await t.api('GET', `/api/v1/flows/${created.id}`), 404, 'not_found');
    expectErrorBody(await t.api('DELETE', `/api/v1/flows/${created.id}`), 404, 'not_found');
    expectErrorBody(await t.api('PUT', `/api/v1/flows/${created.id}`, twoHookFlow()), 404, 'not_found');
    const hook = await postHook(created.webhooks[0].url, {});
    expect(hook.status).toBe(404);
    expect(await hook.json()).toMatchObject({ msg: 'Webhook not found' });
  });

  describe('search', () => {
    let key: string;
    let flows: Record<string, any>;
    beforeAll(async () => {
      ({ key } = await newTenant('Searching'));
      flows = {};
      for (const name of ['Orders from shop', 'Refunds', 'Shop sync', 'Newsletter', '100% of_it']) {
        const r = await t.api('POST', '/api/v1/flows', twoHookFlow(name), key);
        expect(r.status).toBe(201);
        flows[name] = r.body;
      }
    });
    const search = async (q: string) => {
      const r = await t.api('GET', `/api/v1/flows?search=${encodeURIComponent(q)}`, undefined, key);
      expect(r.status).toBe(200);
      return (r.body.data as any[]).map((f) => f.name).sort();
    };

    it('matches a case-insensitive substring of the name', async () => {
      expect(await search('shop')).toEqual(['Orders from shop', 'Shop sync']);
      expect(await search('FUND')).toEqual(['Refunds']);
      expect(await search('nothing like it')).toEqual([]);
    });

    it('treats % and _ in the search as literal characters', async () => {
      // As wildcards, these would match "Refunds" and "Orders from shop".
      expect(await search('f%u')).toEqual([]);
      expect(await search('o_d')).toEqual([]);
      expect(await search('0% of_')).toEqual(['100% of_it']);
    });

    it('matches the flow id', async () => {
      expect(await search(flows.Refunds.id)).toEqual(['Refunds']);
    });

    it('matches a pasted full hook URL, also of a second webhook node or with a query string', async () => {
      expect(await search(flows.Newsletter.webhooks[0].url)).toEqual(['Newsletter']);
      expect(await search(flows['Shop sync'].webhooks[1].url)).toEqual(['Shop sync']);
      expect(await search(`${flows.Refunds.webhooks[0].url}?x=1`)).toEqual(['Refunds']);
      expect(await search(`  ${localHookUrl(flows.Refunds.webhooks[0].url)}  `)).toEqual(['Refunds']);
    });
  });

  it('pages through flows with a cursor: limit=2 over 5 flows gives every flow exactly once', async () => {
    const { key } = await newTenant('Paging');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await t.api('POST', '/api/v1/flows', webhookFlow({}, { name: `Flow ${i}` }), key);
      ids.push(r.body.id);
    }
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const qs: string = cursor ? `limit=2&cursor=${encodeURIComponent(cursor)}` : 'limit=2';
      const r: ApiResponse = await t.api('GET', `/api/v1/flows?${qs}`, undefined, key);
      expect(r.status).toBe(200);
      pageSizes.push(r.body.data.length);
      seen.push(...r.body.data.map((f: any) => f.id));
      cursor = r.body.next_cursor;
      if (!cursor) break;
    }
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(ids));
    // Newest first.
    expect(seen).toEqual([...ids].reverse());
  });

  it('rejects a bad limit with 400', async () => {
    expectErrorBody(await t.api('GET', '/api/v1/flows?limit=0'), 400, 'invalid_request');
    expectErrorBody(await t.api('GET', '/api/v1/flows?limit=abc'), 400, 'invalid_request');
  });
});

describe('flow validation on save', () => {
  async function expectInvalid(doc: unknown, match: { node?: string; field: string | RegExp; msg?: RegExp }) {
    const res = await t.api('POST', '/api/v1/flows', doc);
    expectErrorBody(res, 400, 'invalid_flow');
    expect(Array.isArray(res.body.errors)).toBe(true);
    const hit = (res.body.errors as any[]).find(
      (e) =>
        (match.node === undefined || e.node === match.node) &&
        (typeof match.field === 'string' ? e.field === match.field : match.field.test(e.field)) &&
        (match.msg === undefined || match.msg.test(e.msg)),
    );
    expect(hit, JSON.stringify(res.body.errors)).toBeTruthy();
    // The headline names the first problem.
    expect(res.body.msg).toContain(res.body.errors[0].field);
    return res.body;
  }

  const hook = { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } };

  it('names the node and field of an unknown node type', async () => {
    await expectInvalid(
      { name: 'x', nodes: [hook, { id: 'magic_1', type: 'teleport', config: {} }], edges: [] },
      { node: 'magic_1', field: 'type', msg: /teleport/ },
    );
  });

  it('names a duplicate node id', async () => {
    await expectInvalid(
      {
        name: 'x',
        nodes: [
          hook,
          { id: 'set_1', type: 'set', config: { values: {} } },
          { id: 'set_1', type: 'set', config: { values: {} } },
        ],
        edges: [],
      },
      { node: 'set_1', field: 'id', msg: /duplicate/ },
    );
  });

  it('names a dangling edge and the node it points to', async () => {
    await expectInvalid(
      { name: 'x', nodes: [hook], edges: [{ from: 'webhook_1', to: 'ghost_1' }] },
      { field: 'edges[0].to', msg: /ghost_1/ },
    );
  });

  it('names config.values of a set node holding a template with bad syntax', async () => {
    const body = await expectInvalid(
      {
        name: 'x',
        nodes: [
          hook,
          { id: 'set_1', type: 'set', config: { values: { 'flow.key.order': '${Webhook::Body.order.id' } } },
        ],
        edges: [{ from: 'webhook_1', to: 'set_1' }],
      },
      { node: 'set_1', field: /^config\.values/ },
    );
    expect(body.msg).toContain('set_1');
  });

  it('names an edge out of an "if" node without "when"', async () => {
    await expectInvalid(
      {
        name: 'x',
        nodes: [
          hook,
          { id: 'if_1', type: 'if', config: { condition: '${Webhook::Body.ok}' } },
          { id: 'set_1', type: 'set', config: { values: {} } },
        ],
        edges: [
          { from: 'webhook_1', to: 'if_1' },
          { from: 'if_1', to: 'set_1' },
        ],
      },
      { node: 'if_1', field: 'edges[1].when' },
    );
  });

  it('names a cycle', async () => {
    await expectInvalid(
      {
        name: 'x',
        nodes: [
          hook,
          { id: 'set_1', type: 'set', config: { values: {} } },
          { id: 'set_2', type: 'set', config: { values: {} } },
        ],
        edges: [
          { from: 'webhook_1', to: 'set_1' },
          { from: 'set_1', to: 'set_2' },
          { from: 'set_2', to: 'set_1' },
        ],
      },
      { field: 'edges', msg: /cycle.*set_1.*set_2|cycle.*set_2.*set_1/ },
    );
  });

  it('names an invalid e-mail address in settings.notify', async () => {
    await expectInvalid(
      { ...webhookFlow(), settings: { notify: { on_failure: ['not an email'] } } },
      { field: /^settings\.notify\.on_failure/ },
    );
  });

  it('names an invalid webhook config field', async () => {
    await expectInvalid(webhookFlow({ methods: ['FETCH'] }), {
      node: 'webhook_1',
      field: /^config\.methods/,
    });
    await expectInvalid(webhookFlow({ auth: { type: 'basic' } }), {
      node: 'webhook_1',
      field: /^config\.auth/,
    });
  });

  it('rejects an invalid document on PUT too, leaving the flow as it was', async () => {
    const created = (await t.api('POST', '/api/v1/flows', twoHookFlow('Kept'))).body;
    const res = await t.api('PUT', `/api/v1/flows/${created.id}`, {
      ...twoHookFlow('Broken'),
      edges: [{ from: 'set_1', to: 'nowhere_1' }],
    });
    expectErrorBody(res, 400, 'invalid_flow');
    const got = await t.api('GET', `/api/v1/flows/${created.id}`);
    expect(got.body).toEqual(created);
  });
});

describe('runs', () => {
  let key: string;
  let flowA: any;
  let flowB: any;
  let runsA: string[];
  let runsB: string[];

  beforeAll(async () => {
    ({ key } = await newTenant('Runs'));
    flowA = (await t.api('POST', '/api/v1/flows', webhookFlow({}, { name: 'Runs A' }), key)).body;
    flowB = (await t.api('POST', '/api/v1/flows', webhookFlow({}, { name: 'Runs B' }), key)).body;
    runsA = [];
    runsB = [];
    for (let i = 0; i < 3; i++) {
      const r = await postHook(flowA.webhooks[0].url, { n: i });
      expect(r.status).toBe(200);
      runsA.push((await r.json()).run_id);
    }
    for (let i = 0; i < 2; i++) {
      const r = await postHook(flowB.webhooks[0].url, { n: i });
      expect(r.status).toBe(200);
      runsB.push((await r.json()).run_id);
    }
  });

  it('lists runs newest first and filters by flow_id', async () => {
    const all = await t.api('GET', '/api/v1/runs', undefined, key);
    expect(all.status).toBe(200);
    expect(all.body.data.map((r: any) => r.id)).toEqual([...runsA, ...runsB].reverse());
    expect(all.body.data[0]).toMatchObject({
      flow_id: flowB.id,
      method: 'POST',
      trigger_node_id: 'webhook_1',
    });

    const a = await t.api('GET', `/api/v1/runs?flow_id=${flowA.id}`, undefined, key);
    expect(a.body.data.map((r: any) => r.id)).toEqual([...runsA].reverse());
    expect(a.body.data.every((r: any) => r.flow_id === flowA.id)).toBe(true);
  });

  it('filters by status', async () => {
    const union: string[] = [];
    for (const status of ['queued', 'running', 'succeeded', 'failed', 'cancelled']) {
      const r = await t.api('GET', `/api/v1/runs?status=${status}&limit=500`, undefined, key);
      expect(r.status).toBe(200);
      expect(r.body.data.every((x: any) => x.status === status)).toBe(true);
      union.push(...r.body.data.map((x: any) => x.id));
    }
    expect(union.sort()).toEqual([...runsA, ...runsB].sort());
    expect((await t.api('GET', '/api/v1/runs?status=cancelled', undefined, key)).body.data).toEqual([]);
    expectErrorBody(await t.api('GET', '/api/v1/runs?status=bogus', undefined, key), 400, 'invalid_request');
  });

  it('pages with a cursor, every run exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const qs: string = cursor ? `limit=2&cursor=${encodeURIComponent(cursor)}` : 'limit=2';
      const r: ApiResponse = await t.api('GET', `/api/v1/runs?${qs}`, undefined, key);
      expect(r.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.data.map((x: any) => x.id));
      cursor = r.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([...runsA, ...runsB].reverse());
  });

  it('combines flow_id and cursor', async () => {
    const first = await t.api('GET', `/api/v1/runs?flow_id=${flowA.id}&limit=2`, undefined, key);
    expect(first.body.data).toHaveLength(2);
    const second = await t.api(
      'GET',
      `/api/v1/runs?flow_id=${flowA.id}&limit=2&cursor=${first.body.next_cursor}`,
      undefined,
      key,
    );
    expect(second.body.data.map((r: any) => r.id)).toEqual([runsA[0]]);
    expect(second.body.next_cursor).toBeNull();
  });

  it('shows one run with its trigger, and 404 for an unknown id', async () => {
    const run = await t.api('GET', `/api/v1/runs/${runsA[1]}`, undefined, key);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      id: runsA[1],
      flow_id: flowA.id,
      trigger: { method: 'POST', body: { n: 1 } },
    });
    expectErrorBody(
      await t.api('GET', '/api/v1/runs/run_00000000000000000000000000', undefined, key),
      404,
      'not_found',
    );
    expectErrorBody(await t.api('GET', '/api/v1/runs/nonsense', undefined, key), 404, 'not_found');
  });
});

describe('settings', () => {
  it('has defaults, and PUT replaces them with validated CIDRs', async () => {
    const { key } = await newTenant('Settings');
    const initial = await t.api('GET', '/api/v1/settings', undefined, key);
    expect(initial.status).toBe(200);
    expect(initial.body).toEqual({
      ip_allowlist: [],
      retention_days: 30,
      run_retention_days: 30,
      max_concurrent_runs: null,
      notify: { emails: [] },
    });

    const allow = ['203.0.113.0/24', '2001:db8::/32', '198.51.100.7'];
    const put = await t.api('PUT', '/api/v1/settings', { ip_allowlist: allow, retention_days: 7 }, key);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ ip_allowlist: allow, retention_days: 7 });
    expect((await t.api('GET', '/api/v1/settings', undefined, key)).body).toMatchObject({
      ip_allowlist: allow,
      retention_days: 7,
    });

    for (const bad of ['not a cidr', '10.0.0.0/33', '300.1.2.3/8', '2001:db8::/129', '']) {
      const res = await t.api('PUT', '/api/v1/settings', { ip_allowlist: ['10.0.0.0/8', bad] }, key);
      expectErrorBody(res, 400, 'invalid_request');
      expect(res.body.errors).toContainEqual(expect.objectContaining({ field: 'ip_allowlist.1' }));
    }
    expectErrorBody(
      await t.api('PUT', '/api/v1/settings', { retention_days: 0 }, key),
      400,
      'invalid_request',
    );
    expectErrorBody(await t.api('PUT', '/api/v1/settings', { unknown: true }, key), 400, 'invalid_request');
    // Nothing changed by the rejected writes.
    expect((await t.api('GET', '/api/v1/settings', undefined, key)).body).toMatchObject({
      ip_allowlist: allow,
      retention_days: 7,
    });
  });

  it("are the tenant's own: another tenant's settings do not change", async () => {
    const a = await newTenant('Settings A');
    const b = await newTenant('Settings B');
    await t.api('PUT', '/api/v1/settings', { ip_allowlist: ['192.0.2.0/24'] }, a.key);
    expect((await t.api('GET', '/api/v1/settings', undefined, b.key)).body.ip_allowlist).toEqual([]);
  });

  it('the allowlist applies to inbound webhooks as soon as it is saved', async () => {
    const { key } = await newTenant('Allowlisted');
    const flow = (await t.api('POST', '/api/v1/flows', webhookFlow(), key)).body;
    expect((await postHook(flow.webhooks[0].url)).status).toBe(200);

    expect((await t.api('PUT', '/api/v1/settings', { ip_allowlist: ['203.0.113.0/24'] }, key)).status).toBe(
      200,
    );
    const blocked = await postHook(flow.webhooks[0].url);
    expect(blocked.status).toBe(403);

    expect((await t.api('PUT', '/api/v1/settings', { ip_allowlist: ['127.0.0.1/32'] }, key)).status).toBe(
      200,
    );
    expect((await postHook(flow.webhooks[0].url)).status).toBe(200);
    const runs = await t.api('GET', `/api/v1/runs?flow_id=${flow.id}`, undefined, key);
    expect(runs.body.data).toHaveLength(2);
  });
});

describe('OpenAPI document and docs page', () => {
  it('serves an OpenAPI 3.1 document describing the flows paths', async () => {
    const res = await rawRequest('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/application\/json/);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    expect(res.body.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(res.body.paths['/api/v1/flows']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(res.body.paths['/api/v1/flows/{id}']).sort()).toEqual([
      'delete',
      'get',
      'patch',
      'put',
    ]);
    expect(res.body.paths['/api/v1/flows/{id}/nodes/{node_id}/listen']).toHaveProperty('post');
    expect(res.body.paths['/api/v1/runs']).toHaveProperty('get');
    expect(res.body.paths['/api/v1/settings']).toHaveProperty('put');
    const search = res.body.paths['/api/v1/flows'].get.parameters.map((p: any) => p.name);
    expect(search).toContain('search');
    expect(res.body.servers[0].url).toBe(PUBLIC_URL);
  });

  it('serves a browsable HTML page listing the operations', async () => {
    const res = await rawRequest('/api/docs');
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/text\/html/);
    expect(res.text).toMatch(/<html/i);
    expect(res.text).toContain('/api/v1/flows');
    expect(res.text).toContain('/api/v1/flows/{id}');
    expect(res.text).toMatch(/>POST</);
    expect(res.text).toMatch(/>DELETE</);
  });
});

describe('health', () => {
  it('/healthz answers 200', async () => {
    const res = await rawRequest('/healthz');
    expect(res.status).toBe(200);
  });

  it('/readyz answers 200 {status: "ready"} with the database reachable and migrated', async () => {
    const res = await rawRequest('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ready' });
  });
});
