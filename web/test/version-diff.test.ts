/** The compare screen's diff of two flow documents (web/src/canvas/versionDiff.ts), pure. */
import { describe, expect, it } from 'vitest';
import { type DiffableDoc, diffFlows, formatPath } from '../src/canvas/versionDiff.ts';

const base: DiffableDoc = {
  name: 'Orders',
  enabled: true,
  nodes: [
    { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
    { id: 'set_1', type: 'set', position: { x: 300, y: 0 }, config: { values: { 'vars.x': 'one' } } },
  ],
  edges: [{ from: 'webhook_1', to: 'set_1' }],
  settings: { timeout_ms: 300000, notify: { on_failure: [], on_success: [] } },
};

describe('diffFlows', () => {
  it('finds an added node, a removed one and a changed config value with its old and new value', () => {
    const next: DiffableDoc = {
      ...base,
      nodes: [
        base.nodes[0],
        { ...base.nodes[1], config: { values: { 'vars.x': 'two' } } },
        { id: 'respond_1', type: 'respond', config: { status: 201 } },
      ],
      edges: [...base.edges, { from: 'set_1', to: 'respond_1' }],
    };
    const d = diffFlows(base, next);
    expect(d.same).toBe(false);
    expect(d.nodes.map((n) => [n.id, n.status])).toEqual([
      ['webhook_1', 'unchanged'],
      ['set_1', 'changed'],
      ['respond_1', 'added'],
    ]);
    expect(d.nodes[1].changes).toEqual([
      { path: 'config.values["vars.x"]', kind: 'changed', before: 'one', after: 'two' },
    ]);
    expect(d.edges.added.map((e) => e.key)).toEqual(['set_1 → respond_1']);
    expect(d.edges.unchanged).toBe(1);

    const back = diffFlows(next, base);
    expect(back.nodes.find((n) => n.id === 'respond_1')?.status).toBe('removed');
    expect(back.edges.removed.map((e) => e.key)).toEqual(['set_1 → respond_1']);
  });

  it('a node only moved is unchanged (marked moved); key order does not matter', () => {
    const next: DiffableDoc = {
      ...base,
      nodes: [{ ...base.nodes[0], position: { x: 50, y: 80 } }, base.nodes[1]],
      settings: { notify: { on_success: [], on_failure: [] }, timeout_ms: 300000 },
    };
    const d = diffFlows(base, next);
    expect(d.same).toBe(true);
    expect(d.nodes[0]).toMatchObject({ status: 'unchanged', moved: true });
  });

  it('names the name, enabled, settings and node fields beside config (retry, on_error)', () => {
    const next: DiffableDoc = {
      ...base,
      name: 'Orders v2',
      enabled: false,
      nodes: [base.nodes[0], { ...base.nodes[1], retry: { max_attempts: 3 }, on_error: 'continue' }],
      settings: { ...base.settings, timeout_ms: 1000, error_flow_id: 'flw_x' },
    };
    const d = diffFlows(base, next);
    expect(d.name).toMatchObject({ before: 'Orders', after: 'Orders v2' });
    expect(d.enabled).toMatchObject({ before: true, after: false });
    expect(d.settings).toEqual([
      { path: 'settings.timeout_ms', kind: 'changed', before: 300000, after: 1000 },
      { path: 'settings.error_flow_id', kind: 'added', after: 'flw_x' },
    ]);
    expect(d.nodes[1].changes).toEqual([
      { path: 'retry', kind: 'added', after: { max_attempts: 3 } },
      { path: 'on_error', kind: 'added', after: 'continue' },
    ]);
  });

  it("a change inside a loop's body is a change of the loop, its path naming the body step", () => {
    const loop = (bodyX: string, extra = false): DiffableDoc => ({
      ...base,
      nodes: [
        base.nodes[0],
        {
          id: 'loop_1',
          type: 'loop',
          position: { x: 300, y: 0 },
          config: {
            items: '${Webhook::Body.items}',
            concurrency: 1,
            nodes: [
              {
                id: 'set_2',
                type: 'set',
                position: { x: 24, y: 76 },
                config: { values: { 'vars.x': bodyX } },
              },
              ...(extra ? [{ id: 'fail_1', type: 'fail', config: { message: 'no' } }] : []),
            ],
            edges: extra ? [{ from: 'set_2', to: 'fail_1' }] : [],
          },
        },
      ],
      edges: [{ from: 'webhook_1', to: 'loop_1' }],
    });
    const d = diffFlows(loop('a'), loop('b', true));
    const n = d.nodes.find((x) => x.id === 'loop_1');
    expect(n?.status).toBe('changed');
    expect(n?.changes).toEqual([
      { path: 'nodes[set_2].config.values["vars.x"]', kind: 'changed', before: 'a', after: 'b' },
      {
        path: 'nodes[fail_1]',
        kind: 'added',
        after: { id: 'fail_1', type: 'fail', config: { message: 'no' } },
      },
      { path: 'edges[set_2 → fail_1]', kind: 'added', after: 'set_2 → fail_1' },
    ]);
    // A body step only moved: no change.
    const moved = loop('a');
    const body = (moved.nodes[1].config as { nodes: { position: { x: number } }[] }).nodes[0];
    body.position.x = 200;
    expect(diffFlows(loop('a'), moved).same).toBe(true);
  });

  it('formats paths: plain names with dots, other keys quoted', () => {
    expect(formatPath(['config', 'values', 'vars.x'])).toBe('config.values["vars.x"]');
    expect(formatPath(['settings', 'notify', 'on_failure'])).toBe('settings.notify.on_failure');
    expect(formatPath(['config', 'headers', 'x-api-key'])).toBe('config.headers["x-api-key"]');
  });
});
