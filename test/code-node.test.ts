/**
 * The code node in a run (docs/api.md §4.3 `code`), with a real app, worker and database: its result
 * feeds the nodes after it, its console lines are on the run's node record, a failure names the node
 * and its line, and a code node can be retried or continued like any other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { eventually } from './helpers/receiver.ts';

describe('code node in a run', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ worker: { pollMs: 50 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const runOf = async (nodes: unknown[], edges: unknown[], body: unknown) => {
    const flow = await t.api('POST', '/api/v1/flows', {
      name: 'code',
      nodes: [{ id: 'webhook_1', type: 'webhook' }, ...nodes],
      edges,
    });
    expect(flow.status, flow.text).toBe(201);
    const res = await fetch(flow.body.webhooks[0].url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const { run_id } = (await res.json()) as { run_id: string };
    return eventually(
      async () => {
        const r = (await t.api('GET', `/api/v1/runs/${run_id}`)).body;
        return ['succeeded', 'failed'].includes(r.status) ? r : undefined;
      },
      15_000,
      'the run to end',
    );
  };
  const node = (run: any, id: string) => run.nodes.find((n: any) => n.id === id);

  it('its returned value is steps.<id> and its target for the next nodes, its console lines on the record', async () => {
    const run = await runOf(
      [
        {
          id: 'code_1',
          type: 'code',
          config: {
            source:
              'const total = input.Webhook.Body.items.reduce((s, i) => s + i.price, 0);\nconsole.log("total", total);\nreturn { total, big: total > 100 };',
            into: 'vars.order',
          },
        },
        { id: 'set_1', type: 'set', config: { values: { 'vars.big': '${steps.code_1.big}' } } },
      ],
      [
        { from: 'webhook_1', to: 'code_1' },
        { from: 'code_1', to: 'set_1' },
      ],
      { items: [{ price: 80 }, { price: 30 }] },
    );
    expect(run.status).toBe('succeeded');
    expect(run.vars).toEqual({ order: { total: 110, big: true }, big: true });
    expect(node(run, 'code_1')).toMatchObject({
      status: 'succeeded',
      output: { total: 110, big: true },
      logs: ['total 110'],
    });
  });

  it('a throw fails the run naming the node and the line, with the lines logged before it', async () => {
    const run = await runOf(
      [
        {
          id: 'code_1',
          type: 'code',
          config: { source: 'console.log("checking");\nthrow new Error("no items");' },
        },
      ],
      [{ from: 'webhook_1', to: 'code_1' }],
      {},
    );
    expect(run.status).toBe('failed');
    expect(run.error).toBe('Node code_1 (code) failed: no items (line 2)');
    expect(node(run, 'code_1')).toMatchObject({ status: 'failed', logs: ['checking'] });
  });

  it('an endless loop fails only its node; with on_error continue the run goes on', async () => {
    const run = await runOf(
      [
        {
          id: 'code_1',
          type: 'code',
          config: { source: 'for (;;) {}', timeout_ms: 300 },
          on_error: 'continue',
        },
        { id: 'set_1', type: 'set', config: { values: { 'vars.why': '${steps.code_1.error}' } } },
      ],
      [
        { from: 'webhook_1', to: 'code_1' },
        { from: 'code_1', to: 'set_1' },
      ],
      {},
    );
    expect(run.status).toBe('succeeded');
    expect(run.vars.why).toBe('Code ran longer than 300 ms');
  });

  it('refuses on save a code node without source or with a time limit past 30 s, naming the field', async () => {
    const res = await t.api('POST', '/api/v1/flows', {
      name: 'bad code',
      nodes: [
        { id: 'webhook_1', type: 'webhook' },
        { id: 'code_1', type: 'code', config: { source: 'return 1', timeout_ms: 60_000 } },
      ],
      edges: [{ from: 'webhook_1', to: 'code_1' }],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toContainEqual(
      expect.objectContaining({ node: 'code_1', field: 'config.timeout_ms' }),
    );
  });
  it('refuses on save a code node whose source does not compile, naming the node, the field and the line', async () => {
    const res = await t.api('POST', '/api/v1/flows', {
      name: 'bad syntax',
      nodes: [
        { id: 'webhook_1', type: 'webhook' },
        {
          id: 'code_1',
          type: 'code',
          config: { source: 'const items = input.Webhook.Body.items;\nreturn items.map((i) => i.price;' },
        },
      ],
      edges: [{ from: 'webhook_1', to: 'code_1' }],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toContainEqual({
      node: 'code_1',
      field: 'config.source',
      msg: expect.stringMatching(/^SyntaxError: .+ \(line 2\)$/),
    });
  });
});
