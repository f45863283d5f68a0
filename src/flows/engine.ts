/**
 * The graph executor: walks a run through its flow's plan, node by node, from where it stands;
 * each node is run by its type's executor in the node registry (src/nodes).
 *
 * Durability model (documented in the README):
 * - Pure nodes (set, if, switch, transform, fail) are re-computed if a run is resumed before its
 *   next checkpoint: their result depends only on what was stored.
 * - A node whose executor asks for a checkpoint (`http`, `webhook_call`, a `respond` with a waiting
 *   sender) is recorded right after it ran: a finished call is never repeated, a call in flight
 *   when a worker dies is made again (at-least-once).
 * - Events (`emit`) are written in the same transaction as the checkpoint or completion that
 *   records the node: exactly-once.
 * - A node that sleeps (`delay`) sleeps in the database (run_at), not in a timer.
 */

import type { FlowEdge, FlowSettings } from '../core/flowDocument.ts';
import type { ExecutionPlan, Graph } from '../core/flowGraph.ts';
import { edgeTaken } from '../core/flowGraph.ts';
import type { TemplateContext } from '../core/templates.ts';
import type { OutboundRequest, OutboundResponse } from '../delivery/httpClient.ts';
import type { CodeJob, CodeResult } from '../nodes/code/sandbox.ts';
import { getNodeDefinition } from '../nodes/index.ts';
import { NodeFailure } from '../nodes/util.ts';
import type { ResumeRequest } from './runsStore.ts';

export type NodeStatus = 'succeeded' | 'failed' | 'skipped' | 'waiting';

/** One attempt of a node that failed at least once (docs/api.md §4.2); `error` null: it succeeded. */
export type NodeAttempt = { started_at: string; finished_at: string; error: string | null };

export type NodeRecord = {
  id: string;
  type: string;
  status: NodeStatus;
  started_at?: string;
  finished_at?: string;
  input?: unknown;
  output?: unknown;
  error?: string | null;
  /** Every attempt so far, when one failed (a node with `retry`, or one whose failure was handled). */
  attempts?: NodeAttempt[];
  /** `retry`: the node is waiting for its next attempt (not for its own timer). */
  wait?: 'retry';
  /**
   * A failure the flow handled: `on_error` continue (the normal edges) or branch (the error edges),
   * or a timeout taken by the node's `"when": "timeout"` edges.
   */
  handled?: 'continue' | 'branch' | 'timeout';
  /** What a code node's console printed. */
  logs?: string[];
  /** A loop's items that started, in item order: each with its body's node records. */
  iterations?: LoopIteration[];
};

/** One item of a loop (docs/api.md §4.2): its body's records, and its result until the loop ends. */
export type LoopIteration = {
  index: number;
  status: 'running' | 'waiting' | 'succeeded' | 'failed';
  started_at: string;
  finished_at?: string;
  error?: string | null;
  /** The item's result, kept while the loop runs (then in the loop's output.results). */
  result?: unknown;
  nodes: NodeRecord[];
};

export type RunResponse = { status: number; headers: Record<string, string>; body: string };

export type PendingEvent = {
  id: string;
  event_type: string;
  data: unknown;
  context: Record<string, unknown>;
};

export type StoredTrigger = {
  method?: string;
  path?: string;
  headers?: Record<string, string | string[] | undefined>;
  query?: Record<string, unknown>;
  body?: unknown;
  [k: string]: unknown;
};

export type RunState = {
  id: string;
  tenantId: string;
  flowId: string;
  triggerNodeId: string;
  trigger: StoredTrigger;
  nodes: NodeRecord[];
  vars: Record<string, unknown>;
  flowKey: Record<string, unknown>;
  startedAtMs: number;
  waitResponse: boolean;
  response: RunResponse | null;
  /** A test or replay run (docs/api.md §3.13–§3.14): its side effects are held back. */
  mode?: 'test' | 'replay' | null;
  /** A replay run: its replay and the original run it runs again (its children inherit both). */
  replay?: { id: string | null; of: string | null };
};

export type FlowForRun = {
  id: string;
  name: string;
  /** The version of the flow this is (docs/api.md §3.11); of a draft, the version it was based on. */
  version: number;
  /** A draft's revision (docs/api.md §3.12): the run records it, not a version. */
  draftRevision?: number;
  settings: FlowSettings;
  plan: ExecutionPlan;
  /** Outgoing edges by source node, for switch defaults. */
  outgoing: Map<string, import('../core/flowDocument.ts').FlowEdge[]>;
};

