/**
 * Retries and error paths on every node (docs/api.md §4.4), with a real app, worker, database and
 * receiver on 127.0.0.1, and a fake clock: back-off sleeps in the database between attempts, each
 * attempt is on the node record, `on_error` continue and branch, and validation on save.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

describe('retries and error paths', () => {
  let t: TestApp;
  let receiver: Receiver;
  /** Per path: how many more calls answer 503 before the path answers 200. */
  const failuresLeft = new Map<string, number>();
  const clock = fakeClock();

  beforeAll(async () => {
    receiver = await startReceiver((req, res) => {
      const path = req.url.split('?')[0] ?? '';
      const left = failuresLeft.get(path) ?? 0;
      if (path.startsWith('/never') || left > 0) {
        failuresLeft.set(path, left - 1);
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"error":"busy"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
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
      name: 'errors',
      nodes: [{ id: 'webhook_1', type: 'webhook' }, ...nodes],
      edges,
    });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; webhooks: { url: string }[] };
  };
  const start = async (flow: { webhooks: { url: string }[] }) => {
    const res = await fetch(flow.webhooks[0]!.url, {
      method: 'POST',
      body: '{}',
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
      10_000,
      `run ${id} to end`,
    );
  const node = (r: any, id: string) => r.nodes.find((n: any) => n.id === id);
  const waitingForRetry = (id: string, nodeId: string, attempts: number) =>
    eventually(
      async () => {
        const r = await run(id);
        const n = node(r, nodeId);
        return n?.status === 'waiting' && n.attempts?.length === attempts ? r : undefined;
      },
      10_000,
      `${nodeId} waiting after ${attempts} attempt(s)`,
    );
  const calls = (path: string) => receiver.received.filter((r) => r.url.startsWith(path)).length;

  it('a failing node is tried again after a durable back-off, each attempt on its record, until it succeeds', async () => {
    failuresLeft.set('/flaky', 2);
    const f = await create(
      [
        {
          id: 'http_1',
          type: 'http',
          config: { url: `${receiver.url}/flaky` },
          retry: { max_attempts: 3, backoff_ms: 60_000, factor: 2 },
        },
        { id: 'set_1', type: 'set', config: { values: { 'vars.status': '${steps.http_1.status}' } } },
      ],
      [
        { from: 'webhook_1', to: 'http_1' },
        { from: 'http_1', to: 'set_1' },
      ],
    );
    const id = await start(f);
    const first = await waitingForRetry(id, 'http_1', 1);
    expect(first.status).toBe('running');
    expect(node(first, 'http_1').attempts[0].error).toMatch(/answered 503/);
    // The run sleeps in the database until the next attempt: nobody holds it meanwhile.
    const row = await t.db.database.db
      .selectFrom('runs')
      .select(['run_at', 'locked_by'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.locked_by).toBeNull();
    expect(row.run_at.getTime() - clock.now()).toBeGreaterThan(50_000);
    expect(Date.parse(node(first, 'http_1').output.retry_at)).toBe(row.run_at.getTime());
    expect(calls('/flaky')).toBe(1);

    clock.advance(61_000);
    t.app.hookflow.worker!.poke();
    await waitingForRetry(id, 'http_1', 2);
    expect(calls('/flaky')).toBe(2);
    // The second back-off is twice the first.
    const second = await t.db.database.db
      .selectFrom('runs')
      .select('run_at')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(second.run_at.getTime() - clock.now()).toBeGreaterThan(110_000);

    clock.advance(121_000);
    t.app.hookflow.worker!.poke();
    const done = await ended(id);
    expect(done.status).toBe('succeeded');
    expect(done.vars).toEqual({ status: 200 });
    const rec = node(done, 'http_1');
    expect(rec.status).toBe('succeeded');
    expect(rec.attempts.map((a: any) => a.error === null)).toEqual([false, false, true]);
    expect(calls('/flaky')).toBe(3);
  });

  it('a run woken many times by back-offs is not taken for one that keeps crashing its worker', async () => {
    failuresLeft.set('/many1', 5);
    failuresLeft.set('/many2', 5);
    const retry = { max_attempts: 6, backoff_ms: 0 };
    const f = await create(
      [
        { id: 'http_1', type: 'http', config: { url: `${receiver.url}/many1` }, retry },
        { id: 'http_2', type: 'http', config: { url: `${receiver.url}/many2` }, retry },
      ],
      [
        { from: 'webhook_1', to: 'http_1' },
        { from: 'http_1', to: 'http_2' },
      ],
    );
    const done = await ended(await start(f));
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect(node(done, 'http_1').attempts).toHaveLength(6);
    expect(node(done, 'http_2').attempts).toHaveLength(6);
    // Ten sleeps and wake-ups, one worker attempt.
    expect(done.attempts).toBe(1);
  });

  it('after the last attempt the run fails with the node named, as without retries', async () => {
    const f = await create(
      [
        {
          id: 'http_1',
          type: 'http',
          config: { url: `${receiver.url}/never` },
          retry: { max_attempts: 2, backoff_ms: 1000 },
        },
      ],
      [{ from: 'webhook_1', to: 'http_1' }],
    );
    const id = await start(f);
    await waitingForRetry(id, 'http_1', 1);
    clock.advance(2_000);
    t.app.hookflow.worker!.poke();
    const done = await ended(id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/^Node http_1 \(http\) failed: GET 127\.0\.0\.1:\d+\/never answered 503$/);
    expect(node(done, 'http_1').attempts).toHaveLength(2);
  });

  it('on_error "continue" records the node failed and goes on along its normal edges with steps.<id>.error', async () => {
    const f = await create(
      [
        { id: 'http_1', type: 'http', config: { url: `${receiver.url}/never/c` }, on_error: 'continue' },
        { id: 'set_1', type: 'set', config: { values: { 'vars.why': '${steps.http_1.error}' } } },
      ],
      [
        { from: 'webhook_1', to: 'http_1' },
        { from: 'http_1', to: 'set_1' },
      ],
    );
    const done = await ended(await start(f));
    expect(done.status).toBe('succeeded');
    expect(node(done, 'http_1')).toMatchObject({ status: 'failed', handled: 'continue' });
    expect(done.vars.why).toMatch(/answered 503/);
  });

  it('on_error "branch" takes only the error edges, with error.message and error.node_id', async () => {
    const f = await create(
      [
        { id: 'http_1', type: 'http', config: { url: `${receiver.url}/never/b` }, on_error: 'branch' },
        { id: 'set_ok', type: 'set', config: { values: { 'vars.ok': true } } },
        {
          id: 'set_err',
          type: 'set',
          config: { values: { 'vars.failed_node': '${error.node_id}', 'vars.message': '${error.message}' } },
        },
      ],
      [
        { from: 'webhook_1', to: 'http_1' },
        { from: 'http_1', to: 'set_ok' },
        { from: 'http_1', to: 'set_err', when: 'error' },
      ],
    );
    const done = await ended(await start(f));
    expect(done.status).toBe('succeeded');
    expect(node(done, 'set_ok').status).toBe('skipped');
    expect(node(done, 'set_err').status).toBe('succeeded');
    expect(done.vars.failed_node).toBe('http_1');
    expect(done.vars.message).toMatch(/answered 503/);

    // On success the error edge is not taken.
    const okFlow = await create(
      [
        { id: 'http_1', type: 'http', config: { url: `${receiver.url}/fine` }, on_error: 'branch' },
        { id: 'set_ok', type: 'set', config: { values: { 'vars.ok': true } } },
        { id: 'set_err', type: 'set', config: { values: { 'vars.err': true } } },
      ],
      [
        { from: 'webhook_1', to: 'http_1' },
        { from: 'http_1', to: 'set_ok' },
        { from: 'http_1', to: 'set_err', when: 'error' },
      ],
    );
    const fine = await ended(await start(okFlow));
    expect(fine.vars).toEqual({ ok: true });
    expect(node(fine, 'set_err').status).toBe('skipped');
  });

  it('refuses on save: an error edge without on_error branch, branch without an error edge, retries on a trigger, too many attempts', async () => {
    const save = (nodes: unknown[], edges: unknown[]) =>
      t.api('POST', '/api/v1/flows', {
        name: 'bad',
        nodes: [{ id: 'webhook_1', type: 'webhook' }, ...nodes],
        edges,
      });
    const set = (id: string, extra: Record<string, unknown> = {}) => ({
      id,
      type: 'set',
      config: { values: {} },
      ...extra,
    });
    const cases: [unknown[], unknown[], { node?: string; field: string; msg: RegExp }][] = [
      [
        [set('set_1'), set('set_2')],
        [
          { from: 'webhook_1', to: 'set_1' },
          { from: 'set_1', to: 'set_2', when: 'error' },
        ],
        {
          node: 'set_1',
          field: 'edges[1].when',
          msg: /taken only when node "set_1" has "on_error": "branch"/,
        },
      ],
      [
        [set('set_1', { on_error: 'branch' })],
        [{ from: 'webhook_1', to: 'set_1' }],
        { node: 'set_1', field: 'on_error', msg: /needs an out-edge of "set_1" with "when": "error"/ },
      ],
      [
        [{ id: 'webhook_2', type: 'webhook', retry: { max_attempts: 2 } }],
        [],
        { node: 'webhook_2', field: 'retry', msg: /a trigger has no retries/ },
      ],
      [
        [set('set_1', { retry: { max_attempts: 11 } })],
        [{ from: 'webhook_1', to: 'set_1' }],
        { node: 'set_1', field: 'retry.max_attempts', msg: /10/ },
      ],
      [
        [set('set_1', { on_error: 'ignore' })],
        [{ from: 'webhook_1', to: 'set_1' }],
        { node: 'set_1', field: 'on_error', msg: /fail|continue|branch/ },
      ],
    ];
    for (const [nodes, edges, problem] of cases) {
      const res = await save(nodes, edges);
      expect(res.status, JSON.stringify(problem.msg)).toBe(400);
      expect(res.body.code).toBe('invalid_flow');
      expect(res.body.errors).toContainEqual(
        expect.objectContaining({
          ...(problem.node ? { node: problem.node } : {}),
          field: problem.field,
          msg: expect.stringMatching(problem.msg),
        }),
      );
    }
  });
});
