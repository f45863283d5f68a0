/**
 * The registry's entries hold together: every catalog entry's initial config is a config its own
 * schema takes, every panel field and summary names a key of that config, and the edges a type
 * offers are the ones its checks accept.
 */
import { describe, expect, it } from 'vitest';
import { validateFlowDocument } from '../core/flowDocument.ts';
import { getNodeDefinition, NODE_TYPES, nodeCatalog } from './index.ts';
import type { FieldSpec } from './types.ts';

const shapeKeys = (type: string): string[] => {
  const schema = getNodeDefinition(type)?.schema as unknown as { shape?: Record<string, unknown> };
  return Object.keys(schema.shape ?? {});
};
const fieldKeys = (fields: FieldSpec[]): string[] =>
  fields.flatMap((f) =>
    f.kind === 'alternatives' ? (f.alternatives ?? []).map((a) => a.field.key) : [f.key],
  );

describe('node registry', () => {
  it('lists the node types in palette order, the webhook and schedule triggers first', () => {
    expect(NODE_TYPES).toEqual([
      'webhook',
      'schedule',
      'set',
      'if',
      'switch',
      'loop',
      'transform',
      'code',
      'http',
      'webhook_call',
      'subflow',
      'emit',
      'delay',
      'wait',
      'respond',
      'fail',
    ]);
    expect(nodeCatalog().map((e) => e.type)).toEqual(NODE_TYPES);
    expect(
      nodeCatalog()
        .filter((e) => e.trigger)
        .map((e) => e.type),
    ).toEqual(['webhook', 'schedule']);
  });

  it("saves a flow made of every type's initial config (webhook_call and subflow lacking only their endpoint and flow)", () => {
    const nodes = nodeCatalog().map((e) => ({ id: `${e.type}_1`, type: e.type, config: e.initial_config }));
    const r = validateFlowDocument({ name: 'All types', nodes, edges: [] });
    expect(r.ok ? [] : r.problems).toEqual([
      { node: 'webhook_call_1', field: 'config.endpoint_id', msg: expect.any(String) },
      { node: 'subflow_1', field: 'config.flow_id', msg: expect.any(String) },
    ]);
  });

  it('names in its panel fields and summaries only keys its schema knows', () => {
    for (const entry of nodeCatalog()) {
      const keys = shapeKeys(entry.type);
      expect(keys.length, entry.type).toBeGreaterThan(0);
      for (const k of fieldKeys(entry.fields)) expect(keys, `${entry.type} field ${k}`).toContain(k);
      for (const s of entry.summary)
        for (const [, path] of s.matchAll(/\{#?([^}]+)\}/g))
          expect(keys, `${entry.type} summary ${s}`).toContain(path?.split('.')[0]);
      expect(entry.summary.length, entry.type).toBeGreaterThan(0);
      // A type with its own panel has no form; every other type has one.
      expect(entry.panel === null, entry.type).toBe(entry.fields.length > 0);
    }
  });

  it('accepts exactly the out-edges each type offers', () => {
    const edge = (type: string, when?: boolean | string) =>
      validateFlowDocument({
        name: 'Edges',
        nodes: [
          { id: 'webhook_1', type: 'webhook' },
          { id: 'a_1', type, config: nodeCatalog().find((e) => e.type === type)?.initial_config },
          { id: 'set_9', type: 'set', config: { values: {} } },
        ],
        edges: [
          { from: 'webhook_1', to: 'a_1' },
          { from: 'a_1', to: 'set_9', ...(when === undefined ? {} : { when }) },
        ],
      });
    // (webhook_call and subflow start without the endpoint or flow they need.)
    for (const entry of nodeCatalog().filter(
      (e) => !e.trigger && !['webhook_call', 'subflow'].includes(e.type),
    )) {
      const plain = edge(entry.type);
      const bool = edge(entry.type, true);
      const named = edge(entry.type, 'case_1');
      if (entry.terminal) {
        expect(plain.ok, entry.type).toBe(false);
        continue;
      }
      if (entry.edges === 'boolean')
        expect([plain.ok, bool.ok, named.ok], entry.type).toEqual([false, true, false]);
      else if (entry.edges === 'cases')
        expect([plain.ok, bool.ok, named.ok], entry.type).toEqual([false, false, true]);
      else expect(plain.ok, entry.type).toBe(true);
    }
  });
});