/** A run a subflow node starts (docs/api.md §4.3): inserted with the parent's next write. */
export type ChildRun = {
  id: string;
  flowId: string;
  triggerNodeId: string;
  trigger: Record<string, unknown>;
};

/** What a subflow node needs of the flow it starts: its trigger, or why it cannot start. */
export type SubflowTarget = { triggerNodeId: string; name: string } | { problem: string };

/** A child run as its parent's subflow node sees it. */
export type ChildRunState = {
  status: string;
  vars: Record<string, unknown>;
  response: unknown;
  error: string | null;
};

export type WebhookCallRequest = {
  endpointId: string;
  methodName?: string;
  params: Record<string, unknown>;
  runId: string;
  flowId: string;
  nodeId: string;
};

export type EngineEffects = {
  now(): number;
  /**
   * A replay run (docs/api.md §3.14): calls are answered from the original run's records, a delay
   * does not sleep, a wait gets the original's call or gives up at once.
   */
  replay?: boolean;
  http(request: OutboundRequest): Promise<OutboundResponse>;
  webhookCall(tenantId: string, call: WebhookCallRequest): Promise<OutboundResponse>;
  credential(
    tenantId: string,
    id: string,
  ): Promise<{ type: string; data: Record<string, unknown> } | undefined>;
  /** A wait node's resume URL in this run (docs/api.md §4.7). */
  resumeUrl(tenantId: string, runId: string, nodeId: string): string;
  /** The callback stored for a wait node of this run, if one came. */
  resumed(tenantId: string, runId: string, nodeId: string): Promise<ResumeRequest | undefined>;
  /** Runs a code node's JavaScript in the sandbox (src/nodes/code/sandbox.ts); never rejects. */
  runCode(tenantId: string, job: CodeJob): Promise<CodeResult>;
  /** The flow a subflow node starts: its first webhook node, if it can be started. */
  subflowTarget(tenantId: string, flowId: string): Promise<SubflowTarget>;
  /** A child run's state (undefined: it is gone). */
  childRun(tenantId: string, runId: string): Promise<ChildRunState | undefined>;
  /**
   * Persists progress — the run as it stood when the write began, with the events and child runs
   * gathered since the last — in one transaction; false when the run is no longer this worker's.
   */
  checkpoint(
    state: RunState,
    opts: { events: PendingEvent[]; children: ChildRun[]; sleepUntilMs?: number },
  ): Promise<boolean>;
};

export type Outcome =
  | { kind: 'finished'; status: 'succeeded' | 'failed'; error: string | null; events: PendingEvent[] }
  | { kind: 'sleeping' }
  | { kind: 'abandoned' };

export function templateContext(state: RunState, steps: Record<string, unknown>): TemplateContext {
  const t = state.trigger;
  return {
    Webhook: {
      Body: t.body,
      Headers: t.headers,
      Query: t.query,
      Method: t.method,
      Path: t.path,
    },
    flow: { id: state.flowId, key: state.flowKey },
    vars: state.vars,
    steps,
    run: { id: state.id },
    tenant: { id: state.tenantId },
    // A schedule's tick (docs/api.md §4.8): `${Schedule.time}`, `${Schedule.cron}`.
    ...(t.method === 'SCHEDULE' ? { Schedule: t.body as TemplateContext['Schedule'] } : {}),
  };
}

export async function advanceRun(
  flow: FlowForRun,
  state: RunState,
  effects: EngineEffects,
): Promise<Outcome> {
  const ctx = templateContext(state, {});
  // `${resume.<wait id>}` in every template of the run, before the wait too (an http node sends it).
  const waits = flow.plan.order.filter((n) => n.type === 'wait');
  if (waits.length)
    ctx.resume = Object.fromEntries(
      waits.map((n) => [n.id, effects.resumeUrl(state.tenantId, state.id, n.id)]),
    );
  const walker = createWalker(state, effects, flow.settings.timeout_ms);
  const graph: Graph = {
    order: flow.plan.order,
    incoming: flow.plan.incoming,
    outgoing: flow.outgoing,
    roots: new Set([state.triggerNodeId]),
  };
  const result = await walker.walk(graph, state.nodes, ctx);
  if (result.kind === 'abandoned') return result;
  if (result.kind === 'sleep')
    return (await walker.checkpoint(result.untilMs)) ? { kind: 'sleeping' } : { kind: 'abandoned' };
  // Child runs still to start are written first; checkpoints being written finish before the completion.
  if (walker.children.length && !(await walker.checkpoint())) return { kind: 'abandoned' };
  if (!(await walker.settled())) return { kind: 'abandoned' };
  return { kind: 'finished', status: result.status, error: result.error, events: walker.events };
}

