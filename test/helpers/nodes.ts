/**
 * For the node modules' tests: a run state with a trigger, the executor's context around a config
 * (parsed by the type's own schema, as on save) and effects that refuse what a test did not give.
 */
import { OutboundClient } from '../../src/delivery/httpClient.ts';
import { createWalker, type EngineEffects, type RunState, templateContext } from '../../src/flows/engine.ts';
import type { NodeContext, NodeDefinition, StepResult } from '../../src/nodes/types.ts';

export function runState(trigger: Partial<RunState['trigger']> = {}): RunState {
  return {
    id: 'run_test',
    tenantId: 'default',
    flowId: 'flw_test',
    triggerNodeId: 'webhook_1',
    trigger: {
      method: 'POST',
      path: '/hooks/default/flw_test',
      headers: {},
      query: {},
      body: {},
      ...trigger,
    },
    nodes: [],
    vars: {},
    flowKey: {},
    startedAtMs: 0,
    waitResponse: false,
    response: null,
  };
}

const refuse = (what: string) => () => {
  throw new Error(`this test gives the node no ${what}`);
};

/** Effects for a test: the clock at `now`, a real SSRF-guarded client allowed only 127.0.0.1. */
export function testEffects(over: Partial<EngineEffects> = {}): EngineEffects {
  const client = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });
  return {
    now: () => Date.parse('2026-12-01T12:00:00Z'),
    http: (req) => client.request(req),
    webhookCall: refuse('outbound endpoint'),
    runCode: refuse('code sandbox'),
    resumeUrl: (_t, runId, nodeId) => `http://127.0.0.1/resume/${runId}/${nodeId}/test-token`,
    resumed: async () => undefined,
    subflowTarget: refuse('flows to start'),
    childRun: refuse('child runs'),
    credential: async () => undefined,
    checkpoint: refuse('checkpoint'),
    ...over,
  };
}

/** Parses the config with the type's schema (throws on a problem: the test is wrong) and runs it. */
export async function runNode(
  def: NodeDefinition,
  config: unknown,
  opts: {
    state?: RunState;
    steps?: Record<string, unknown>;
    effects?: EngineEffects;
    existing?: NodeContext['existing'];
  } = {},
): Promise<{ result: StepResult; state: RunState; events: NodeContext['events'] }> {
  const parsed = def.schema.safeParse(config);
  if (!parsed.success) throw new Error(`invalid ${def.type} config: ${parsed.error.message}`);
  const state = opts.state ?? runState();
  const effects = opts.effects ?? testEffects();
  // (runState starts at epoch 0: no run timeout here.)
  const walker = createWalker(state, effects, Number.POSITIVE_INFINITY);
  const events = walker.events;
  const id = `${def.type}_1`;
  const result = await def.execute({
    node: { id, type: def.type, config: parsed.data },
    config: parsed.data,
    state,
    ctx: templateContext(state, opts.steps ?? {}),
    effects,
    existing: opts.existing,
    events,
    runtime: {
      ...walker,
      checkpoint: () => walker.checkpoint(),
      live: (rec) => {
        const i = state.nodes.findIndex((r) => r.id === id);
        const live = { ...rec, id, type: def.type };
        if (i >= 0) state.nodes[i] = live;
        else state.nodes.push(live);
      },
    },
  });
  return { result, state, events };
}

/** The schema's problems for a config, as `field: message` lines (empty when it is valid). */
export function configProblems(def: NodeDefinition, config: unknown): string[] {
  const parsed = def.schema.safeParse(config);
  const schemaProblems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
  if (!parsed.success) return schemaProblems;
  return (def.validate?.(parsed.data) ?? []).map((p) => `${p.field}: ${p.msg}`);
}
