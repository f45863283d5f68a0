/**
 * The graph executor: walks a run through its flow's plan, node by node, from where it stands.
 *
 * Durability model (documented in the README):
 * - Pure nodes (set, if, switch, transform, fail) are re-computed if a run is resumed before its
 *   next checkpoint: their result depends only on what was stored.
 * - `http` and `webhook_call` are at-least-once: the result is checkpointed right after the call,
 *   so a finished call is never repeated, but a call in flight when a worker dies is made again.
 * - `emit` is exactly-once: its event is written in the same transaction as the checkpoint or
 *   completion that records the node.
 * - `delay` is durable: the run sleeps in the database (run_at), not in a timer.
 * - `respond` is checkpointed at once when a sender is waiting, so the answer leaves immediately.
 */

import type { FlowNode, FlowSettings } from '../core/flowDocument.ts';
import type { ExecutionPlan } from '../core/flowGraph.ts';
import { edgeTaken } from '../core/flowGraph.ts';
import { newId } from '../core/ids.ts';
import { parsePath, setPath } from '../core/paths.ts';
import { compileTemplate, renderDeep, renderTemplate, type TemplateContext } from '../core/templates.ts';
import { signHmac } from '../core/verify/index.ts';
import { applyEndpointAuth } from '../delivery/endpoints/outbound.ts';
import type { ResolvedEndpointAuth } from '../delivery/endpoints/store.ts';
import type { OutboundRequest, OutboundResponse } from '../delivery/httpClient.ts';

export type NodeStatus = 'succeeded' | 'failed' | 'skipped' | 'waiting';

export type NodeRecord = {
  id: string;
  type: string;
  status: NodeStatus;
  started_at?: string;
  finished_at?: string;
  input?: unknown;
  output?: unknown;
  error?: string | null;
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
};

export type FlowForRun = {
  id: string;
  name: string;
  settings: FlowSettings;
  plan: ExecutionPlan;
  /** Outgoing edges by source node, for switch defaults. */
  outgoing: Map<string, import('../core/flowDocument.ts').FlowEdge[]>;
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
  http(request: OutboundRequest): Promise<OutboundResponse>;
  webhookCall(tenantId: string, call: WebhookCallRequest): Promise<OutboundResponse>;
  credential(
    tenantId: string,
    id: string,
  ): Promise<{ type: string; data: Record<string, unknown> } | undefined>;
  /** Persists progress; false when the run is no longer this worker's (cancelled, lease lost). */
  checkpoint(state: RunState, opts: { events: PendingEvent[]; sleepUntilMs?: number }): Promise<boolean>;
};

export type Outcome =
  | { kind: 'finished'; status: 'succeeded' | 'failed'; error: string | null; events: PendingEvent[] }
  | { kind: 'sleeping' }
  | { kind: 'abandoned' };

class NodeFailure extends Error {}

const FALSY_STRINGS = new Set(['', 'false', '0', 'no', 'off', 'null', 'undefined']);

/** Truthiness of an `if` condition: JS truthiness, except that text like "false" or "0" is false. */
export function isTruthy(v: unknown): boolean {
  if (typeof v === 'string') return !FALSY_STRINGS.has(v.trim().toLowerCase());
  return Boolean(v);
}

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
  };
}

