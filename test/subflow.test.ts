/**
 * The `subflow` node (docs/api.md §4.3): a run of another flow started with an input and waited for
 * durably, with a real app, worker and database and a fake clock for the timeouts. The child's
 * result, its failure, not waiting, the timeout, the nesting limit, sub-flows in a loop's body, the
 * links between parent and child, and validation on save.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { eventually } from './helpers/receiver.ts';

describe('the subflow node', () => {
  let t: TestApp;
  const clock = fakeClock();

  afterAll(async () => {
    await t?.close();
  });

  const flow = async (
    name: string,
    nodes: unknown[],
    edges: unknown[] = [],
    extra: Record<string, unknown> = {},
  ) => {
    const res = await t.api('POST', '/api/v1/flows', {
      name,
      nodes: [{ id: 'webhook_1', type: 'webhook' }, ...nodes],
      edges: [{ from: 'webhook_1', to: (nodes[0] as { id: string }).id }, ...edges],
      ...extra,
    });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; webhooks: { url: string }[] };
  };
  const start = async (f: { webhooks: { url: string }[] }, body: unknown = {}) => {
    const res = await fetch(f.webhooks[0]!.url, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { run_id: string }).run_id;
  };
  const run = async (id: string) => (await t.api('GET', `/api/v1/runs/${id}`)).body;
  const ended = (id: string, ms = 15_000) =>
    eventually(
      async () => {
        const r = await run(id);
        return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : undefined;
      },
      ms,
      `run ${id} to end`,
    );
  const node = (r: any, id: string) => r.nodes.find((n: any) => n.id === id);

  /** A child that doubles Webhook::Body.n into vars.doubled and answers it. */
  let doubler: { id: string; webhooks: { url: string }[] };
  beforeAll(async () => {
    t = await startTestApp({ worker: { leaseMs: 5000, pollMs: 50 }, now: clock.now });
    doubler = await flow(
      'doubler',
      [
        { id: 'set_1', type: 'set', config: { values: { 'vars.doubled': '${= Webhook::Body.n * 2}' } } },
        { id: 'respond_1', type: 'respond', config: { status: 201, body: { doubled: '${vars.doubled}' } } },
      ],
      [{ from: 'set_1', to: 'respond_1' }],
    );
  });

  it('starts a run of another flow with the input, waits for it, and has its {run_id, status, vars, response, error}', async () => {
    const parent = await flow(
      'parent',
      [
        {
          id: 'subflow_1',
          type: 'subflow',
          config: { flow_id: doubler.id, input: { n: '${Webhook::Body.n}' } },
        },
        { id: 'set_9', type: 'set', config: { values: { 'vars.got': '${steps.subflow_1.vars.doubled}' } } },
      ],
      [{ from: 'subflow_1', to: 'set_9' }],
    );
    const id = await start(parent, { n: 21 });
    const r = await ended(id);
    expect(r.status, r.error).toBe('succeeded');
    expect(r.vars.got).toBe(42);
    const out = node(r, 'subflow_1').output;
    expect(out).toMatchObject({ status: 'succeeded', vars: { doubled: 42 }, error: null });
    expect(out.response).toMatchObject({ status: 201, body: '{"doubled":42}' });
    // Linked both ways: the child names its parent, the parent lists its child.
    const child = await run(out.run_id);
    expect(child.parent_run_id).toBe(id);
    expect(child.flow_id).toBe(doubler.id);
    expect(child.trigger).toMatchObject({ method: 'SUBFLOW', body: { n: 21 }, subflow_depth: 1 });
    expect(r.children).toEqual([
      expect.objectContaining({ id: out.run_id, flow_id: doubler.id, status: 'succeeded' }),
    ]);
    expect(r.parent_run_id).toBeNull();
  });

  it('a child that fails fails the node, with its error', async () => {
    const failing = await flow('failing child', [
      { id: 'fail_1', type: 'fail', config: { message: 'out of stock' } },
    ]);
    const parent = await flow('parent of a failure', [
      { id: 'subflow_1', type: 'subflow', config: { flow_id: failing.id } },
    ]);
    const r = await ended(await start(parent));
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(
      /^Node subflow_1 \(subflow\) failed: the sub-flow run run_\w+ failed: out of stock$/,
    );
  });

  it('with "wait": false it starts the run and goes on at once', async () => {
    const slow = await flow('slow child', [{ id: 'delay_1', type: 'delay', config: { ms: 3_600_000 } }]);
    const parent = await flow('fire and forget', [
      { id: 'subflow_1', type: 'subflow', config: { flow_id: slow.id, wait: false } },
    ]);
    const r = await ended(await start(parent));
    expect(r.status, r.error).toBe('succeeded');
    const childId = node(r, 'subflow_1').output.run_id;
    expect(node(r, 'subflow_1').output).toEqual({ run_id: childId });
    const child = await eventually(
      async () => {
        const c = await run(childId);
        return c.status === 'running' ? c : undefined;
      },
      10_000,
      'the child asleep',
    );
    expect(child.parent_run_id).toBe(r.id);
    await t.api('POST', `/api/v1/runs/${childId}/cancel`);
  });

  it('sleeps in the database while the child runs; a child that does not end in time fails the node or takes "timeout" edges', async () => {
    const slow = await flow('slower child', [{ id: 'delay_1', type: 'delay', config: { ms: 86_400_000 } }]);
    const parent = await flow(
      'impatient parent',
      [
        { id: 'subflow_1', type: 'subflow', config: { flow_id: slow.id, timeout_ms: 60_000 } },
        { id: 'set_1', type: 'set', config: { values: { 'vars.gave_up': true } } },
      ],
      [{ from: 'subflow_1', to: 'set_1', when: 'timeout' }],
    );
    const id = await start(parent);
    const waiting = await eventually(
      async () => {
        const r = await run(id);
        return node(r, 'subflow_1')?.status === 'waiting' ? r : undefined;
      },
      10_000,
      'the parent waiting',
    );
    const row = await t.db.database.db
      .selectFrom('runs')
      .select(['locked_by', 'run_at'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.locked_by).toBeNull();
    const childId = node(waiting, 'subflow_1').output.run_id;
    clock.advance(61_000);
    const r = await ended(id);
    expect(r.status, r.error).toBe('succeeded');
    expect(r.vars).toEqual({ gave_up: true });
    expect(node(r, 'subflow_1')).toMatchObject({ status: 'failed', handled: 'timeout' });
    expect(node(r, 'subflow_1').error).toMatch(/did not end within 60000 ms \(it goes on\)/);
    expect((await run(childId)).status).toBe('running');
    await t.api('POST', `/api/v1/runs/${childId}/cancel`);
  });

  it('a cancelled child wakes its parent, whose node fails', async () => {
    const slow = await flow('cancelled child', [
      { id: 'delay_1', type: 'delay', config: { ms: 86_400_000 } },
    ]);
    const parent = await flow('parent of a cancelled run', [
      { id: 'subflow_1', type: 'subflow', config: { flow_id: slow.id, timeout_ms: 86_400_000 } },
    ]);
    const id = await start(parent);
    const waiting = await eventually(
      async () => {
        const r = await run(id);
        return node(r, 'subflow_1')?.status === 'waiting' ? r : undefined;
      },
      10_000,
      'the parent waiting',
    );
    await t.api('POST', `/api/v1/runs/${node(waiting, 'subflow_1').output.run_id}/cancel`);
    const r = await ended(id);
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/the sub-flow run run_\w+ cancelled: Cancelled/);
  });

  it('nests at most 8 deep: a flow that runs itself fails at the ninth level', async () => {
    const self = await flow('recursive', [{ id: 'set_1', type: 'set', config: { values: {} } }]);
    const put = await t.api('PUT', `/api/v1/flows/${self.id}`, {
      name: 'recursive',
      nodes: [
        { id: 'webhook_1', type: 'webhook' },
        { id: 'subflow_1', type: 'subflow', config: { flow_id: self.id } },
      ],
      edges: [{ from: 'webhook_1', to: 'subflow_1' }],
    });
    expect(put.status, put.text).toBe(200);
    const r = await ended(await start(self), 30_000);
    expect(r.status).toBe('failed');
    // Walk down to the deepest run: 8 sub-flow levels below the first.
    let deepest = r;
    let levels = 0;
    while (deepest.children?.length) {
      deepest = await run(deepest.children[0].id);
      levels++;
    }
    expect(levels).toBe(8);
    expect(deepest.error).toBe(
      'Node subflow_1 (subflow) failed: sub-flows nest at most 8 deep: this run is already 8 sub-flows down',
    );
  });

  it('works inside a loop: one child run per item, results in item order', async () => {
    const parent = await flow('per item', [
      {
        id: 'loop_1',
        type: 'loop',
        config: {
          items: '${Webhook::Body.ns}',
          concurrency: 3,
          nodes: [
            {
              id: 'subflow_2',
              type: 'subflow',
              config: { flow_id: doubler.id, input: { n: '${loop.item}' } },
            },
          ],
          result: '${steps.subflow_2.vars.doubled}',
        },
      },
    ]);
    const r = await ended(await start(parent, { ns: [1, 2, 3, 4] }));
    expect(r.status, r.error).toBe('succeeded');
    expect(node(r, 'loop_1').output.results).toEqual([2, 4, 6, 8]);
    expect(r.children).toHaveLength(4);
  });

  it('a disabled flow, or one without a webhook trigger, fails the node with why', async () => {
    const off = await flow('off', [{ id: 'set_1', type: 'set', config: { values: {} } }], [], {
      enabled: false,
    });
    const parent = await flow('calls a disabled flow', [
      { id: 'subflow_1', type: 'subflow', config: { flow_id: off.id } },
    ]);
    const r = await ended(await start(parent));
    expect(r.error).toBe(`Node subflow_1 (subflow) failed: flow "${off.id}" (off) is disabled`);
  });

  it('is checked on save: the flow must be one of this tenant’s', async () => {
    const bad = async (config: Record<string, unknown>) => {
      const res = await t.api('POST', '/api/v1/flows', {
        name: 'bad subflow',
        nodes: [
          { id: 'webhook_1', type: 'webhook' },
          { id: 'subflow_1', type: 'subflow', config },
        ],
        edges: [{ from: 'webhook_1', to: 'subflow_1' }],
      });
      expect(res.status, res.text).toBe(400);
      return res.body.errors;
    };
    expect(await bad({ flow_id: 'flw_nope' })).toEqual([
      { node: 'subflow_1', field: 'config.flow_id', msg: 'flow "flw_nope" does not exist in this tenant' },
    ]);
    expect(await bad({})).toEqual([expect.objectContaining({ node: 'subflow_1', field: 'config.flow_id' })]);
    expect(await bad({ flow_id: doubler.id, timeout_ms: 5 })).toEqual([
      expect.objectContaining({ node: 'subflow_1', field: 'config.timeout_ms' }),
    ]);
    // Another tenant's flow is not this tenant's.
    const other = await t.api('POST', '/api/v1/tenants', { name: 'other tenant' });
    expect(other.status, other.text).toBe(201);
    const made = await t.api('POST', '/api/v1/api-keys', { name: 'other key', tenant_id: other.body.id });
    expect(made.status, made.text).toBe(201);
    const key = made.body.key as string;
    const theirs = await fetch(`${t.url}/api/v1/flows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'theirs', nodes: [{ id: 'webhook_1', type: 'webhook' }] }),
    });
    const theirsId = ((await theirs.json()) as { id: string }).id;
    expect(await bad({ flow_id: theirsId })).toEqual([
      { node: 'subflow_1', field: 'config.flow_id', msg: `flow "${theirsId}" does not exist in this tenant` },
    ]);
  });
});
