/**
 * Parts of the isolation drills (isolation.test.ts): tenants with their own API keys, a server that
 * accepts connections and never answers, a receiver that timestamps every request, paced
 * publishing, and nearest-rank percentiles.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { BOOTSTRAP_KEY, type HookflowProcess } from './helpers.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Api = <T = any>(
  method: string,
  p: string,
  body?: unknown,
) => Promise<{ status: number; body: T }>;

/** Management calls to `hookflow` with `key` (the bootstrap admin key unless another is given). */
export function apiWithKey(hookflow: HookflowProcess, key = BOOTSTRAP_KEY): Api {
  return async (method, p, body) => {
    const res = await fetch(hookflow.url + p, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

export type Tenant = { id: string; name: string; key: string; api: Api };

/** A new tenant (made with the bootstrap admin key) and an API key of its own. */
export async function createTenant(hookflow: HookflowProcess, name: string): Promise<Tenant> {
  const admin = apiWithKey(hookflow);
  const t = await admin('POST', '/api/v1/tenants', { name });
  if (t.status !== 201) throw new Error(`creating tenant ${name}: ${t.status} ${JSON.stringify(t.body)}`);
  const k = await admin('POST', '/api/v1/api-keys', { name: `${name} key`, tenant_id: t.body.id });
  if (k.status !== 201) throw new Error(`creating a key for ${name}: ${k.status} ${JSON.stringify(k.body)}`);
  return { id: t.body.id, name, key: k.body.key, api: apiWithKey(hookflow, k.body.key) };
}

/** An endpoint of `tenant` subscribed to every event; answers the endpoint with its signing secret. */
export async function createEndpoint(tenant: Tenant, name: string, url: string) {
  const ep = await tenant.api('POST', '/api/v1/endpoints', { name, url, events: ['*'] });
  if (ep.status !== 201)
    throw new Error(`creating endpoint ${name}: ${ep.status} ${JSON.stringify(ep.body)}`);
  return ep.body as { id: string; signing_secret: string };
}

/**
 * A TCP server on 127.0.0.1 that accepts every connection, reads what it is sent and never answers.
 * `close` destroys every socket it holds.
 */
export type HangingServer = {
  url: string;
  /** Connections accepted so far. */
  connections: number;
  /** Connections that sent at least one byte (an HTTP request, or part of one). */
  requests: number;
  /** Connections open right now. */
  readonly open: number;
  close(): Promise<void>;
};

export async function startHangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    h.connections++;
    sockets.add(socket);
    let counted = false;
    socket.on('data', () => {
      if (!counted) h.requests++;
      counted = true;
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const h: HangingServer = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: 0,
    requests: 0,
    get open() {
      return sockets.size;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
  return h;
}

export type TimedRequest = {
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
};

/**
 * An HTTP receiver on 127.0.0.1 that records every request with the time (Date.now()) its body had
 * fully arrived, then answers 200 after `answerAfterMs` (at once by default). `close` ends every
 * connection, also those still waiting for their answer.
 */
export type TimedReceiver = {
  url: string;
  received: TimedRequest[];
  close(): Promise<void>;
};

export async function startTimedReceiver(opts: { answerAfterMs?: number } = {}): Promise<TimedReceiver> {
  const timers = new Set<NodeJS.Timeout>();
  const answer = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  };
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      r.received.push({
        at: Date.now(),
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (!opts.answerAfterMs) return answer(res);
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) answer(res);
      }, opts.answerAfterMs);
      timers.add(t);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const r: TimedReceiver = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received: [],
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
  return r;
}

export type Published = {
  seq: number;
  sentAt: number;
  /** When the answer (status and body) had arrived; NaN when none came. */
  answeredAt: number;
  status: number;
  /** The message id (`evt_…`) of a 202. */
  id?: string;
  /** The answer's `created_at` (the envelope's `event_time`), in ms. */
  createdAt?: number;
  error?: string;
};

export type PublishRun = { published: Published[]; startedAt: number; lastSentAt: number; endedAt: number };

/**
 * Publishes, for each tenant, `perTick` events every `tickMs` for `durationMs` through
 * `POST /api/v1/events`, each `{event_type, data: {seq, tenant}}` with seq 0, 1, 2, … per tenant.
 * Ticks are on one fixed schedule from the start (a slow answer does not push the next tick back);
 * the requests of a tick are sent at once, the tenants' interleaved, and which tenant goes first
 * alternates from tick to tick, so neither is always ahead in the server's queue.
 */
export async function publishPaced(opts: {
  hookflow: HookflowProcess;
  tenants: Tenant[];
  eventType: string;
  perTick: number;
  tickMs: number;
  durationMs: number;
}): Promise<PublishRun[]> {
  const ticks = Math.round(opts.durationMs / opts.tickMs);
  const runs: PublishRun[] = opts.tenants.map(() => ({
    published: [],
    startedAt: 0,
    lastSentAt: 0,
    endedAt: 0,
  }));
  const inFlight: Promise<void>[] = [];
  const one = async (tenant: Tenant, run: PublishRun, seq: number) => {
    const p: Published = { seq, sentAt: Date.now(), answeredAt: Number.NaN, status: 0 };
    run.published[seq] = p;
    try {
      const res = await fetch(`${opts.hookflow.url}/api/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ event_type: opts.eventType, data: { seq, tenant: tenant.name } }),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.text();
      p.answeredAt = Date.now();
      p.status = res.status;
      if (res.status === 202) {
        const body = JSON.parse(text);
        p.id = body.id;
        p.createdAt = Date.parse(body.created_at);
      } else {
        p.error = text.slice(0, 200);
      }
    } catch (err) {
      p.error = (err as Error).message;
    }
  };
  const startedAt = Date.now();
  for (const run of runs) run.startedAt = startedAt;
  for (let k = 0; k < ticks; k++) {
    const due = startedAt + k * opts.tickMs;
    if (due > Date.now()) await sleep(due - Date.now());
    for (let i = 0; i < opts.perTick; i++) {
      for (let j = 0; j < opts.tenants.length; j++) {
        const t = (j + k) % opts.tenants.length;
        inFlight.push(one(opts.tenants[t], runs[t], k * opts.perTick + i));
      }
    }
    const sentAt = Date.now();
    for (const run of runs) run.lastSentAt = sentAt;
  }
  await Promise.all(inFlight);
  const endedAt = Date.now();
  for (const run of runs) run.endedAt = endedAt;
  return runs;
}

/** Nearest-rank percentile of an ascending list: the smallest value with at least p % at or below it. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Milliseconds for the figures line: `41 ms`, or `never` for a value that did not arrive. */
export function fmtMs(v: number): string {
  return Number.isFinite(v) ? `${Math.round(v)} ms` : Number.isNaN(v) ? 'n/a' : 'never';
}
