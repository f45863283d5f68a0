/**
 * `subflow` (docs/api.md §4.3): starts a run of another flow of the tenant — from its first webhook
 * node, with `${Webhook::Body}` = `input` and `${Webhook::Method}` = "SUBFLOW" — and, with `wait`
 * (the default), sleeps in the database until that run ends: `steps.<id>` = `{run_id, status, vars,
 * response, error}`; a child that fails (or is cancelled) fails the node.
 *
 * Exactly one child per node and run: the child is inserted by the same write that stores the
 * node's record naming it (the walker's `children`, like `emit`'s events), so a crash leaves both or
 * neither. The child's end wakes the parent (runsStore.writeRunProgress). Nesting is counted on the
 * child's trigger (`subflow_depth`): deeper than SUBFLOW_MAX_DEPTH fails the node.
 */
import { z } from 'zod';
import { newId } from '../../core/ids.ts';
import type { NodeDefinition } from '../types.ts';
import { NodeFailure, render } from '../util.ts';

export const SUBFLOW_MAX_DEPTH = 8;
export const SUBFLOW_METHOD = 'SUBFLOW';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

const schema = z
  .object({
    flow_id: z
      .string()
      .max(100)
      .regex(/^[A-Za-z0-9_-]+$/, 'flow_id names the flow to run: the id (flw_…) of one of this tenant’s flows'),
    input: z.unknown().default({}),
    wait: z.boolean().default(true),
    timeout_ms: z
      .number()
      .int()
      .min(1000)
      .max(7 * 86_400_000)
      .default(300_000),
  })
  .strict();
export type SubflowConfig = z.infer<typeof schema>;

export const subflowNode: NodeDefinition<SubflowConfig> = {
  type: 'subflow',
  catalog: {
    label: 'Run a flow',
    description: 'Starts a run of another flow with an input, and waits for its result',
    category: 'action',
    trigger: false,
    terminal: false,
    edges: 'timeout',
    initial_config: { flow_id: '', input: { value: '${Webhook::Body}' }, wait: true },
    fields: [
      {
        key: 'flow_id',
        label: 'Flow',
        kind: 'flow',
        help: 'It starts from its first webhook node, with the input as its body.',
      },
      {
        key: 'input',
        label: 'Input',
        kind: 'body',
        optional: true,
        default: {},
        help: '${Webhook::Body} of the run it starts; templates are rendered.',
      },
      {
        key: 'wait',
        label: 'Wait for its result',
        kind: 'boolean',
        optional: true,
        default: true,
        help: 'Off: start it and go on at once (steps.<id> is then just {run_id}).',
      },
      {
        key: 'timeout_ms',
        label: 'Give up after (ms)',
        kind: 'number',
        min: 1000,
        max: 7 * 86_400_000,
        optional: true,
        default: 300_000,
        help: 'The node then fails (or takes its "timeout" edges); the run it started goes on.',
      },
    ],
    panel: null,
    summary: ['runs {flow_id}'],
    note: null,
    output: '{run_id, status, vars, response, error}',
  },
  schema,
  flowRefs: (config) => [{ field: 'flow_id', id: config.flow_id }],
  sleeps: true,
  edgeProblem: (e) =>
    e.when === undefined || e.when === 'timeout'
      ? undefined
      : `a subflow node's out-edges are plain, or "when": "timeout" (taken when the run it started did not end in time)`,
  edgeTaken: (e) => e.when !== 'timeout',
  execute: async ({ config, ctx, state, effects, existing, runtime }) => {
    const now = effects.now();
    // Woken: the child was started on an earlier pass (its id is on the waiting record).
    if (existing?.status === 'waiting') {
      const { run_id: runId, until } = existing.output as { run_id: string; until: string };
      const input = existing.input;
      const child = await effects.childRun(state.tenantId, runId);
      if (!child) throw new NodeFailure(`the sub-flow run ${runId} no longer exists`);
      if (FINISHED.has(child.status)) {
        const result = {
          run_id: runId,
          status: child.status,
          vars: child.vars,
          response: child.response,
          error: child.error,
        };
        if (child.status !== 'succeeded')
          throw new NodeFailure(
            `the sub-flow run ${runId} ${child.status}${child.error ? `: ${child.error}` : ''}`,
          );
        return { kind: 'done', input, output: result };
      }
      const untilMs = Date.parse(until);
      if (now >= untilMs)
        throw new NodeFailure(
          `the sub-flow run ${runId} did not end within ${config.timeout_ms} ms (it goes on)`,
          undefined,
          true,
        );
      return { kind: 'sleep', untilMs, input, keep: { run_id: runId } };
    }

    const depth = Number(state.trigger.subflow_depth ?? 0) + 1;
    if (depth > SUBFLOW_MAX_DEPTH)
      throw new NodeFailure(
        `sub-flows nest at most ${SUBFLOW_MAX_DEPTH} deep: this run is already ${depth - 1} sub-flows down`,
      );
    const target = await effects.subflowTarget(state.tenantId, config.flow_id);
    if ('problem' in target) throw new NodeFailure(target.problem);
    const body = await render(config.input, ctx, 'input');
    const json = JSON.stringify(body ?? null);
    const runId = newId('run');
    runtime.children.push({
      id: runId,
      flowId: config.flow_id,
      triggerNodeId: target.triggerNodeId,
      trigger: {
        method: SUBFLOW_METHOD,
        path: '',
        headers: {},
        query: {},
        body: body ?? null,
        body_kind: 'json',
        content_type: 'application/json',
        received_at: new Date(now).toISOString(),
        size_bytes: Buffer.byteLength(json),
        subflow_depth: depth,
        parent: { run_id: state.id, flow_id: state.flowId },
      },
    });
    const input = { flow_id: config.flow_id, flow_name: target.name, run_id: runId, input: body };
    // Not waiting: written (with the child) at once, and the run goes on.
    if (!config.wait) return { kind: 'done', input, output: { run_id: runId }, checkpoint: true };
    return { kind: 'sleep', untilMs: now + config.timeout_ms, input, keep: { run_id: runId } };
  },
};