export async function advanceRun(
  flow: FlowForRun,
  state: RunState,
  effects: EngineEffects,
): Promise<Outcome> {
  const records = new Map(state.nodes.map((r) => [r.id, r]));
  const steps: Record<string, unknown> = {};
  for (const r of state.nodes) if (r.status === 'succeeded') steps[r.id] = r.output;
  const ctx = templateContext(state, steps);
  const events: PendingEvent[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();

  const put = (rec: NodeRecord) => {
    records.set(rec.id, rec);
    const i = state.nodes.findIndex((r) => r.id === rec.id);
    if (i >= 0) state.nodes[i] = rec;
    else state.nodes.push(rec);
    if (rec.status === 'succeeded') steps[rec.id] = rec.output;
  };
  const checkpoint = async (sleepUntilMs?: number) => {
    const ok = await effects.checkpoint(state, { events: events.splice(0), sleepUntilMs });
    return ok;
  };
  const finish = (status: 'succeeded' | 'failed', error: string | null): Outcome => ({
    kind: 'finished',
    status,
    error,
    events,
  });

  for (const node of flow.plan.order) {
    const existing = records.get(node.id);
    if (existing && existing.status !== 'waiting') continue;
    const startedMs = effects.now();
    if (startedMs - state.startedAtMs - timeAsleep(state.nodes, startedMs) > flow.settings.timeout_ms)
      return finish('failed', `The run exceeded its timeout of ${flow.settings.timeout_ms} ms`);

    if (node.id === state.triggerNodeId) {
      put({
        id: node.id,
        type: node.type,
        status: 'succeeded',
        started_at: iso(startedMs),
        finished_at: iso(startedMs),
        output: { method: state.trigger.method, path: state.trigger.path },
      });
      continue;
    }
    const incoming = flow.plan.incoming.get(node.id) ?? [];
    const active = incoming.some((e) => {
      const src = records.get(e.from);
      return src?.status === 'succeeded' && edgeTaken(e, src, flow.outgoing.get(e.from) ?? []);
    });
    if (!active) {
      put({ id: node.id, type: node.type, status: 'skipped' });
      continue;
    }

    try {
      const step = await executeNode(node, state, ctx, effects, existing, events);
      const finishedMs = effects.now();
      if (step.kind === 'sleep') {
        put({
          id: node.id,
          type: node.type,
          status: 'waiting',
          started_at: existing?.started_at ?? iso(startedMs),
          input: step.input,
          output: { until: iso(step.untilMs) },
        });
        return (await checkpoint(step.untilMs)) ? { kind: 'sleeping' } : { kind: 'abandoned' };
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
        return finish('failed', step.message);
      }
      put({
        id: node.id,
        type: node.type,
        status: 'succeeded',
        started_at: existing?.started_at ?? iso(startedMs),
        finished_at: iso(finishedMs),
        input: step.input,
        output: step.output,
      });
      if (step.checkpoint && !(await checkpoint())) return { kind: 'abandoned' };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      put({
        id: node.id,
        type: node.type,
        status: 'failed',
        started_at: iso(startedMs),
        finished_at: iso(effects.now()),
        error: message,
      });
      return finish('failed', `Node ${node.id} (${node.type}) failed: ${message}`);
    }
  }
  return finish('succeeded', null);
}

/**
 * Time a run spent asleep in delay nodes: `timeout_ms` bounds a run's active time, so a flow may
 * wait for days in a delay without timing out.
 */
function timeAsleep(nodes: NodeRecord[], nowMs: number): number {
  let total = 0;
  for (const n of nodes) {
    if (n.type !== 'delay' || !n.started_at) continue;
    const from = Date.parse(n.started_at);
    if (n.status === 'succeeded' && n.finished_at) total += Date.parse(n.finished_at) - from;
    // Until it resumes: the wait for a worker after waking is not the run's active time either.
    else if (n.status === 'waiting') total += nowMs - from;
  }
  return Math.max(0, total);
}

type StepResult =
  | { kind: 'done'; input?: unknown; output?: unknown; checkpoint?: boolean }
  | { kind: 'sleep'; input?: unknown; untilMs: number }
  | { kind: 'fail'; input?: unknown; message: string };

async function render(
  value: unknown,
  ctx: TemplateContext,
  _node: FlowNode,
  field: string,
): Promise<unknown> {
  try {
    return await renderDeep(value, ctx);
  } catch (err) {
    throw new NodeFailure(`${field}: ${(err as Error).message}`);
  }
}

function assign(state: RunState, target: string, value: unknown): void {
  const parsed = parsePath(target);
  if (!parsed.ok || parsed.segments.length < 2) throw new NodeFailure(`cannot assign to "${target}"`);
  const [first, second, ...rest] = parsed.segments;
  if (first === 'vars') setPath(state.vars, [second, ...rest], value);
  else if (first === 'flow' && second === 'key' && rest.length) setPath(state.flowKey, rest, value);
  else throw new NodeFailure(`cannot assign to "${target}": use vars.<name> or flow.key.<name>`);
}

function toBody(value: unknown, headers: Record<string, string>): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
    headers['content-type'] = 'application/json';
  return JSON.stringify(value);
}

