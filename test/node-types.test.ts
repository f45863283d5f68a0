/** GET /api/v1/node-types serves the node registry's catalog (docs/api.md §4.6). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCatalog } from '../src/nodes/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';

describe('GET /api/v1/node-types', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists every node type with its documented fields, in palette order', async () => {
    const res = await t.api('GET', '/api/v1/node-types');
    expect(res.status, res.text).toBe(200);
    const data = res.body.data as Record<string, unknown>[];
    expect(data).toEqual(JSON.parse(JSON.stringify(nodeCatalog())));
    for (const e of data)
      expect(Object.keys(e).sort(), String(e.type)).toEqual([
        'category',
        'container',
        'description',
        'edges',
        'fields',
        'in_body',
        'initial_config',
        'label',
        'note',
        'output',
        'panel',
        'summary',
        'terminal',
        'trigger',
        'type',
      ]);
    expect(data.find((e) => e.type === 'if')).toMatchObject({
      label: 'If',
      edges: 'boolean',
      category: 'logic',
      container: false,
    });
    expect(data.find((e) => e.type === 'loop')).toMatchObject({ container: true, category: 'logic' });
    expect(data.filter((e) => !e.in_body).map((e) => e.type)).toEqual([
      'webhook',
      'schedule',
      'wait',
      'respond',
    ]);
    expect(data.find((e) => e.type === 'subflow')).toMatchObject({ edges: 'timeout', category: 'action' });
  });

  it('needs an API key and is in the OpenAPI document', async () => {
    const res = await t.api('GET', '/api/v1/node-types', undefined, '');
    expect(res.status).toBe(401);
    const doc = await t.api('GET', '/api/openapi.json', undefined, '');
    expect(doc.body.paths['/api/v1/node-types']?.get).toBeDefined();
  });

  it('refuses on save an http node whose credential cannot sign an outbound call, naming node and field', async () => {
    const cred = await t.api('POST', '/api/v1/credentials', {
      name: 'gh',
      type: 'github',
      data: { secret: 'a-github-secret' },
    });
    const res = await t.api('POST', '/api/v1/flows', {
      name: 'Wrong credential',
      nodes: [
        { id: 'webhook_1', type: 'webhook' },
        { id: 'http_1', type: 'http', config: { url: 'https://example.com', credential_id: cred.body.id } },
      ],
      edges: [{ from: 'webhook_1', to: 'http_1' }],
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_flow');
    expect(res.body.errors).toEqual([
      {
        node: 'http_1',
        field: 'config.credential_id',
        msg: `credential "${cred.body.id}" is a github credential, not one of basic, bearer, api_key, hmac`,
      },
    ]);
  });
});