/**
 * The walker of one pass of a run: its checkpoints (one at a time — a loop's items may ask for one
 * together — each persisting the run as it then stands, with the events gathered since the last),
 * its timeout, and walks of its graphs.
 */
export function createWalker(
  state: RunState,
  effects: EngineEffects,
  timeoutMs: number,
): Walker & { checkpoint(sleepUntilMs?: number): Promise<boolean>; settled(): Promise<boolean> } {
  const events: PendingEvent[] = [];
  const children: ChildRun[] = [];
  let last: Promise<boolean> = Promise.resolve(true);
  /** A checkpoint waiting for the one being written: it will persist the run as it then stands. */
  let queued: Promise<boolean> | null = null;
  const checkpoint = (sleepUntilMs?: number) => {
    // Items asking together share the next write (it captures all of their progress).
    if (sleepUntilMs === undefined && queued) return queued;
    const next: Promise<boolean> = last.then((ok) => {
      if (queued === next) queued = null;
      if (!ok) return false;
      // The run as it stands now, with what it gathered: a loop's other items go on meanwhile, and
      // the write must hold the records that name these events and child runs, not later ones.
      const snapshot: RunState = {
        ...state,
        nodes: structuredClone(state.nodes),
        vars: structuredClone(state.vars),
        flowKey: structuredClone(state.flowKey),
      };
      return effects.checkpoint(snapshot, {
        events: events.splice(0),
        children: children.splice(0),
        sleepUntilMs,
      });
    });
    if (sleepUntilMs === undefined) queued = next;
    last = next;
    return next;
  };
  const timedOut = () => {
    const nowMs = effects.now();
    return nowMs - state.startedAtMs - timeAsleep(state.nodes, nowMs) > timeoutMs
      ? `The run exceeded its timeout of ${timeoutMs} ms`
      : null;
  };
  const walker = {
    state,
    effects,
    events,
    children,
    checkpoint,
    timedOut,
    settled: () => last,
    walk: (graph: Graph, records: NodeRecord[], ctx: TemplateContext): Promise<WalkResult> =>
      walkGraph({ ...walker, checkpoint: () => checkpoint(), graph, records, ctx }),
  };
  return walker;
}

/** How one pass of a graph (the flow's, or a loop body's for one item) ended. */
export type WalkResult =
  | { kind: 'finished'; status: 'succeeded' | 'failed'; error: string | null }
  | { kind: 'sleep'; untilMs: number }
  | { kind: 'abandoned' };

/** What a walk (and a node with a body) needs from the run around it. */
export type Walker = {
  state: RunState;
  effects: EngineEffects;
  /** Events to publish with the next checkpoint or the completion (emit). */
  events: PendingEvent[];
  /** Runs to start with the next checkpoint (subflow): the node's record and its child, one write. */
  children: ChildRun[];
  /** Persists the whole run as it stands (one at a time); false when the run is no longer ours. */
  checkpoint(): Promise<boolean>;
  /** The run's timeout message when its active time is up, else null. */
  timedOut(): string | null;
  /** Walks a graph over live records (mutated in place) with a template context of its own. */
  walk(graph: Graph, records: NodeRecord[], ctx: TemplateContext): Promise<WalkResult>;
};

/**
 * Walks a graph from where its records stand, node by node: skips what is done, runs what is
 * active (a root, or reached by an edge that carries control), records each result in `records`
 * and its value in `ctx.steps`. Stops at the first unhandled failure, at a sleep (the caller
 * persists it), or when the run is no longer this worker's.
 */
