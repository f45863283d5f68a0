/**
 * `loop` (docs/api.md §4.3): runs its body — a graph of nodes of its own — once per item of a list,
 * up to `concurrency` items at a time, and gathers one result per item, in item order.
 *
 * Durability: each item's body records are kept on the loop's record (`iterations`) and walked from
 * where they stand, like the flow's own nodes: a body node that calls out is checkpointed right after
 * it ran, so a resumed run never repeats a finished call; a finished item is persisted at the latest
 * CHECKPOINT_EVERY_MS after it ended, and an item finished before a crash is not run again (one that
 * ended in those last moments is re-computed from stored data only — its calls were recorded). A body
 * that sleeps (a delay, a retry's back-off) puts the whole run to sleep once the items in flight have
 * stopped; on waking, finished items are skipped and sleeping ones go on.
 */
import { z } from 'zod';
import type { FlowNode } from '../../core/flowDocument.ts';
import { type Graph, planBody } from '../../core/flowGraph.ts';
import type { TemplateContext } from '../../core/templates.ts';
import type { LoopIteration } from '../../flows/engine.ts';
import type { NodeDefinition } from '../types.ts';
import { NodeFailure, render, templateString } from '../util.ts';

/** A finished item is persisted at the latest this long after it ended (sooner by a body's own checkpoint). */
const CHECKPOINT_EVERY_MS = 500;

const schema = z
  .object({
    items: templateString.min(1, 'items is a template that gives a list, like ${Webhook::Body.items}'),
    concurrency: z.number().int().min(1).max(50).default(1),
    nodes: z.array(z.unknown()).max(200).default([]),
    edges: z.array(z.unknown()).max(1000).default([]),
    result: templateString.optional(),
    on_item_error: z.enum(['fail', 'continue']).default('fail'),
    max_items: z.number().int().min(1).max(100_000).default(10_000),
  })
  .strict();
export type LoopConfig = Omit<z.infer<typeof schema>, 'nodes'> & { nodes: unknown[] };

/** Body plans, by config (a flow's config objects live as long as its cached plan). */
const plans = new WeakMap<object, Graph>();
function bodyPlan(config: LoopConfig): Graph {
  let plan = plans.get(config);
  if (!plan) {
    plan = planBody({ nodes: config.nodes as FlowNode[], edges: config.edges as never });
    plans.set(config, plan);
  }
  return plan;
}

const describe = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

