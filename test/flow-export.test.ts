/**
 * Flow export and import (docs/api.md §3.12): references by name, resolved in the importing tenant,
 * all unresolved names listed (nothing written), `?update=` as a new version, tenant isolation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

type Tenant = { tenantId: string; key: string; keyId: string };

async function newTenant(name: string): Promise<Tenant> {
  const tenant = await t.api('POST', '/api/v1/tenants', { name });
  expect(tenant.status).toBe(201);
  const key = await t.api('POST', '/api/v1/api-keys', { name: `${name} key`, tenant_id: tenant.body.id });
  expect(key.status).toBe(201);
  return { tenantId: tenant.body.id, key: key.body.key, keyId: key.body.id };
}

async function ok(r: Promise<{ status: number; body: any }>, status = 200) {
  const res = await r;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}

/** A credential, an endpoint, a child flow and an error flow of these names in the tenant. */
async function world(tn: Tenant) {
  const cred = await ok(
    t.api(
      'POST',
      '/api/v1/credentials',
      { name: 'Stripe key', type: 'bearer', data: { token: 'sk' } },
      tn.key,
    ),
    201,
  );
  const ep = await ok(
    t.api(
      'POST',
      '/api/v1/endpoints',
      { name: 'CRM', url: 'https://crm.example.com/rpc', events: [] },
      tn.key,
    ),
    201,
  );
  const child = await ok(
    t.api(
      'POST',
      '/api/v1/flows',
      { name: 'Child', nodes: [{ id: 'set_1', type: 'set', config: { values: {} } }], edges: [] },
      tn.key,
    ),
    201,
  );
  const onError = await ok(
    t.api(
      'POST',
      '/api/v1/flows',
      { name: 'On error', nodes: [{ id: 'set_1', type: 'set', config: { values: {} } }], edges: [] },
      tn.key,
    ),
    201,
  );
  return {
    cred: cred.id as string,
    ep: ep.id as string,
    child: child.id as string,
    onError: onError.id as string,
  };
}

function mainFlow(ids: { cred: string; ep: string; child: string; onError: string }, name = 'Main') {
  return {
    name,
    nodes: [
      { id: 'webhook_1', type: 'webhook', config: { auth: { type: 'bearer', credential_id: ids.cred } } },
      { id: 'http_1', type: 'http', config: { url: 'https://api.example.com/x', credential_id: ids.cred } },
      {
        id: 'loop_1',
        type: 'loop',
        config: {
          items: '${Webhook::Body.items}',
          nodes: [
            { id: 'call_1', type: 'webhook_call', config: { endpoint_id: ids.ep, params: ['call'] } },
            { id: 'sub_1', type: 'subflow', config: { flow_id: ids.child } },
          ],
          edges: [{ from: 'call_1', to: 'sub_1' }],
        },
      },
    ],
    edges: [
      { from: 'webhook_1', to: 'http_1' },
      { from: 'http_1', to: 'loop_1' },
    ],
    settings: { error_flow_id: ids.onError },
  };
}

const refOf = (doc: any) => {
  const loop = doc.nodes.find((n: any) => n.id === 'loop_1');
  return {
    cred: doc.nodes.find((n: any) => n.id === 'http_1').config.credential_id,
    hookCred: doc.nodes.find((n: any) => n.id === 'webhook_1').config.auth.credential_id,
    ep: loop.config.nodes.find((n: any) => n.id === 'call_1').config.endpoint_id,
    child: loop.config.nodes.find((n: any) => n.id === 'sub_1').config.flow_id,
    onError: doc.settings.error_flow_id,
  };
};

