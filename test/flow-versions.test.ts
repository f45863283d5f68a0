/**
 * Flow versions (docs/api.md §3.11), with a real app, worker and database and a fake clock: every
 * save is kept as an immutable version, versions are listed and read, a restore saves an old one
 * again as the next version, every run records the version it ran, and a run asleep while its flow
 * changes goes on with the version it started on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { eventually } from './helpers/receiver.ts';

describe('flow versions', () => {
  let t: TestApp;
  const clock = fakeClock();

  beforeAll(async () => {
    t = await startTestApp({ worker: { leaseMs: 5000, pollMs: 50 }, now: clock.now });
  });
  afterAll(async () => {
    await t?.close();
  });

  const doc = (label: string, extra: unknown[] = []) => ({
    name: 'Versioned',
    nodes: [
      { id: 'webhook_1', type: 'webhook' },
      { id: 'set_1', type: 'set', config: { values: { 'vars.label': label } } },
      ...extra,
    ],
    edges: [
      { from: 'webhook_1', to: 'set_1' },
      ...extra.map((n) => ({ from: 'set_1', to: (n as { id: string }).id })),
    ],
  });
  const run = async (id: string) => (await t.api('GET', `/api/v1/runs/${id}`)).body;
  const start = async (url: string) => {
    const res = await fetch(url, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { run_id: string }).run_id;
  };
  const ended = (id: string) =>
    eventually(
      async () => {
        const r = await run(id);
        return ['succeeded', 'failed'].includes(r.status) ? r : undefined;
      },
      10_000,
      `run ${id} to end`,
    );

  it('keeps every save as an immutable version, listed newest first, each readable with its document', async () => {
    const created = await t.api('POST', '/api/v1/flows', doc('one'));
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    expect(created.body.version).toBe(1);
    expect((await t.api('PUT', `/api/v1/flows/${id}`, doc('two'))).body.version).toBe(2);
    expect((await t.api('PATCH', `/api/v1/flows/${id}`, { name: 'Renamed' })).body.version).toBe(3);

    const list = await t.api('GET', `/api/v1/flows/${id}/versions`);
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.map((v: any) => [v.version, v.name])).toEqual([
      [3, 'Renamed'],
      [2, 'Versioned'],
      [1, 'Versioned'],
    ]);
    expect(list.body.data[0]).toMatchObject({ created_by: expect.stringMatching(/./), note: null });
    expect(list.body.data[0].nodes).toBeUndefined();

    const v1 = await t.api('GET', `/api/v1/flows/${id}/versions/1`);
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ version: 1, name: 'Versioned', enabled: true });
    expect(v1.body.nodes[1].config.values).toEqual({ 'vars.label': 'one' });
    // Paging: a cursor gives the older ones.
    const first = await t.api('GET', `/api/v1/flows/${id}/versions?limit=2`);
    expect(first.body.next_cursor).toBe('2');
    const rest = await t.api('GET', `/api/v1/flows/${id}/versions?limit=2&cursor=2`);
    expect(rest.body.data.map((v: any) => v.version)).toEqual([1]);
  });

  it('restores an old version as the next version, and says so', async () => {
    const id = (await t.api('POST', '/api/v1/flows', doc('first'))).body.id;
    await t.api('PUT', `/api/v1/flows/${id}`, doc('second'));
    const restored = await t.api('POST', `/api/v1/flows/${id}/versions/1/restore`);
    expect(restored.status, restored.text).toBe(200);
    expect(restored.body.version).toBe(3);
    expect(restored.body.nodes[1].config.values).toEqual({ 'vars.label': 'first' });
    const v3 = (await t.api('GET', `/api/v1/flows/${id}/versions/3`)).body;
    expect(v3.note).toBe('restored from version 1');
    // The flow serves the restored version.
    const r = await ended(await start(restored.body.webhooks[0].url));
    expect(r.vars).toEqual({ label: 'first' });
    expect(r.flow_version).toBe(3);
  });

  it('answers 404 for an unknown version or another tenant’s flow, and 400 for a version that is not a number', async () => {
    const id = (await t.api('POST', '/api/v1/flows', doc('x'))).body.id;
    expect((await t.api('GET', `/api/v1/flows/${id}/versions/9`)).status).toBe(404);
    expect((await t.api('POST', `/api/v1/flows/${id}/versions/9/restore`)).status).toBe(404);
    const bad = await t.api('GET', `/api/v1/flows/${id}/versions/abc`);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_request');
    expect((await t.api('GET', '/api/v1/flows/flw_nope/versions')).status).toBe(404);
    const tenant = await t.api('POST', '/api/v1/tenants', { name: 'versions other' });
    const key = (await t.api('POST', '/api/v1/api-keys', { name: 'k', tenant_id: tenant.body.id })).body.key;
    const theirs = await fetch(`${t.url}/api/v1/flows/${id}/versions/1`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(theirs.status).toBe(404);
  });

  it('a restore is checked like any save: a credential that is gone since is a 400 naming it', async () => {
    const cred = await t.api('POST', '/api/v1/credentials', {
      name: 'tok',
      type: 'bearer',
      data: { token: 'secret-token' },
    });
    const id = (
      await t.api('POST', '/api/v1/flows', {
        name: 'With a credential',
        nodes: [
          { id: 'webhook_1', type: 'webhook' },
          { id: 'http_1', type: 'http', config: { url: 'https://example.com', credential_id: cred.body.id } },
        ],
        edges: [{ from: 'webhook_1', to: 'http_1' }],
      })
    ).body.id;
    await t.api('PUT', `/api/v1/flows/${id}`, doc('no credential'));
    expect((await t.api('DELETE', `/api/v1/credentials/${cred.body.id}`)).status).toBe(204);
    const res = await t.api('POST', `/api/v1/flows/${id}/versions/1/restore`);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { node: 'http_1', field: 'config.credential_id', msg: `credential "${cred.body.id}" does not exist` },
    ]);
    expect((await t.api('GET', `/api/v1/flows/${id}`)).body.version).toBe(2);
  });

  it('a run records its flow version, and one asleep while the flow changes goes on with the version it started on', async () => {
    const created = await t.api(
      'POST',
      '/api/v1/flows',
      doc('before', [{ id: 'delay_1', type: 'delay', config: { ms: 3_600_000 } }]),
    );
    const id = created.body.id;
    const runId = await start(created.body.webhooks[0].url);
    await eventually(
      async () => (await run(runId)).nodes?.find((n: any) => n.id === 'delay_1')?.status === 'waiting',
      10_000,
      'the run asleep',
    );
    expect((await run(runId)).flow_version).toBe(1);
    // Version 2 sets another label and has a node after the delay.
    const v2 = await t.api('PUT', `/api/v1/flows/${id}`, {
      ...doc('after', [{ id: 'delay_1', type: 'delay', config: { ms: 3_600_000 } }]),
      nodes: [
        ...doc('after', [{ id: 'delay_1', type: 'delay', config: { ms: 3_600_000 } }]).nodes,
        { id: 'set_2', type: 'set', config: { values: { 'vars.more': true } } },
      ],
      edges: [...doc('after', [{ id: 'delay_1', type: 'delay' }]).edges, { from: 'delay_1', to: 'set_2' }],
    });
    expect(v2.status, v2.text).toBe(200);
    clock.advance(3_600_000);
    const r = await ended(runId);
    expect(r.status, r.error).toBe('succeeded');
    expect(r.flow_version).toBe(1);
    expect(r.vars).toEqual({ label: 'before' });
    expect(r.nodes.map((n: any) => n.id)).toEqual(['webhook_1', 'set_1', 'delay_1']);
    // A new run runs version 2.
    const next = await start(created.body.webhooks[0].url);
    expect(
      (
        await eventually(
          async () => {
            const x = await run(next);
            return x.flow_version ? x : undefined;
          },
          10_000,
          'the new run started',
        )
      ).flow_version,
    ).toBe(2);
  });
});