async function walkGraph(
  w: Walker & { graph: Graph; records: NodeRecord[]; ctx: TemplateContext },
): Promise<WalkResult> {
  const { graph, ctx, effects } = w;
  const steps = ctx.steps as Record<string, unknown>;
  const records = new Map(w.records.map((r) => [r.id, r]));
  const stepValue = (r: NodeRecord) => {
    if (r.status === 'succeeded') steps[r.id] = r.output;
    else if (r.status === 'failed' && r.handled) {
      // A handled failure: `${steps.<id>.error}`; on an error branch also `${error.message}`.
      steps[r.id] = { error: r.error };
      if (r.handled === 'branch') ctx.error = { message: r.error ?? '', node_id: r.id };
    }
  };
  for (const r of w.records) stepValue(r);
  const byId = new Map(graph.order.map((n) => [n.id, n]));
  /** Whether an edge carries control: success takes the normal edges, a handled failure its own. */
  const carries = (e: FlowEdge) => {
    const src = records.get(e.from);
    if (!src) return false;
    const isErrorEdge = e.when === 'error' && byId.get(e.from)?.on_error === 'branch';
    if (src.status === 'failed' && src.handled === 'timeout') return e.when === 'timeout';
    if (src.status === 'failed' && src.handled === 'branch') return isErrorEdge;
    if (src.status !== 'succeeded' && !(src.status === 'failed' && src.handled === 'continue')) return false;
    if (isErrorEdge) return false;
    const siblings = (graph.outgoing.get(e.from) ?? []).filter((s) => !(s.when === 'error' && isErrorEdge));
    return edgeTaken(e, src, siblings);
  };
  const iso = (ms: number) => new Date(ms).toISOString();
  const put = (rec: NodeRecord) => {
    records.set(rec.id, rec);
    const i = w.records.findIndex((r) => r.id === rec.id);
    if (i >= 0) w.records[i] = rec;
    else w.records.push(rec);
    stepValue(rec);
  };
  const failed = (error: string): WalkResult => ({ kind: 'finished', status: 'failed', error });

  for (const node of graph.order) {
    const existing = records.get(node.id);
    if (existing && existing.status !== 'waiting') continue;
    const timeout = w.timedOut();
    if (timeout) return failed(timeout);

    const definition = getNodeDefinition(node.type);
    const incoming = graph.incoming.get(node.id) ?? [];
    if (!graph.roots.has(node.id) && !incoming.some(carries)) {
      put({ id: node.id, type: node.type, status: 'skipped' });
      continue;
    }
    const startedMs = effects.now();
    // Woken before its next attempt is due (another of a loop's items woke the run): sleep on.
    if (existing?.wait === 'retry') {
      const retryAt = Date.parse(String((existing.output as { retry_at?: string } | undefined)?.retry_at));
      if (retryAt > startedMs) return { kind: 'sleep', untilMs: retryAt };
    }

    try {
      if (!definition) throw new Error(`unknown node type "${node.type}"`);
      const step = await definition.execute({
        node,
        config: node.config ?? {},
        state: w.state,
        ctx,
        effects,
        // Waiting for a retry is not the node's own wait (a delay's timer): the attempt starts afresh.
        existing: existing?.wait === 'retry' ? undefined : existing,
        events: w.events,
        runtime: {
          ...w,
          live: (rec) => put({ ...rec, id: node.id, type: node.type }),
        },
      });
      const finishedMs = effects.now();
      if (step.kind === 'abandoned') return step;
      if (step.kind === 'sleep') {
        put({
          id: node.id,
          type: node.type,
          status: 'waiting',
          started_at: existing?.started_at ?? iso(startedMs),
          input: step.input,
          output: { ...step.keep, until: iso(step.untilMs) },
          ...(step.iterations ? { iterations: step.iterations } : {}),
        });
        return { kind: 'sleep', untilMs: step.untilMs };
      }
      if (step.kind === 'fail') {
        put({
          id: node.id,
          type: node.type,
          status: 'failed',
          started_at: iso(startedMs),
          finished_at: iso(finishedMs),
          input: step.input,
          error: step.message,
        });
        return failed(step.message);
      }
      put({
        id: node.id,
        type: node.type,
        status: 'succeeded',
        started_at: existing?.started_at ?? iso(startedMs),
        finished_at: iso(finishedMs),
        input: step.input,
        output: step.output,
        ...(step.logs?.length ? { logs: step.logs } : {}),
        ...(step.iterations ? { iterations: step.iterations } : {}),
        ...(existing?.attempts?.length
          ? {
              attempts: [
                ...existing.attempts,
                { started_at: iso(startedMs), finished_at: iso(finishedMs), error: null },
              ],
            }
          : {}),
      });
      if (step.checkpoint && !(await w.checkpoint())) return { kind: 'abandoned' };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const extra = {
        ...(err instanceof NodeFailure && err.record?.input !== undefined ? { input: err.record.input } : {}),
        ...(err instanceof NodeFailure && err.record?.output !== undefined
          ? { output: err.record.output }
          : {}),
        ...(err instanceof NodeFailure && err.record?.logs?.length ? { logs: err.record.logs } : {}),
        ...(err instanceof NodeFailure && err.record?.iterations
          ? { iterations: err.record.iterations }
          : {}),
      };
      const nowMs = effects.now();
      const attempts = [
        ...(existing?.attempts ?? []),
        { started_at: iso(startedMs), finished_at: iso(nowMs), error: message },
      ];
      const retry = node.retry;
      if (retry && attempts.length < retry.max_attempts) {
        // Back off durably, like a delay: the run sleeps in the database until the next attempt.
        const backoff = Math.min(
          retry.max_backoff_ms,
          retry.backoff_ms * retry.factor ** (attempts.length - 1),
        );
        put({
          id: node.id,
          type: node.type,
          status: 'waiting',
          started_at: existing?.started_at ?? iso(startedMs),
          error: message,
          attempts,
          wait: 'retry',
          output: { retry_at: iso(nowMs + backoff) },
        });
        return { kind: 'sleep', untilMs: nowMs + backoff };
      }
      // A timeout (wait) with `"when": "timeout"` edges takes them, whatever on_error says.
      if (
        err instanceof NodeFailure &&
        err.timeout &&
        (graph.outgoing.get(node.id) ?? []).some((e) => e.when === 'timeout')
      ) {
        put({
          id: node.id,
          type: node.type,
          status: 'failed',
          started_at: existing?.started_at ?? iso(startedMs),
          finished_at: iso(nowMs),
          error: message,
          ...(retry ? { attempts } : {}),
          handled: 'timeout',
        });
        if (!(await w.checkpoint())) return { kind: 'abandoned' };
        continue;
      }
      const onError = node.on_error ?? 'fail';
      put({
        id: node.id,
        type: node.type,
        status: 'failed',
        started_at: existing?.started_at ?? iso(startedMs),
        finished_at: iso(nowMs),
        error: message,
        ...extra,
        ...(retry || onError !== 'fail' ? { attempts } : {}),
        ...(onError !== 'fail' ? { handled: onError } : {}),
      });
      if (onError === 'fail') return failed(`Node ${node.id} (${node.type}) failed: ${message}`);
      // Handled: recorded at once, so a resumed run does not repeat the node's attempts.
      if (!(await w.checkpoint())) return { kind: 'abandoned' };
    }
  }
  return { kind: 'finished', status: 'succeeded', error: null };
}