describe('flow export and import', () => {
  let a: Tenant;
  let b: Tenant;
  let aIds: Awaited<ReturnType<typeof world>>;
  let exported: any;
  let flowId: string;

  beforeAll(async () => {
    a = await newTenant('Exporter');
    b = await newTenant('Importer');
    aIds = await world(a);
    flowId = (await ok(t.api('POST', '/api/v1/flows', mainFlow(aIds), a.key), 201)).id;
  });

  it('exports references by name, inside a loop body and settings too', async () => {
    exported = await ok(t.api('GET', `/api/v1/flows/${flowId}/export`, undefined, a.key));
    expect(exported.hookflow).toBe('flow/v1');
    expect(exported.name).toBe('Main');
    expect(exported.id).toBeUndefined();
    expect(refOf(exported)).toEqual({
      cred: { $ref: 'credential', name: 'Stripe key' },
      hookCred: { $ref: 'credential', name: 'Stripe key' },
      ep: { $ref: 'endpoint', name: 'CRM' },
      child: { $ref: 'flow', name: 'Child' },
      onError: { $ref: 'flow', name: 'On error' },
    });
    expect(JSON.stringify(exported)).not.toContain(aIds.cred);
    expect(JSON.stringify(exported)).not.toContain(aIds.ep);
    expect(exported.nodes.find((n: any) => n.id === 'webhook_1').url).toBeUndefined();
  });

  it('lists every unresolved name and writes nothing', async () => {
    const before = (await ok(t.api('GET', '/api/v1/flows?limit=100', undefined, b.key))).data.length;
    const r = await t.api('POST', '/api/v1/flows/import', exported, b.key);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('unresolved_references');
    expect(r.body.msg).toMatch(/5 references/);
    expect(r.body.unresolved).toEqual(
      expect.arrayContaining([
        {
          kind: 'credential',
          name: 'Stripe key',
          node: 'http_1',
          field: 'config.credential_id',
          reason: 'not_found',
        },
        {
          kind: 'credential',
          name: 'Stripe key',
          node: 'webhook_1',
          field: 'config.auth.credential_id',
          reason: 'not_found',
        },
        { kind: 'endpoint', name: 'CRM', node: 'call_1', field: 'config.endpoint_id', reason: 'not_found' },
        { kind: 'flow', name: 'Child', node: 'sub_1', field: 'config.flow_id', reason: 'not_found' },
        { kind: 'flow', name: 'On error', node: null, field: 'settings.error_flow_id', reason: 'not_found' },
      ]),
    );
    expect(r.body.unresolved).toHaveLength(5);
    expect((await ok(t.api('GET', '/api/v1/flows?limit=100', undefined, b.key))).data.length).toBe(before);
  });

  it('cannot export another tenant’s flow, nor resolve its names', async () => {
    expect((await t.api('GET', `/api/v1/flows/${flowId}/export`, undefined, b.key)).status).toBe(404);
    const r = await t.api('POST', `/api/v1/flows/import?update=${flowId}`, exported, b.key);
    expect(r.status).toBe(404);
  });

  it('imports into another tenant with that tenant’s ids', async () => {
    const bIds = await world(b);
    const created = await ok(t.api('POST', '/api/v1/flows/import', exported, b.key), 201);
    expect(created.tenant_id).toBe(b.tenantId);
    expect(created.name).toBe('Main');
    expect(created.version).toBe(1);
    expect(refOf(created)).toEqual({ ...bIds, hookCred: bIds.cred });
    expect(created).toEqual(await ok(t.api('GET', `/api/v1/flows/${created.id}`, undefined, b.key)));
    const versions = await ok(t.api('GET', `/api/v1/flows/${created.id}/versions`, undefined, b.key));
    expect(versions.data[0]).toMatchObject({ version: 1, note: 'imported', created_by: b.keyId });
  });

  it('?update= replaces the flow as a new version; a self reference resolves', async () => {
    const doc = structuredClone(exported);
    doc.settings.error_flow_id = { $ref: 'flow', name: 'Main' };
    doc.enabled = false;
    const updated = await ok(t.api('POST', `/api/v1/flows/import?update=${flowId}`, doc, a.key));
    expect(updated.id).toBe(flowId);
    expect(updated.version).toBe(2);
    expect(updated.enabled).toBe(false);
    expect(updated.settings.error_flow_id).toBe(flowId);
    const versions = await ok(t.api('GET', `/api/v1/flows/${flowId}/versions`, undefined, a.key));
    expect(versions.data[0]).toMatchObject({ version: 2, note: 'imported' });
  });

  it('lists ambiguous names and names missing at export', async () => {
    const c = await newTenant('Ambiguous');
    for (const _ of [1, 2])
      await ok(
        t.api('POST', '/api/v1/credentials', { name: 'Twice', type: 'bearer', data: { token: 't' } }, c.key),
        201,
      );
    const doc = {
      hookflow: 'flow/v1',
      name: 'X',
      nodes: [
        {
          id: 'http_1',
          type: 'http',
          config: { url: 'https://a.example', credential_id: { $ref: 'credential', name: 'Twice' } },
        },
        { id: 'sub_1', type: 'subflow', config: { flow_id: { $ref: 'flow', name: null, id: 'flw_gone' } } },
      ],
      edges: [],
    };
    const r = await t.api('POST', '/api/v1/flows/import', doc, c.key);
    expect(r.status).toBe(400);
    expect(r.body.msg).toMatch(/more than one credential is named "Twice"/);
    expect(r.body.unresolved).toEqual([
      {
        kind: 'credential',
        name: 'Twice',
        node: 'http_1',
        field: 'config.credential_id',
        reason: 'ambiguous',
      },
      { kind: 'flow', name: null, node: 'sub_1', field: 'config.flow_id', reason: 'missing_at_export' },
    ]);
  });

  it('exports an id that points at nothing as a name-less reference', async () => {
    const c = await newTenant('Dangling');
    const gone = await ok(
      t.api(
        'POST',
        '/api/v1/flows',
        { name: 'Gone', nodes: [{ id: 's', type: 'set', config: { values: {} } }], edges: [] },
        c.key,
      ),
      201,
    );
    const f = await ok(
      t.api(
        'POST',
        '/api/v1/flows',
        { name: 'P', nodes: [{ id: 'sub_1', type: 'subflow', config: { flow_id: gone.id } }], edges: [] },
        c.key,
      ),
      201,
    );
    const del = await t.api('DELETE', `/api/v1/flows/${gone.id}`, undefined, c.key);
    expect(del.status).toBeLessThan(300);
    const doc = await ok(t.api('GET', `/api/v1/flows/${f.id}/export`, undefined, c.key));
    expect(doc.nodes[0].config.flow_id).toEqual({ $ref: 'flow', name: null, id: gone.id });
  });

  it('refuses what is not a portable document, and invalid flows the usual way', async () => {
    const r = await t.api('POST', '/api/v1/flows/import', { name: 'x', nodes: [], edges: [] }, b.key);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('invalid_document');
    const bad = await t.api(
      'POST',
      '/api/v1/flows/import',
      { hookflow: 'flow/v1', name: 'Bad', nodes: [{ id: 'n', type: 'nope', config: {} }], edges: [] },
      b.key,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_flow');
    expect(bad.body.errors[0]).toMatchObject({ node: 'n' });
    expect((await t.api('POST', '/api/v1/flows/import?bogus=1', exported, b.key)).status).toBe(400);
  });
});
