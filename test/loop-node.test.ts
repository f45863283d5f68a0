/**
 * The `loop` node (docs/api.md §4.3): a body of nodes run once per item, with a real app, worker,
 * database and receiver on 127.0.0.1, and a fake clock for the body's sleeps. Item order, concurrency,
 * `${loop.item}`/`${loop.index}`, per-item failures, limits, durable sleeps inside a body, the run
 * record's iterations, and validation on save of the body as a graph.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

describe('the loop node', () => {
  let t: TestApp;
  let receiver: Receiver;
  const clock = fakeClock();

  beforeAll(async () => {
    // /item/<n>?wait=<ms> answers {n} after <ms>; /fail/... answers 500.
    receiver = await startReceiver(async (req, res) => {
      const url = new URL(req.url, 'http://x');
      const wait = Number(url.searchParams.get('wait') ?? 0);
      if (wait) await new Promise((r) => setTimeout(r, wait));
      if (url.pathname.startsWith('/fail')) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"boom"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ n: Number(url.pathname.split('/').pop()) }));
    });
    t = await startTestApp({
      worker: { leaseMs: 5000, pollMs: 50 },
      now: clock.now,
      env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const create = async (nodes: unknown[], edges: unknown[]) => {
    const res = await t.api('POST', '/api/v1/flows', {
      name: 'loops',
      nodes: [{ id: 'webhook_1', type: 'webhook' }, ...nodes],
      edges: [{ from: 'webhook_1', to: (nodes[0] as { id: string }).id }, ...edges],
    });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; webhooks: { url: string }[] };
  };
  const start = async (flow: { webhooks: { url: string }[] }, body: unknown) => {
    const res = await fetch(flow.webhooks[0]!.url, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { run_id: string }).run_id;
  };
  const run = async (id: string) => (await t.api('GET', `/api/v1/runs/${id}`)).body;
  const ended = (id: string) =>
    eventually(
      async () => {
        const r = await run(id);
        return ['succeeded', 'failed'].includes(r.status) ? r : undefined;
      },
      15_000,
      `run ${id} to end`,
    );
  const node = (r: any, id: string) => r.nodes.find((n: any) => n.id === id);
  const problems = async (nodes: unknown[], edges: unknown[] = []) => {
    const res = await t.api('POST', '/api/v1/flows', {
      name: 'bad loop',
      nodes: [{ id: 'webhook_1', type: 'webhook' }, ...nodes],
      edges,
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe('invalid_flow');
    return res.body.errors as { node?: string; field: string; msg: string }[];
  };

  it('runs its body once per item, several at a time, and keeps the results in item order', async () => {
    // Earlier items answer later: with 4 at a time they finish out of order.
    const f = await create(
      [
        {
          id: 'loop_1',
          type: 'loop',
          config: {
            items: '${Webhook::Body.items}',
            concurrency: 4,
            nodes: [
              {
                id: 'http_2',
                type: 'http',
                config: { url: `${receiver.url}/item/\${loop.item.n}?wait=\${loop.item.wait}` },
              },
              {
                id: 'set_3',
                type: 'set',
                config: { values: { 'vars.last_index': '${loop.index}' } },
              },
            ],
            edges: [{ from: 'http_2', to: 'set_3' }],
            result: '${= {"n": steps.http_2.body.n, "index": loop.index} }',
          },
        },
        { id: 'set_1', type: 'set', config: { values: { 'vars.count': '${steps.loop_1.count}' } } },
      ],
      [{ from: 'loop_1', to: 'set_1' }],
    );
    const items = [
      { n: 10, wait: 300 },
      { n: 11, wait: 200 },
      { n: 12, wait: 100 },
      { n: 13, wait: 0 },
      { n: 14, wait: 0 },
    ];
    const before = receiver.received.length;
    const r = await ended(await start(f, { items }));
    expect(r.status, r.error).toBe('succeeded');
    const loop = node(r, 'loop_1');
    expect(loop.output).toEqual({
      results: items.map((it, index) => ({ n: it.n, index })),
      count: 5,
      failed: 0,
    });
    expect(r.vars.count).toBe(5);
    // Four at a time: the first four calls were all made before the slowest answered.
    const calls = receiver.received.slice(before).map((c) => new URL(c.url, 'http://x').pathname);
    expect(calls.slice(0, 4).sort()).toEqual(['/item/10', '/item/11', '/item/12', '/item/13']);
    // Each item's own body records, in item order.
    expect(loop.iterations.map((it: any) => [it.index, it.status])).toEqual(
      items.map((_, i) => [i, 'succeeded']),
    );
    expect(loop.iterations[2].nodes.map((n: any) => [n.id, n.status])).toEqual([
      ['http_2', 'succeeded'],
      ['set_3', 'succeeded'],
    ]);
    expect(loop.iterations[2].nodes[0].output.body).toEqual({ n: 12 });
    expect(loop.iterations[0].result).toBeUndefined(); // results live in the output once it ended
  });

  it('runs one item at a time by default, in order, and the default result is the last body node output', async () => {
    const f = await create(
      [
        {
          id: 'loop_1',
          type: 'loop',
          config: {
            items: '${Webhook::Body.items}',
            nodes: [{ id: 'http_2', type: 'http', config: { url: `${receiver.url}/item/\${loop.item}` } }],
          },
        },
      ],
      [],
    );
    const before = receiver.received.length;
    const r = await ended(await start(f, { items: [3, 1, 2] }));
    expect(r.status, r.error).toBe('succeeded');
    expect(receiver.received.slice(before).map((c) => c.url)).toEqual(['/item/3', '/item/1', '/item/2']);
    expect(node(r, 'loop_1').output.results.map((x: any) => x.body)).toEqual([{ n: 3 }, { n: 1 }, { n: 2 }]);
  });

  it('an empty body gives the items themselves, and an empty list gives no results', async () => {
    const f = await create([{ id: 'loop_1', type: 'loop', config: { items: '${Webhook::Body.items}' } }], []);
    const r = await ended(await start(f, { items: ['a', { b: 1 }] }));
    expect(node(r, 'loop_1').output).toEqual({ results: ['a', { b: 1 }], count: 2, failed: 0 });
    const empty = await ended(await start(f, { items: [] }));
    expect(empty.status).toBe('succeeded');
    expect(node(empty, 'loop_1').output).toEqual({ results: [], count: 0, failed: 0 });
  });

  it('on_item_error "continue" keeps going and gives a failed item the result {"error": …}', async () => {
    const f = await create(
      [
        {
          id: 'loop_1',
          type: 'loop',
          config: {
            items: '${Webhook::Body.paths}',
            on_item_error: 'continue',
            nodes: [{ id: 'http_2', type: 'http', config: { url: `${receiver.url}\${loop.item}` } }],
            result: '${steps.http_2.body.n}',
          },
        },
      ],
      [],
    );
    const r = await ended(await start(f, { paths: ['/item/1', '/fail/2', '/item/3'] }));
    expect(r.status, r.error).toBe('succeeded');
    const loop = node(r, 'loop_1');
    expect(loop.output.count).toBe(3);
    expect(loop.output.failed).toBe(1);
    expect(loop.output.results[0]).toBe(1);
    expect(loop.output.results[1].error).toMatch(/http_2.*500/);
    expect(loop.output.results[2]).toBe(3);
    expect(loop.iterations[1]).toMatchObject({ index: 1, status: 'failed' });
    expect(loop.iterations[1].nodes[0]).toMatchObject({ id: 'http_2', status: 'failed' });
  });

  it('on_item_error "fail" (the default) fails the loop at the first failed item and starts no more', async () => {
    const f = await create(
      [
        {
          id: 'loop_1',
          type: 'loop',
          config: {
            items: '${Webhook::Body.paths}',
            nodes: [{ id: 'http_2', type: 'http', config: { url: `${receiver.url}\${loop.item}` } }],
          },
        },
      ],
      [],
    );
    const before = receiver.received.length;
    const r = await ended(await start(f, { paths: ['/item/1', '/fail/2', '/item/3'] }));
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/Node loop_1 \(loop\) failed: item 1 failed: Node http_2 \(http\) failed/);
    expect(receiver.received.length - before).toBe(2);
    const loop = node(r, 'loop_1');
    expect(loop.status).toBe('failed');
    expect(loop.iterations.map((it: any) => it.status)).toEqual(['succeeded', 'failed']);
  });

  it('more items than max_items, or items that are not a list, fail the node with a clear message', async () => {
    const f = await create(
      [{ id: 'loop_1', type: 'loop', config: { items: '${Webhook::Body.items}', max_items: 2 } }],
      [],
    );
    const over = await ended(await start(f, { items: [1, 2, 3] }));
    expect(over.status).toBe('failed');
    expect(node(over, 'loop_1').error).toBe('items: 3 items, more than max_items (2)');
    const notList = await ended(await start(f, { items: { a: 1 } }));
    expect(node(notList, 'loop_1').error).toBe('items: expected a list, got an object');
  });

  it('a body that sleeps puts the run to sleep in the database, and on waking finished items are not run again', async () => {
    const f = await create(
      [
        {
          id: 'loop_1',
          type: 'loop',
          config: {
            items: '${Webhook::Body.items}',
            concurrency: 2,
            nodes: [
              { id: 'http_2', type: 'http', config: { url: `${receiver.url}/item/\${loop.item}` } },
              { id: 'delay_3', type: 'delay', config: { ms: 3_600_000 } },
              { id: 'http_4', type: 'http', config: { url: `${receiver.url}/item/\${loop.item}?after=1` } },
            ],
            edges: [
              { from: 'http_2', to: 'delay_3' },
              { from: 'delay_3', to: 'http_4' },
            ],
            result: '${steps.http_4.body.n}',
          },
        },
      ],
      [],
    );
    const before = receiver.received.length;
    const id = await start(f, { items: [1, 2, 3] });
    // Items 0 and 1 ran up to their delay; item 2 was not started (the loop stopped to sleep).
    const asleep = await eventually(
      async () => {
        const r = await run(id);
        const loop = node(r, 'loop_1');
        const statuses = loop?.iterations?.map((it: any) => it.status).join();
        return loop?.status === 'waiting' && statuses === 'waiting,waiting' ? r : undefined;
      },
      10_000,
      'the loop asleep',
    );
    expect(asleep.status).toBe('running');
    expect(node(asleep, 'loop_1').iterations.map((it: any) => it.status)).toEqual(['waiting', 'waiting']);
    const row = await t.db.database.db
      .selectFrom('runs')
      .select(['run_at', 'locked_by'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.locked_by).toBeNull();
    expect(row.run_at.getTime() - clock.now()).toBeGreaterThan(3_500_000);
    expect(receiver.received.length - before).toBe(2);

    // Woken: items 0 and 1 go on; item 2 starts, and sleeps in its turn.
    clock.advance(3_600_000);
    const again = await eventually(
      async () => {
        const r = await run(id);
        const loop = node(r, 'loop_1');
        const statuses = loop?.iterations?.map((it: any) => it.status).join();
        return loop?.status === 'waiting' && statuses === 'succeeded,succeeded,waiting' ? r : undefined;
      },
      10_000,
      'the loop asleep again, on its last item',
    );
    expect(node(again, 'loop_1').iterations.map((it: any) => it.status)).toEqual([
      'succeeded',
      'succeeded',
      'waiting',
    ]);
    clock.advance(3_600_000);
    const r = await ended(id);
    expect(r.status, r.error).toBe('succeeded');
    expect(node(r, 'loop_1').output.results).toEqual([1, 2, 3]);
    // The calls made before each sleep were not repeated after it.
    const urls = receiver.received.slice(before).map((c) => c.url);
    expect(urls.filter((u) => u === '/item/1')).toHaveLength(1);
    expect(urls.filter((u) => u === '/item/2')).toHaveLength(1);
    expect(urls.filter((u) => u === '/item/3')).toHaveLength(1);
    expect(urls.filter((u) => u.endsWith('?after=1'))).toHaveLength(3);
  }, 30_000);

  it('a body node retries within its item, and the time the item sleeps does not count against the run timeout', async () => {
    const f = await create(
      [
        {
          id: 'loop_1',
          type: 'loop',
          config: {
            items: '${Webhook::Body.items}',
            nodes: [
              {
                id: 'http_2',
                type: 'http',
                config: { url: `${receiver.url}\${loop.item}` },
                retry: { max_attempts: 2, backoff_ms: 600_000 },
                on_error: 'continue',
              },
            ],
            result: '${= steps.http_2.error ? "gave up" : steps.http_2.body.n}',
          },
        },
      ],
      [],
    );
    const id = await start(f, { items: ['/item/7', '/fail/8'] });
    await eventually(
      async () => {
        const loop = node(await run(id), 'loop_1');
        return loop?.iterations?.[1]?.nodes?.[0]?.wait === 'retry';
      },
      10_000,
      'item 1 waiting to retry',
    );
    clock.advance(600_000);
    const r = await ended(id);
    expect(r.status, r.error).toBe('succeeded');
    expect(node(r, 'loop_1').output.results).toEqual([7, 'gave up']);
    expect(node(r, 'loop_1').iterations[1].nodes[0].attempts).toHaveLength(2);
  });

  it('loops nest: the inner body sees its own item and the outer one as ${loop.parent.item}', async () => {
    const f = await create(
      [
        {
          id: 'loop_1',
          type: 'loop',
          config: {
            items: '${Webhook::Body.rows}',
            nodes: [
              {
                id: 'loop_2',
                type: 'loop',
                config: {
                  items: '${loop.item}',
                  nodes: [
                    {
                      id: 'transform_3',
                      type: 'transform',
                      config: { expression: 'loop.parent.index & ":" & loop.item', into: 'vars.pair' },
                    },
                  ],
                  result: '${= steps.transform_3.`vars.pair`}',
                },
              },
            ],
            result: '${steps.loop_2.results}',
          },
        },
      ],
      [],
    );
    const r = await ended(await start(f, { rows: [['a', 'b'], ['c']] }));
    expect(r.status, r.error).toBe('succeeded');
    expect(node(r, 'loop_1').output.results).toEqual([['0:a', '0:b'], ['1:c']]);
  });

  it('a code node in the body gets the item as input.loop', async () => {
    const f = await create(
      [
        {
          id: 'loop_1',
          type: 'loop',
          config: {
            items: '${Webhook::Body.prices}',
            nodes: [
              {
                id: 'code_2',
                type: 'code',
                config: { source: 'return input.loop.item * 2 + input.loop.index;' },
              },
            ],
          },
        },
        {
          id: 'code_3',
          type: 'code',
          config: { source: 'return input.steps.loop_1.results.reduce((s, x) => s + x, 0);' },
        },
      ],
      [{ from: 'loop_1', to: 'code_3' }],
    );
    const r = await ended(await start(f, { prices: [10, 20, 30] }));
    expect(r.status, r.error).toBe('succeeded');
    expect(node(r, 'loop_1').output.results).toEqual([20, 41, 62]);
    expect(node(r, 'code_3').output).toBe(123);
  });

  it('the body is checked on save like a flow: each problem names the body node or the loop, and the field', async () => {
    const loop = (config: Record<string, unknown>) => ({
      id: 'loop_1',
      type: 'loop',
      config: { items: '${Webhook::Body.items}', ...config },
    });
    expect(await problems([loop({ nodes: [{ id: 'webhook_2', type: 'webhook' }] })])).toEqual([
      {
        node: 'webhook_2',
        field: 'type',
        msg: "a loop's body cannot hold a webhook node: a trigger starts runs, it does not run once per item",
      },
    ]);
    const respond = await problems([loop({ nodes: [{ id: 'respond_2', type: 'respond' }] })]);
    expect(respond[0]).toMatchObject({ node: 'respond_2', field: 'type' });
    expect(respond[0]!.msg).toMatch(/cannot hold a respond node/);
    expect(
      await problems([
        loop({ nodes: [{ id: 'http_2', type: 'http', config: { url: 'https://x', method: 'FETCH' } }] }),
      ]),
    ).toEqual([expect.objectContaining({ node: 'http_2', field: 'config.method' })]);
    expect(
      await problems([
        loop({ nodes: [{ id: 'set_2', type: 'set', config: { values: { 'vars.a': '${nope.x}' } } }] }),
      ]),
    ).toEqual([expect.objectContaining({ node: 'set_2', field: "config.values['vars.a']" })]);
    // Edges stay inside their graph.
    expect(
      await problems([
        loop({
          nodes: [{ id: 'set_2', type: 'set', config: { values: {} } }],
          edges: [{ from: 'set_2', to: 'webhook_1' }],
        }),
      ]),
    ).toEqual([
      {
        node: 'loop_1',
        field: 'config.edges[0].to',
        msg: `edge to unknown node "webhook_1" (not in loop_1's body: a body's edges stay inside it)`,
      },
    ]);
    expect(
      await problems(
        [loop({ nodes: [{ id: 'set_2', type: 'set', config: { values: {} } }] })],
        [{ from: 'webhook_1', to: 'set_2' }],
      ),
    ).toEqual([
      {
        edge: 0,
        field: 'edges[0].to',
        msg: 'edge to unknown node "set_2" (it is inside a loop: an edge reaches the loop, not its body)',
      },
    ]);
    // Ids are unique across the flow and its bodies.
    expect(
      await problems([loop({ nodes: [{ id: 'loop_1', type: 'set', config: { values: {} } }] })]),
    ).toEqual([{ node: 'loop_1', field: 'id', msg: 'duplicate node id "loop_1"' }]);
    const cycle = await problems([
      loop({
        nodes: [
          { id: 'set_2', type: 'set', config: { values: {} } },
          { id: 'set_3', type: 'set', config: { values: {} } },
        ],
        edges: [
          { from: 'set_2', to: 'set_3' },
          { from: 'set_3', to: 'set_2' },
        ],
      }),
    ]);
    expect(cycle).toEqual([
      { node: 'loop_1', field: 'config.edges', msg: "the loop's body has a cycle: set_2 → set_3 → set_2" },
    ]);
    const limits = await problems([loop({ concurrency: 51, max_items: 0 })]);
    expect(limits.map((p) => p.field).sort()).toEqual(['config.concurrency', 'config.max_items']);
    expect(await problems([{ id: 'loop_1', type: 'loop', config: {} }])).toEqual([
      expect.objectContaining({ node: 'loop_1', field: 'config.items' }),
    ]);
  });

  it('a saved body comes back normalised, with its positions, and a credential a body node names must exist', async () => {
    const res = await t.api('POST', '/api/v1/flows', {
      name: 'saved loop',
      nodes: [
        { id: 'webhook_1', type: 'webhook' },
        {
          id: 'loop_1',
          type: 'loop',
          position: { x: 300, y: 0 },
          config: {
            items: '${Webhook::Body.items}',
            nodes: [
              {
                id: 'http_2',
                type: 'http',
                position: { x: 20, y: 40 },
                config: { url: 'https://example.com/x' },
              },
            ],
          },
        },
      ],
      edges: [{ from: 'webhook_1', to: 'loop_1' }],
    });
    expect(res.status, res.text).toBe(201);
    const saved = res.body.nodes[1];
    expect(saved.config).toMatchObject({
      concurrency: 1,
      on_item_error: 'fail',
      max_items: 10_000,
      edges: [],
    });
    expect(saved.config.nodes[0]).toMatchObject({ id: 'http_2', position: { x: 20, y: 40 } });
    expect(saved.config.nodes[0].config.method).toBe('GET');

    const bad = await problems([
      {
        id: 'loop_1',
        type: 'loop',
        config: {
          items: '${Webhook::Body.items}',
          nodes: [
            {
              id: 'http_2',
              type: 'http',
              config: { url: 'https://example.com/x', credential_id: 'cred_nope' },
            },
          ],
        },
      },
    ]);
    expect(bad).toEqual([
      expect.objectContaining({ node: 'http_2', msg: 'credential "cred_nope" does not exist' }),
    ]);
  });
});