function parseResponseBody(res: OutboundResponse): unknown {
  const text = res.body.toString('utf8');
  if (/\bjson\b/i.test(res.headers['content-type'] ?? '')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

async function executeNode(
  node: FlowNode,
  state: RunState,
  ctx: TemplateContext,
  effects: EngineEffects,
  existing: NodeRecord | undefined,
  events: PendingEvent[],
): Promise<StepResult> {
  const cfg = node.config ?? {};
  switch (node.type) {
    case 'set': {
      const assigned: Record<string, unknown> = {};
      for (const [target, template] of Object.entries(cfg.values as Record<string, unknown>)) {
        const value = await render(template, ctx, node, `values['${target}']`);
        assign(state, target, value);
        assigned[target] = value;
      }
      return { kind: 'done', output: assigned };
    }
    case 'if': {
      const value = await render(cfg.condition, ctx, node, 'condition');
      return { kind: 'done', input: { condition: value }, output: { result: isTruthy(value) } };
    }
    case 'switch': {
      const value = await render(cfg.value, ctx, node, 'value');
      const c =
        value === undefined || value === null
          ? ''
          : typeof value === 'string'
            ? value
            : JSON.stringify(value);
      return { kind: 'done', output: { value, case: c } };
    }
    case 'transform': {
      const compiled = compileTemplate(`\${= ${cfg.expression}}`);
      if (!compiled.ok) throw new NodeFailure(`expression: ${compiled.error}`);
      let value: unknown;
      try {
        value = await renderTemplate(compiled.template, ctx);
      } catch (err) {
        throw new NodeFailure(`expression "${cfg.expression}": ${(err as Error).message}`);
      }
      assign(state, cfg.into, value);
      return { kind: 'done', output: { [cfg.into]: value } };
    }
    case 'http': {
      const method = String(await render(cfg.method ?? 'GET', ctx, node, 'method')).toUpperCase();
      const url = new URL(String(await render(cfg.url, ctx, node, 'url')));
      for (const [k, v] of Object.entries(
        (await render(cfg.query ?? {}, ctx, node, 'query')) as Record<string, unknown>,
      ))
        url.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(
        (await render(cfg.headers ?? {}, ctx, node, 'headers')) as Record<string, unknown>,
      ))
        headers[k.toLowerCase()] = (typeof v === 'string' ? v : JSON.stringify(v ?? '')).replace(
          /[\r\n]/g,
          ' ',
        );
      const body =
        method === 'GET' || method === 'HEAD'
          ? undefined
          : toBody(await render(cfg.body, ctx, node, 'body'), headers);
      const secret = cfg.credential_id
        ? await applyCredential(effects, state.tenantId, cfg.credential_id, url, headers, body)
        : { params: [], headers: [] };
      const input = {
        method,
        url: redactUrl(url, secret.params),
        headers: redactHeaders(headers, secret.headers),
        body,
      };
      const res = await effects.http({
        method,
        url: url.toString(),
        headers,
        body,
        timeoutMs: cfg.timeout_ms,
        maxResponseBytes: 5 * 1024 * 1024,
        onOversize: 'error',
        maxRedirects: 5,
      });
      const output = { status: res.status, headers: res.headers, body: parseResponseBody(res) };
      if ((res.status < 200 || res.status >= 300) && cfg.fail_on_error_status !== false)
        throw new NodeFailure(`${method} ${url.host}${url.pathname} answered ${res.status}`);
      return { kind: 'done', input, output, checkpoint: true };
    }
    case 'webhook_call': {
      const params: Record<string, unknown> = {};
      const groups: string[] = cfg.params ?? ['call'];
      if (groups.includes('call')) params.call = (await render(cfg.body ?? {}, ctx, node, 'body')) ?? {};
      if (groups.includes('flow.key')) params['flow.key'] = state.flowKey;
      if (groups.includes('user.key')) params['user.key'] = state.vars;
      const methodName = cfg.method_name
        ? String(await render(cfg.method_name, ctx, node, 'method_name'))
        : undefined;
      const res = await effects.webhookCall(state.tenantId, {
        endpointId: cfg.endpoint_id,
        methodName,
        params,
        runId: state.id,
        flowId: state.flowId,
        nodeId: node.id,
      });
      const output = { status: res.status, headers: res.headers, body: parseResponseBody(res) };
      if (res.status < 200 || res.status >= 300) throw new NodeFailure(`the endpoint answered ${res.status}`);
      if (cfg.into) assign(state, cfg.into, output.body);
      return {
        kind: 'done',
        input: { endpoint_id: cfg.endpoint_id, method_name: methodName, params },
        output,
        checkpoint: true,
      };
    }
    case 'emit': {
      const data = (await render(cfg.data ?? {}, ctx, node, 'data')) ?? {};
      const event: PendingEvent = {
        id: newId('evt'),
        event_type: cfg.event_type,
        data,
        context: { tenant_id: state.tenantId, flow_id: state.flowId, run_id: state.id, node_id: node.id },
      };
      events.push(event);
      return { kind: 'done', output: { event_id: event.id, event_type: event.event_type } };
    }
    case 'delay': {
      const now = effects.now();
      let untilMs: number;
      if (existing?.status === 'waiting') untilMs = Date.parse((existing.output as { until: string }).until);
      else if (cfg.until !== undefined) {
        const v = await render(cfg.until, ctx, node, 'until');
        untilMs = typeof v === 'number' ? v : Date.parse(String(v));
        if (!Number.isFinite(untilMs)) throw new NodeFailure(`until: "${String(v)}" is not an ISO date-time`);
      } else untilMs = now + Number(cfg.ms);
      if (untilMs > now) return { kind: 'sleep', untilMs, input: { until: new Date(untilMs).toISOString() } };
      return { kind: 'done', output: { waited_until: new Date(untilMs).toISOString() } };
    }
    case 'respond': {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(
        (await render(cfg.headers ?? {}, ctx, node, 'headers')) as Record<string, unknown>,
      ))
        headers[k.toLowerCase()] = (typeof v === 'string' ? v : JSON.stringify(v ?? '')).replace(
          /[\r\n\0]/g,
          ' ',
        );
      const body = await render(cfg.body ?? '', ctx, node, 'body');
      const contentType = cfg.content_type
        ? String(await render(cfg.content_type, ctx, node, 'content_type'))
        : undefined;
      const text =
        body === undefined || body === null ? '' : typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] =
        contentType ??
        (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8');
      const first = state.response === null;
      if (first) state.response = { status: cfg.status ?? 200, headers, body: text };
      return {
        kind: 'done',
        output: { status: cfg.status ?? 200, headers, body, used: first },
        checkpoint: first && state.waitResponse,
      };
    }
    case 'fail': {
      const message = String(
        (await render(cfg.message ?? 'Flow failed', ctx, node, 'message')) ?? 'Flow failed',
      );
      return { kind: 'fail', message };
    }
    case 'webhook':
      // A second trigger reached by an edge is invalid (validated on save); treat as pass-through.
      return { kind: 'done' };
    default:
      throw new NodeFailure(`unknown node type "${node.type}"`);
  }
}

