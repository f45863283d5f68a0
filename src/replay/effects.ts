/**
 * The side effects of a replay run (docs/api.md §3.14), held back: an `http` or `webhook_call` node
 * gets the original run's recorded answer when it makes the same request (method, URL, body — or
 * endpoint, method name, call data), and `{status: 0, error: "not sent in replay"}` otherwise; a
 * wait gets the call the original got (or gives up at once); a delay does not sleep. Nothing leaves
 * the process: no outbound request is made.
 */
import type { OutboundResponse } from '../delivery/httpClient.ts';
import type { EngineEffects, NodeRecord } from '../flows/engine.ts';
import type { ResumeRequest } from '../flows/runsStore.ts';
import { NodeFailure } from '../nodes/util.ts';

export const NOT_SENT = 'not sent in replay';

/** A call the original run (or one of its sub-flow runs) made, as its node recorded it. */
type RecordedCall = {
  output?: { status: number; headers?: Record<string, string>; body?: unknown };
  error?: string;
};

/** What a replay run is answered from: the original run's node records (its children's too). */
export type RecordedRun = { nodes: NodeRecord[] };

/** Every record of a run, loop items' body records included. */
function* allRecords(nodes: NodeRecord[]): Generator<NodeRecord> {
  for (const n of nodes) {
    yield n;
    for (const it of n.iterations ?? []) yield* allRecords(it.nodes);
  }
}

/** JSON with object keys sorted: two equal documents give one string. */
export function canonical(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

/** A request body as compared: JSON bodies by their value, other text as is. */
function bodyKey(body: unknown): string {
  if (body === undefined || body === null || body === '') return '';
  if (typeof body === 'string') {
    try {
      return canonical(JSON.parse(body));
    } catch {
      return body;
    }
  }
  if (Buffer.isBuffer(body)) return bodyKey(body.toString('utf8'));
  return canonical(body);
}

/**
 * A URL as compared: the recorded one has secret query parameters redacted (docs/api.md §4.2), so
 * those are left out of both.
 */
function urlKey(url: string, redacted: ReadonlySet<string>): string {
  try {
    const u = new URL(url);
    const params = [...u.searchParams.entries()]
      .filter(([k]) => !redacted.has(k))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `${u.origin}${u.pathname}?${params.map(([k, v]) => `${k}=${v}`).join('&')}`;
  } catch {
    return url;
  }
}

function redactedParams(url: string): Set<string> {
  try {
    return new Set(
      [...new URL(url).searchParams.entries()].filter(([, v]) => v === '[redacted]').map(([k]) => k),
    );
  } catch {
    return new Set();
  }
}

/** The recorded answer as the node's effect returns it (the node parses it again). */
function asResponse(url: string, out: NonNullable<RecordedCall['output']>): OutboundResponse {
  const headers = { ...(out.headers ?? {}) };
  const body =
    typeof out.body === 'string'
      ? out.body
      : out.body === undefined || out.body === null
        ? ''
        : JSON.stringify(out.body);
  if (
    typeof out.body !== 'string' &&
    out.body !== undefined &&
    out.body !== null &&
    !/\bjson\b/i.test(headers['content-type'] ?? '')
  )
    headers['content-type'] = 'application/json';
  return { status: out.status, headers, body: Buffer.from(body), truncated: false, durationMs: 0, url };
}

function notSent(url: string): OutboundResponse & { error: string } {
  return {
    status: 0,
    headers: {},
    body: Buffer.alloc(0),
    truncated: false,
    durationMs: 0,
    url,
    error: NOT_SENT,
  };
}

/** Recorded calls by their key; each used once, in order (the last is used again when they run out). */
class CallBook {
  private readonly calls = new Map<string, RecordedCall[]>();
  private readonly used = new Map<string, number>();
  /** http calls kept with the parameters their recorded URL has redacted. */
  readonly httpRedactions: { key: (url: string) => string }[] = [];

  add(key: string, call: RecordedCall): void {
    const list = this.calls.get(key);
    if (list) list.push(call);
    else this.calls.set(key, [call]);
  }

  take(key: string): RecordedCall | undefined {
    const list = this.calls.get(key);
    if (!list?.length) return undefined;
    const i = this.used.get(key) ?? 0;
    this.used.set(key, i + 1);
    return list[Math.min(i, list.length - 1)];
  }
}

export function replayEffects(base: EngineEffects, original: RecordedRun): EngineEffects {
  const http = new CallBook();
  const calls = new CallBook();
  /** The sets of redacted query parameters seen in recorded URLs (usually none, or one). */
  const redactionSets = new Map<string, Set<string>>();
  const waits = new Map<string, NodeRecord>();
  for (const r of allRecords(original.nodes)) {
    const input = r.input as Record<string, unknown> | undefined;
    const call: RecordedCall = {
      output: r.output as RecordedCall['output'],
      error: r.status === 'failed' ? (r.error ?? undefined) : undefined,
    };
    if (r.type === 'http' && input && typeof input.url === 'string') {
      if (r.status !== 'succeeded' && r.status !== 'failed') continue;
      const redacted = redactedParams(input.url);
      redactionSets.set([...redacted].sort().join('&'), redacted);
      http.add(`${String(input.method)} ${urlKey(input.url, redacted)} ${bodyKey(input.body)}`, call);
    } else if (r.type === 'webhook_call' && input && typeof input.endpoint_id === 'string') {
      if (r.status !== 'succeeded' && r.status !== 'failed') continue;
      calls.add(`${input.endpoint_id} ${String(input.method_name ?? '')} ${bodyKey(input.params)}`, call);
    } else if (r.type === 'wait' && r.status === 'succeeded') waits.set(r.id, r);
  }
  const answer = (url: string, found: RecordedCall | undefined): OutboundResponse => {
    if (!found) return notSent(url);
    if (found.output && typeof found.output.status === 'number') return asResponse(url, found.output);
    // The original call never got an answer (a timeout, a refused connection): the same failure.
    throw new NodeFailure(found.error ?? NOT_SENT);
  };
  return {
    ...base,
    replay: true,
    http: async (req) => {
      for (const redacted of redactionSets.values()) {
        const found = http.take(`${req.method} ${urlKey(req.url, redacted)} ${bodyKey(req.body)}`);
        if (found) return answer(req.url, found);
      }
      return notSent(req.url);
    },
    webhookCall: async (_tenantId, call) =>
      answer(
        `endpoint:${call.endpointId}`,
        calls.take(`${call.endpointId} ${call.methodName ?? ''} ${bodyKey(call.params)}`),
      ),
    resumed: async (_tenantId, _runId, nodeId) => {
      const r = waits.get(nodeId);
      if (!r) return undefined;
      const out = (r.output ?? {}) as Partial<ResumeRequest>;
      return {
        method: out.method ?? 'POST',
        headers: out.headers ?? {},
        query: out.query ?? {},
        body: out.body ?? null,
        body_kind: 'json',
        received_at: r.finished_at ?? new Date(base.now()).toISOString(),
      };
    },
  };
}