export const loopNode: NodeDefinition<LoopConfig> = {
  type: 'loop',
  catalog: {
    label: 'Loop',
    description: 'Runs the nodes inside it once per item of a list',
    category: 'logic',
    trigger: false,
    terminal: false,
    container: true,
    edges: 'plain',
    initial_config: {
      items: '${Webhook::Body.items}',
      concurrency: 1,
      nodes: [],
      edges: [],
      on_item_error: 'fail',
    },
    fields: [
      {
        key: 'items',
        label: 'Items',
        kind: 'template',
        placeholder: '${Webhook::Body.items}',
        help: 'A template that gives a list. Inside the loop, ${loop.item} is the item and ${loop.index} its position (from 0).',
      },
      {
        key: 'concurrency',
        label: 'Items at a time',
        kind: 'number',
        min: 1,
        max: 50,
        optional: true,
        default: 1,
        help: 'Results stay in item order whatever this is.',
      },
      {
        key: 'result',
        label: 'Result per item',
        kind: 'template',
        optional: true,
        placeholder: '${steps.http_2.body}',
        help: "Rendered after each item's nodes ran (their ${steps.<id>} are the item's). Empty: the last node's output.",
      },
      {
        key: 'on_item_error',
        label: 'When an item fails',
        kind: 'select',
        options: [
          { value: 'fail', label: 'Fail the loop' },
          { value: 'continue', label: 'Go on (its result is {"error": "…"})' },
        ],
      },
      {
        key: 'max_items',
        label: 'At most',
        kind: 'number',
        min: 1,
        max: 100_000,
        optional: true,
        default: 10_000,
        help: 'More items than this fail the node.',
      },
    ],
    panel: null,
    summary: ['each of {items}, {concurrency} at a time', 'each of {items}'],
    note: 'Add nodes inside the loop to run them per item; a body cannot hold triggers or respond.',
    output: '{results: [one per item, in item order], count, failed}',
  },
  schema: schema as unknown as z.ZodType<LoopConfig>,
  // The body's nodes are checked (templates included) by their own types, as a graph (flowDocument).
  notTemplates: ['nodes', 'edges'],
  body: (config) => ({ nodes: config.nodes ?? [], edges: config.edges ?? [] }),
  execute: async ({ config, ctx, effects, existing, runtime }) => {
    const items = await render(config.items, ctx, 'items');
    if (!Array.isArray(items)) throw new NodeFailure(`items: expected a list, got ${describe(items)}`);
    if (items.length > config.max_items)
      throw new NodeFailure(`items: ${items.length} items, more than max_items (${config.max_items})`);
    const iso = (ms: number) => new Date(ms).toISOString();
    const input = { count: items.length };
    const graph = bodyPlan(config);

    // The loop's record, in the run while it works: a checkpoint (a body's call, a finished item)
    // persists every item's progress.
    const iterations: LoopIteration[] = existing?.status === 'waiting' ? (existing.iterations ?? []) : [];
    const byIndex = new Map(iterations.map((it) => [it.index, it]));
    runtime.live({
      status: 'waiting',
      started_at: existing?.started_at ?? iso(effects.now()),
      input,
      iterations,
    });

    const todo: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const s = byIndex.get(i)?.status;
      if (s !== 'succeeded' && s !== 'failed') todo.push(i);
    }
    let stop: 'sleep' | 'fail' | 'abandoned' | undefined;
    let wakeAt = Number.POSITIVE_INFINITY;
    let failure: string | undefined;
    let lastCheckpoint = effects.now();

    const runItem = async (index: number) => {
      let it = byIndex.get(index);
      if (!it) {
        it = { index, status: 'running', started_at: iso(effects.now()), nodes: [] };
        byIndex.set(index, it);
        // Kept in item order.
        let at = iterations.length;
        while (at > 0 && iterations[at - 1]!.index > index) at--;
        iterations.splice(at, 0, it);
      } else it.status = 'running';
      const steps = { ...(ctx.steps ?? {}) };
      const itemCtx: TemplateContext = {
        ...ctx,
        steps,
        loop: { item: items[index], index, ...(ctx.loop ? { parent: ctx.loop } : {}) },
      };
      const walked = await runtime.walk(graph, it.nodes, itemCtx);
      if (walked.kind === 'abandoned') {
        stop = 'abandoned';
        return;
      }
      if (walked.kind === 'sleep') {
        it.status = 'waiting';
        wakeAt = Math.min(wakeAt, walked.untilMs);
        stop ??= 'sleep';
        return;
      }
      let error = walked.error;
      if (walked.status === 'succeeded') {
        try {
          it.result = await itemResult(config, graph, it, itemCtx);
        } catch (err) {
          error = (err as Error).message;
        }
      }
      it.finished_at = iso(effects.now());
      if (walked.status === 'succeeded' && error === null) it.status = 'succeeded';
      else {
        it.status = 'failed';
        it.error = error;
        delete it.result;
        if (config.on_item_error === 'fail') {
          failure ??= `item ${index} failed: ${error}`;
          stop = stop === 'abandoned' ? stop : 'fail';
          return;
        }
      }
      if (effects.now() - lastCheckpoint >= CHECKPOINT_EVERY_MS) {
        lastCheckpoint = effects.now();
        if (!(await runtime.checkpoint())) stop = 'abandoned';
      }
    };

    let cursor = 0;
    const lane = async () => {
      while (stop === undefined && cursor < todo.length) await runItem(todo[cursor++]!);
    };
    await Promise.all(Array.from({ length: Math.min(config.concurrency, todo.length) }, lane));

    if (stop === 'abandoned') return { kind: 'abandoned' };
    if (stop === 'fail') throw new NodeFailure(failure!, { iterations });
    if (stop === 'sleep') return { kind: 'sleep', untilMs: wakeAt, input, iterations };
    let failed = 0;
    const results = iterations.map((it) => {
      if (it.status === 'failed') {
        failed++;
        return { error: it.error };
      }
      const r = it.result;
      delete it.result;
      return r ?? null;
    });
    return { kind: 'done', input, output: { results, count: items.length, failed }, iterations };
  },
};

/** An item's result: `result` rendered in the item's context, else its last body node's output. */
async function itemResult(
  config: LoopConfig,
  graph: Graph,
  it: LoopIteration,
  itemCtx: TemplateContext,
): Promise<unknown> {
  if (config.result !== undefined && config.result !== '') return render(config.result, itemCtx, 'result');
  if (graph.order.length === 0) return itemCtx.loop?.item ?? null;
  const byId = new Map(it.nodes.map((r) => [r.id, r]));
  for (let i = graph.order.length - 1; i >= 0; i--) {
    const rec = byId.get(graph.order[i]!.id);
    if (rec?.status === 'succeeded') return rec.output ?? null;
  }
  return null;
}