/**
 * Time a run spent asleep in nodes that sleep (delay): `timeout_ms` bounds a run's active time, so a flow may
 * wait for days in a delay without timing out.
 */
function timeAsleep(nodes: NodeRecord[], nowMs: number): number {
  let total = 0;
  for (const n of nodes) {
    if (!n.started_at) continue;
    if (n.iterations) {
      // A loop: its items' sleeps (overlapping ones, of items run side by side, counted once each,
      // but never more than the loop's own time).
      let asleep = 0;
      for (const it of n.iterations) asleep += timeAsleep(it.nodes, nowMs);
      const end = n.finished_at ? Date.parse(n.finished_at) : nowMs;
      total += Math.min(asleep, Math.max(0, end - Date.parse(n.started_at)));
      continue;
    }
    if (getNodeDefinition(n.type)?.sleeps) {
      const from = Date.parse(n.started_at);
      if (n.status === 'succeeded' && n.finished_at) total += Date.parse(n.finished_at) - from;
      // Until it resumes: the wait for a worker after waking is not the run's active time either.
      else if (n.status === 'waiting') total += nowMs - from;
      continue;
    }
    // The back-off between a node's attempts, and since its last failed attempt while it waits.
    const attempts = n.attempts ?? [];
    for (let i = 1; i < attempts.length; i++)
      total += Date.parse(attempts[i]!.started_at) - Date.parse(attempts[i - 1]!.finished_at);
    const last = attempts.at(-1);
    if (last && n.status === 'waiting' && n.wait === 'retry') total += nowMs - Date.parse(last.finished_at);
  }
  return Math.max(0, total);
}