async function applyCredential(
  effects: EngineEffects,
  tenantId: string,
  credentialId: string,
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ params: string[]; headers: string[] }> {
  const cred = await effects.credential(tenantId, credentialId);
  if (!cred) throw new NodeFailure(`credential "${credentialId}" does not exist`);
  const d = cred.data as Record<string, string>;
  switch (cred.type) {
    case 'basic':
    case 'bearer':
    case 'api_key':
      // Stored credential data has the shape endpoint auth is sent with: one way to apply it.
      applyEndpointAuth({ type: cred.type, ...d } as ResolvedEndpointAuth, url, headers);
      return cred.type !== 'api_key'
        ? { params: [], headers: [] }
        : d.in === 'query'
          ? { params: [d.name], headers: [] }
          : { params: [], headers: [d.name.toLowerCase()] };
    case 'hmac':
      headers[String(d.header).toLowerCase()] = signHmac(cred.data as any, Buffer.from(body ?? ''));
      return { params: [], headers: [] };
    default:
      throw new NodeFailure(`a ${cred.type} credential cannot authenticate an outbound call`);
  }
}

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key']);

function redactHeaders(h: Record<string, string>, extra: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    out[k] = SECRET_HEADERS.has(k) || extra.includes(k) ? '[redacted]' : v;
  return out;
}

function redactUrl(url: URL, secretParams: string[]): string {
  if (!secretParams.length) return url.toString();
  const copy = new URL(url);
  for (const p of secretParams) if (copy.searchParams.has(p)) copy.searchParams.set(p, '[redacted]');
  return copy.toString();
}
