/**
 * `npm run bench` / `hookflow bench` — Hookflow's figures in one table.
 *
 * Starts Hookflow itself (embedded PGlite in a temporary DATA_DIR, or a fresh database on
 * DATABASE_URL's server), a keep-alive webhook receiver and a load generator, each in its own
 * process, and measures:
 *   1. durable ingest: `ack` mode, 300-byte JSON, 50 connections — req/s, p50, p99, errors, and an
 *      audit that every 2xx has its stored run;
 *   2. end to end: inbound → flow (set → if → transform) → `flow.completed` to the default webhook,
 *      acknowledged by the receiver — p50/p99 inbound-to-receipt at a fixed 1,000/s offered, then
 *      the events/s sustained when offered as much as 50 connections can send;
 *   3. delivery: 100k pre-made messages drained to the receiver — deliveries/s;
 *   4. a bare Node `http` server doing `JSON.parse` + 200 under the ingest load, and ingest as a
 *      ratio of it;
 *   5. (--only code) a code node: the sandbox alone (jobs through CodeSandbox in this process: jobs/s and
 *      p50/p99 of one job, one at a time and 32 in flight), then the end-to-end flow with a `code` node
 *      (JavaScript in the QuickJS sandbox, console.log included) in place of the transform — the same
 *      two figures as 2;
 *   5b. loop-code: a flow-mode webhook → a loop over the request's 10 items (a transform per item) →
 *      a code node summing the loop's results → respond: requests/s and p50/p99 of the answer, after a
 *      check that the answer is right;
 *   5c. replay: 1,000 stored runs of a flow (webhook → http call to the receiver → set) replayed
 *      against a draft that changes the set — runs/s from the POST to the report's `done`, after
 *      checks that every item is `different` and that the replay called no one;
 *   6. memory: resident memory of `npm start` (npm + Hookflow) idle after the first start on an
 *      empty DATA_DIR, after a restart, at its peak under the end-to-end load and idle after it; and
 *      the time from the first start to /healthz.
 *
 * Options: --json (write bench/results/<date>.json), --only ingest,e2e,code,loop-code,replay,delivery,bare,memory
 * (default: all but code),
 * --scale (2 API + 2 worker processes; needs DATABASE_URL), --seconds N (10), --connections N (50),
 * --rate N (1000), --messages N (100000). BENCH_PROFILE=dir writes V8 CPU profiles of Hookflow.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createEndpoint } from '../src/delivery/endpoints/store.ts';
import { CodeSandbox } from '../src/nodes/code/sandbox.ts';
import { resolveSecretKey } from '../src/secretKey.ts';
import {
  type Helper,
  type Hookflow,
  machine,
  type PreparedStore,
  percentile,
  postgresCpuMs,
  prepareStore,
  runLoad,
  SAMPLE_BODY,
  STAMPED_BODY,
  startHelper,
  startHookflow,
} from './lib.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    only: { type: 'string', default: 'ingest,bare,e2e,loop-code,replay,delivery,memory' },
    scale: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    rate: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '100000' },
  },
});
const only = new Set(args.only!.split(',').map((s) => s.trim()));
const seconds = Number(args.seconds);
const connections = Number(args.connections);
const rate = Number(args.rate);
const messages = Number(args.messages);
const scale = args.scale!;
const onPostgres = !!process.env.DATABASE_URL;

type Row = {
  measure: string;
  value: number;
  unit: string;
  p50?: number | null;
  p99?: number | null;
  errors?: number;
  target?: string;
  met?: boolean;
  note?: string;
  /** Where the CPU went during the measured phase, µs per request/event: Hookflow, PostgreSQL, load generator. */
  cpu?: { hookflow: number; postgres: number | null; loadgen: number | null };
};

/** CPU counters of the Hookflow processes and the database server, to take differences of. */
function cpuMark(procs: Hookflow[]) {
  return {
    hookflow: procs.reduce((a, p) => a + p.cpuMs(), 0),
    postgres: onPostgres ? postgresCpuMs() : Number.NaN,
  };
}

function cpuPer(
  before: ReturnType<typeof cpuMark>,
  after: ReturnType<typeof cpuMark>,
  n: number,
  loadgenMs: number | null,
): Row['cpu'] {
  const us = (ms: number) => (Number.isFinite(ms) && n ? Math.round((ms * 1000) / n) : null);
  return {
    hookflow: us(after.hookflow - before.hookflow) ?? 0,
    postgres: us(after.postgres - before.postgres),
    loadgen: loadgenMs === null ? null : us(loadgenMs),
  };
}
const rows: Row[] = [];
let failed = false;

type ReceiverStats = {
  count: number;
  first: number;
  last: number;
  verified: number;
  badSignatures: number;
  duplicates: number;
  latencySamples: number;
  p50: number | null;
  p99: number | null;
};

class Receiver {
  constructor(readonly helper: Helper<{ port: number }>) {}
  get url() {
    return `http://127.0.0.1:${this.helper.info.port}/hook`;
  }
  private async call(p: string, body?: string): Promise<any> {
    const res = await fetch(`http://127.0.0.1:${this.helper.info.port}/__bench/${p}`, {
      method: body === undefined ? 'GET' : 'POST',
      body,
    });
    return p === 'stats' ? res.json() : res.text();
  }
  reset() {
    return this.call('reset', '');
  }
  secret(s: string) {
    return this.call('secret', s);
  }
  stats(): Promise<ReceiverStats> {
    return this.call('stats');
  }
  /**
   * Waits until `n` requests arrived (or the deadline passes), then until no more arrive for a
   * second: requests in flight when the load generator stopped were accepted too, uncounted by it.
   */
  async waitFor(n: number, timeoutMs: number): Promise<ReceiverStats> {
    const deadline = Date.now() + timeoutMs;
    let s = await this.stats();
    while (s.count < n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      s = await this.stats();
    }
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const next = await this.stats();
      if (next.count === s.count) return next;
      s = next;
    }
  }
}

/** `count` Hookflow processes of a role on one store, started one after the other. */
async function startMany(store: PreparedStore, roles: ('all' | 'api' | 'worker')[]): Promise<Hookflow[]> {
  const out: Hookflow[] = [];
  for (const role of roles) out.push(await startHookflow({}, store, { role, ownsStore: false }));
  return out;
}

async function stopAll(procs: Hookflow[], store: PreparedStore) {
  for (const p of procs) await p.stop();
  await store.drop();
}

/** The flow's hook URL as served by each API process. */
function hookUrls(flow: any, apis: Hookflow[]): string[] {
  const u = new URL(flow.webhooks[0].url);
  return apis.map((a) => a.base + u.pathname);
}

/** The runs of a flow (with `status`, those of that status). */
async function countRuns(h: Hookflow, flowId: string, status?: string): Promise<number> {
  const c = await h.pg();
  if (c) {
    try {
      const r = await c.query(
        'select count(*)::int as n from runs where flow_id = $1 and ($2::text is null or status = $2)',
        [flowId, status ?? null],
      );
      return r.rows[0].n;
    } finally {
      await c.end();
    }
  }
  let n = 0;
  let cursor: string | null = null;
  do {
    const page: any = await h.api(
      'GET',
      `/api/v1/runs?flow_id=${flowId}&limit=500${status ? `&status=${status}` : ''}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    n += page.data.length;
    cursor = page.next_cursor;
  } while (cursor);
  return n;
}

let ingestRps = 0;

async function benchIngest() {
  const store = await prepareStore();
  const apis = await startMany(store, scale ? ['api', 'api'] : ['api']);
  try {
    const flow = await apis[0].api('POST', '/api/v1/flows', {
      name: 'bench ingest',
      nodes: [{ id: 'webhook_1', type: 'webhook', config: { methods: ['POST'], response: { mode: 'ack' } } }],
      edges: [],
    });
    const c0 = cpuMark(apis);
    const r = await runLoad({
      urls: hookUrls(flow, apis),
      connections,
      seconds,
      body: SAMPLE_BODY,
      warmupSeconds: 2,
    });
    // (the mark includes the 2 s warm-up: count its requests too, approximately, at the same rate)
    const cpu = cpuPer(
      c0,
      cpuMark(apis),
      r.ok * ((seconds + 2) / seconds),
      r.cpuMs * ((seconds + 2) / seconds),
    );
    const stored = await countRuns(apis[0], flow.id);
    // The warm-up's runs are stored too: every 2xx of the measured phase must be among them.
    const auditOk = stored >= r.ok;
    if (!auditOk) failed = true;
    ingestRps = r.rps;
    rows.push({
      measure: `durable ingest (ack, ${SAMPLE_BODY.length} B JSON, ${connections} conn${scale ? ', 2 API processes' : ''})`,
      value: r.rps,
      unit: 'req/s',
      p50: r.p50,
      p99: r.p99,
      errors: r.errors + r.timeouts + r.non2xx,
      target: '≥ 15,000 req/s, p99 < 20 ms',
      met: r.rps >= 15_000 && r.p99 < 20,
      note: `audit: ${stored} runs stored for ${r.ok} accepted (+ warm-up)${auditOk ? '' : ' — FAILED'}`,
      cpu,
    });
  } finally {
    await stopAll(apis, store);
  }
}

async function benchBare() {
  const bare = await startHelper<{ port: number }>('bare.ts');
  try {
    const r = await runLoad({
      urls: [`http://127.0.0.1:${bare.info.port}/`],
      connections,
      seconds,
      body: SAMPLE_BODY,
      warmupSeconds: 2,
    });
    rows.push({
      measure: 'bare Node http, JSON.parse + 200 (same load)',
      value: r.rps,
      unit: 'req/s',
      p50: r.p50,
      p99: r.p99,
      errors: r.errors + r.timeouts + r.non2xx,
    });
    if (ingestRps) {
      rows.push({
        measure: 'Hookflow ingest ÷ bare Node',
        value: Math.round((ingestRps / r.rps) * 1000) / 10,
        unit: '%',
      });
    }
  } finally {
    await bare.stop();
  }
}

const E2E_FLOW = {
  name: 'bench end to end',
  settings: { send_to_default_webhook: true },
  nodes: [
    { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'], response: { mode: 'ack' } } },
    {
      id: 'set_1',
      type: 'set',
      config: {
        values: {
          'flow.key.order': '${Webhook::Body.order.id}',
          'vars.total': '${Webhook::Body.order.total}',
          'vars.sent_at': '${Webhook::Body.sent_at}',
        },
      },
    },
    { id: 'if_1', type: 'if', config: { condition: '${= vars.total > 100}' } },
    {
      id: 'transform_1',
      type: 'transform',
      config: { expression: '$sum(Webhook::Body.order.items.(qty * price))', into: 'vars.sum' },
    },
  ],
  edges: [
    { from: 'webhook_1', to: 'set_1' },
    { from: 'set_1', to: 'if_1' },
    { from: 'if_1', to: 'transform_1', when: true },
  ],
};

/** The end-to-end flow with a code node (QuickJS sandbox) doing the transform's work. */
const CODE_FLOW = {
  ...E2E_FLOW,
  name: 'bench code node',
  nodes: [
    ...E2E_FLOW.nodes.filter((n) => n.id !== 'transform_1'),
    {
      id: 'code_1',
      type: 'code',
      config: {
        source:
          'const items = input.Webhook.Body.order.items;\nconst sum = items.reduce((s, i) => s + i.qty * i.price, 0);\nconsole.log("items", items.length);\nreturn { sum, count: items.length };',
        into: 'vars.sum',
      },
    },
  ],
  edges: [
    ...E2E_FLOW.edges.filter((e) => e.to !== 'transform_1'),
    { from: 'if_1', to: 'code_1', when: true },
  ],
};

/** The code node's job as the end-to-end code flow runs it (its input as the engine builds it). */
function codeJob() {
  const code = CODE_FLOW.nodes.find((n) => n.id === 'code_1')!.config as { source: string };
  const body = JSON.parse(STAMPED_BODY.replace('__SENT_AT__', String(Date.now())));
  return {
    source: code.source,
    input: {
      Webhook: {
        Body: body,
        Headers: { 'content-type': 'application/json', 'content-length': '300', host: '127.0.0.1' },
        Query: {},
        Method: 'POST',
        Path: '/hooks/default/flw_bench',
      },
      vars: { total: body.order.total, sent_at: body.sent_at },
      flow: { id: 'flw_bench', key: { order: body.order.id } },
      steps: {
        webhook_1: { method: 'POST', path: '/hooks/default/flw_bench' },
        set_1: { 'flow.key.order': body.order.id, 'vars.total': body.order.total },
        if_1: { result: true },
      },
      run: { id: 'run_bench' },
    },
    timeoutMs: 1000,
    memoryMb: 32,
  };
}

/**
 * The sandbox alone, in this process: `n` jobs of the code flow's node through a CodeSandbox as the
 * run worker makes it (the machine's threads), `inFlight` at a time, after a warm-up.
 */
async function benchCodeSandbox() {
  const sandbox = new CodeSandbox();
  try {
    const job = codeJob();
    for (let i = 0; i < 200; i++) await sandbox.run('default', job);
    for (const [inFlight, n] of [
      [1, 2000],
      [32, 10000],
    ] as const) {
      const times: number[] = [];
      let failures = 0;
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next++ < n) {
            const t = performance.now();
            const r = await sandbox.run('default', job);
            times.push(performance.now() - t);
            if (!r.ok) failures++;
          }
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      times.sort((a, b) => a - b);
      if (failures) failed = true;
      rows.push({
        measure: `code sandbox alone, ${inFlight === 1 ? 'one job at a time' : `${inFlight} jobs in flight`} (${sandbox.threads} threads, one tenant)`,
        value: n / elapsed,
        unit: 'jobs/s',
        p50: percentile(times, 50),
        p99: percentile(times, 99),
        errors: failures,
        note: `${n} jobs of the code flow's node (its source and a run's input), time from run() to its result`,
      });
    }
  } finally {
    await sandbox.close();
  }
}

/** The loop-code flow's request: an order with 10 items. */
const LOOP_BODY = JSON.stringify({
  event: 'order.created',
  order: { id: 'ord_0001', currency: 'EUR' },
  items: Array.from({ length: 10 }, (_, i) => ({ sku: `SKU-${i + 1}`, qty: (i % 3) + 1, price: 10 + i })),
});
/** What the loop-code flow answers for LOOP_BODY: the sum of qty × price, and 10. */
const LOOP_TOTAL = JSON.parse(LOOP_BODY).items.reduce((s: number, i: any) => s + i.qty * i.price, 0);

/** webhook (flow mode) → loop over 10 items (a transform per item) → code summing them → respond. */
const LOOP_CODE_FLOW = {
  name: 'bench loop + code',
  nodes: [
    { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'], response: { mode: 'flow' } } },
    {
      id: 'loop_1',
      type: 'loop',
      config: {
        items: '${Webhook::Body.items}',
        nodes: [
          {
            id: 'transform_2',
            type: 'transform',
            config: { expression: 'loop.item.qty * loop.item.price', into: 'vars.line' },
          },
        ],
        edges: [],
        result: '${= steps.transform_2.`vars.line`}',
      },
    },
    {
      id: 'code_3',
      type: 'code',
      config: {
        source:
          'const lines = input.steps.loop_1.results;\nreturn { total: lines.reduce((s, x) => s + x, 0), count: lines.length };',
      },
    },
    { id: 'respond_4', type: 'respond', config: { status: 200, body: '${steps.code_3}' } },
  ],
  edges: [
    { from: 'webhook_1', to: 'loop_1' },
    { from: 'loop_1', to: 'code_3' },
    { from: 'code_3', to: 'respond_4' },
  ],
};

async function benchLoopCode() {
  const store = await prepareStore();
  const procs = await startMany(store, scale ? ['api', 'api', 'worker', 'worker'] : ['all']);
  const apis = procs.slice(0, scale ? 2 : 1);
  const where = scale ? ', 2 API + 2 worker processes' : '';
  try {
    const flow = await apis[0].api('POST', '/api/v1/flows', LOOP_CODE_FLOW);
    if (!flow.id) throw new Error(`loop-code flow not created: ${JSON.stringify(flow)}`);
    const urls = hookUrls(flow, apis);
    const res = await fetch(urls[0], {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: LOOP_BODY,
    });
    const answer = (await res.json().catch(() => undefined)) as any;
    if (res.status !== 200 || answer?.total !== LOOP_TOTAL || answer?.count !== 10)
      throw new Error(`loop-code flow answered ${res.status} ${JSON.stringify(answer)}`);
    // A short warm-up, then all 50 connections can send.
    await runLoad({ urls, connections: 10, seconds: 2, body: LOOP_BODY });
    const c0 = cpuMark(procs);
    const r = await runLoad({ urls, connections, seconds, body: LOOP_BODY });
    const cpu = cpuPer(c0, cpuMark(procs), r.ok, r.cpuMs);
    const errors = r.errors + r.timeouts + r.non2xx;
    if (errors) failed = true;
    rows.push({
      measure: `loop of 10 items + code node, flow-mode answers (${connections} conn, unlimited)${where}`,
      value: r.rps,
      unit: 'req/s',
      p50: r.p50,
      p99: r.p99,
      errors,
      note: `webhook → loop (10 × transform) → code (sum) → respond; request → answer; ${r.ok} answered 200 (each checked once before the load: {"total": ${LOOP_TOTAL}, "count": 10})`,
      cpu,
    });
  } finally {
    await stopAll(procs, store);
  }
}

/** How many stored runs the replay bench replays (the most one replay takes). */
const REPLAY_RUNS = 1000;

/** webhook → http POST to the receiver → set (vars.label); the draft changes the label. */
const replayFlow = (receiverUrl: string, label: string) => ({
  name: 'bench replay',
  nodes: [
    { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
    {
      id: 'http_2',
      type: 'http',
      config: { method: 'POST', url: receiverUrl, body: '${Webhook::Body.order}' },
    },
    {
      id: 'set_3',
      type: 'set',
      config: { values: { 'vars.label': label, 'vars.status': '${steps.http_2.status}' } },
    },
  ],
  edges: [
    { from: 'webhook_1', to: 'http_2' },
    { from: 'http_2', to: 'set_3' },
  ],
});

async function benchReplay(receiver: Receiver) {
  const store = await prepareStore();
  const procs = await startMany(store, scale ? ['api', 'api', 'worker', 'worker'] : ['all']);
  const api = procs[0];
  const where = scale ? ', 2 API + 2 worker processes' : '';
  try {
    const flow = await api.api('POST', '/api/v1/flows', replayFlow(receiver.url, 'v1'));
    if (!flow.id) throw new Error(`replay flow not created: ${JSON.stringify(flow)}`);
    const [url] = hookUrls(flow, [api]);
    // The stored traffic: 1,000 requests, 20 at a time, each run calling the receiver once.
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < REPLAY_RUNS) {
          next++;
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: SAMPLE_BODY,
          });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`replay bench request answered ${res.status}`);
        }
      }),
    );
    const deadline = Date.now() + 120_000;
    while ((await countRuns(api, flow.id, 'succeeded')) < REPLAY_RUNS) {
      if (Date.now() > deadline) throw new Error('the replay bench runs did not all succeed');
      await new Promise((r) => setTimeout(r, 200));
    }
    const calls = (await receiver.stats()).count;
    const draft = await api.api('PUT', `/api/v1/flows/${flow.id}/draft`, replayFlow(receiver.url, 'v2'));
    if (!draft.revision) throw new Error(`replay draft not saved: ${JSON.stringify(draft)}`);
    const c0 = cpuMark(procs);
    const t0 = performance.now();
    const started = await api.api('POST', `/api/v1/flows/${flow.id}/replays`, {
      version: 'draft',
      limit: REPLAY_RUNS,
    });
    if (started.total !== REPLAY_RUNS) throw new Error(`replay not started: ${JSON.stringify(started)}`);
    // Progress from the flow's replay list (the counts, not the items); the report once at the end.
    for (;;) {
      const progress = (await api.api('GET', `/api/v1/flows/${flow.id}/replays?limit=1`)).data?.[0];
      if (progress?.status === 'done') break;
      if (performance.now() - t0 > 300_000)
        throw new Error(`replay not done: ${progress?.done}/${progress?.total}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const ms = performance.now() - t0;
    const report = await api.api('GET', `/api/v1/replays/${started.id}`);
    const cpu = cpuPer(c0, cpuMark(procs), REPLAY_RUNS, null);
    const callsAfter = (await receiver.stats()).count;
    const right =
      report.different === REPLAY_RUNS &&
      report.items.every((i: any) =>
        i.differences.some((d: any) => d.path === 'vars.label' && d.replay === 'v2'),
      );
    const errors = (right ? 0 : 1) + (callsAfter - calls);
    if (errors) failed = true;
    rows.push({
      measure: `shadow replay of ${REPLAY_RUNS} stored runs against a draft${where}`,
      value: (REPLAY_RUNS * 1000) / ms,
      unit: 'runs/s',
      errors,
      note: `POST /replays → report done in ${(ms / 1000).toFixed(2)} s (at most 20 replay runs of the tenant in flight); ${report.different} different, each with vars.label v1 → v2; calls to the receiver during the replay: ${callsAfter - calls}`,
      cpu,
    });
  } finally {
    await stopAll(procs, store);
  }
}

/**
 * The benches send everything to one receiver, so its endpoint gets room for 200 attempts at once
 * (the default, 10 per process, is for a receiver you do not know; docs/api.md §5.7). A user
 * who sends thousands per second to one endpoint raises it the same way.
 */
const BENCH_MAX_IN_FLIGHT = 200;

async function benchEndToEnd(
  receiver: Receiver,
  variant: { flow: object; what: string } = { flow: E2E_FLOW, what: 'end to end' },
) {
  const store = await prepareStore();
  const procs = await startMany(store, scale ? ['api', 'api', 'worker', 'worker'] : ['all']);
  const apis = procs.slice(0, scale ? 2 : 1);
  const where = scale ? ', 2 API + 2 worker processes' : '';
  const what = variant.what;
  try {
    const ep = await apis[0].api('POST', '/api/v1/endpoints', {
      name: 'bench receiver',
      url: receiver.url,
      events: ['flow.completed'],
      is_default: true,
      max_in_flight: BENCH_MAX_IN_FLIGHT,
    });
    if (!ep.signing_secret) throw new Error(`endpoint not created: ${JSON.stringify(ep)}`);
    await receiver.secret(ep.signing_secret);
    const flow = await apis[0].api('POST', '/api/v1/flows', variant.flow);
    if (!flow.id) throw new Error(`flow not created: ${JSON.stringify(flow)}`);
    const urls = hookUrls(flow, apis);

    // A short warm-up (JIT, connection pools), not measured.
    const warm = await runLoad({
      urls,
      connections: 10,
      seconds: 2,
      rate: 500,
      body: STAMPED_BODY,
      stampBody: true,
    });
    await receiver.waitFor(warm.ok, 60_000);
    await receiver.reset();

    // 1. Latency at a fixed offered rate.
    const fixed = await runLoad({ urls, connections, seconds, rate, body: STAMPED_BODY, stampBody: true });
    const fs = await receiver.waitFor(fixed.ok, 120_000);
    const lost = fixed.ok - fs.count;
    if (lost > 0 || fs.badSignatures) failed = true;
    rows.push({
      measure: `${what} at ${rate.toLocaleString('en')}/s offered${where}`,
      value: fs.count / ((Math.max(fs.last, fixed.endedAt) - fixed.startedAt) / 1000),
      unit: 'events/s',
      p50: fs.p50,
      p99: fs.p99,
      errors: fixed.errors + fixed.timeouts + fixed.non2xx,
      target: 'p99 < 100 ms',
      met: fs.p99 !== null && fs.p99 < 100 && lost <= 0,
      note: `inbound → receipt; ${fs.count} received for ${fixed.ok} answered 2xx (+ those in flight at the end), ${fs.duplicates} duplicate ids, signatures ${fs.verified} ok / ${fs.badSignatures} bad`,
    });

    // 2. Sustained throughput when offered all 50 connections can send.
    await receiver.reset();
    const c0 = cpuMark(procs);
    const max = await runLoad({ urls, connections, seconds, body: STAMPED_BODY, stampBody: true });
    const ms = await receiver.waitFor(max.ok, 300_000);
    const cpu = cpuPer(c0, cpuMark(procs), ms.count, max.cpuMs);
    const mlost = max.ok - ms.count;
    if (mlost > 0 || ms.badSignatures) failed = true;
    const sustained = ms.count / ((ms.last - max.startedAt) / 1000);
    rows.push({
      measure: `${what}, sustained (${connections} conn, unlimited)${where}`,
      value: sustained,
      unit: 'events/s',
      p50: ms.p50,
      p99: ms.p99,
      errors: max.errors + max.timeouts + max.non2xx,
      target: '≥ 3,000 events/s',
      met: sustained >= 3000 && mlost <= 0,
      note: `first request → last receipt; ${ms.count} received for ${max.ok} answered 2xx (+ those in flight at the end) (ingest offered ${Math.round(max.rps)} req/s)`,
      cpu,
    });
  } finally {
    await stopAll(procs, store);
  }
}

async function benchDelivery(receiver: Receiver) {
  const store = await prepareStore();
  await receiver.reset();
  const database = await openDatabase({ databaseUrl: store.databaseUrl, dataDir: store.dataDir });
  let made = 0;
  try {
    await migrateToLatest(database.db);
    const key = resolveSecretKey(Buffer.alloc(32, 7).toString('base64'), store.dataDir).key;
    const ep = await createEndpoint(database, key, 'default', {
      name: 'bench receiver',
      url: receiver.url,
      events: ['bench.event'],
      max_in_flight: BENCH_MAX_IN_FLIGHT,
    });
    await receiver.secret(ep.signing_secret);
    await sql`
      insert into events (tenant_id, id, event_type, data, context, source)
      select 'default', 'evt_bench_' || lpad(g::text, 8, '0'), 'bench.event',
             jsonb_build_object('n', g, 'order', jsonb_build_object('id', 'ord_' || g, 'total', 129.5)),
             '{"tenant_id":"default"}'::jsonb, 'api'
      from generate_series(1, ${messages}) g`.execute(database.db);
    made = Number(
      (await sql<{ n: string }>`select count(*) as n from deliveries`.execute(database.db)).rows[0].n,
    );
  } finally {
    await database.close();
  }
  const start = Date.now();
  const pg0 = onPostgres ? postgresCpuMs() : Number.NaN;
  const procs = await startMany(store, scale ? ['worker', 'worker'] : ['all']);
  try {
    const s = await receiver.waitFor(made, 10 * 60_000);
    const cpu = cpuPer({ hookflow: 0, postgres: pg0 }, cpuMark(procs), s.count, null);
    if (s.count < made || s.badSignatures) failed = true;
    const perSec = s.count / ((s.last - s.first) / 1000);
    rows.push({
      measure: `delivery, ${made.toLocaleString('en')} pre-made messages${scale ? ', 2 worker processes' : ''}`,
      value: perSec,
      unit: 'deliveries/s',
      errors: made - s.count,
      target: '≥ 10,000/s',
      met: perSec >= 10_000,
      note: `first → last receipt; ${(s.count / ((s.last - start) / 1000)).toFixed(0)}/s from process start; ${s.duplicates} duplicate ids; signatures ${s.verified} ok / ${s.badSignatures} bad`,
      cpu,
    });
  } finally {
    await stopAll(procs, store);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Memory as a user sees it: `npm start` (npm's process and Hookflow's together) on an empty
 * DATA_DIR, idle; started again on the same data, idle; then under the end-to-end load at the
 * fixed rate (the peak, sampled every 250 ms) and idle after it.
 */
async function benchMemory(receiver: Receiver) {
  const idleMs = 20_000;
  const store = await prepareStore();
  const target = '≤ 400 MB';
  const memRow = (measure: string, mb: number, note?: string): Row => ({
    measure,
    value: mb,
    unit: 'MB RSS',
    target,
    met: mb <= 400,
    note,
  });
  try {
    let h = await startHookflow({}, store, { viaNpm: true, ownsStore: false, quiet: true });
    rows.push({
      measure: 'first `npm start` on an empty DATA_DIR → /healthz 200',
      value: h.healthyAfterMs / 1000,
      unit: 's',
      target: '≤ 15 s',
      met: h.healthyAfterMs <= 15_000,
    });
    await sleep(idleMs);
    rows.push(memRow(`first start, idle ${idleMs / 1000} s (npm + Hookflow)`, h.rssMb()));
    await h.stop();

    h = await startHookflow({}, store, { viaNpm: true, ownsStore: false, quiet: true });
    await sleep(idleMs);
    rows.push(memRow(`restart on the same data, idle ${idleMs / 1000} s`, h.rssMb()));

    const ep = await h.api('POST', '/api/v1/endpoints', {
      name: 'bench receiver',
      url: receiver.url,
      events: ['flow.completed'],
      is_default: true,
    });
    await receiver.secret(ep.signing_secret);
    const flow = await h.api('POST', '/api/v1/flows', E2E_FLOW);
    await receiver.reset();
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, h.rssMb());
    }, 250);
    let load: Awaited<ReturnType<typeof runLoad>>;
    let got: ReceiverStats;
    try {
      load = await runLoad({
        urls: hookUrls(flow, [h]),
        connections,
        seconds,
        rate,
        body: STAMPED_BODY,
        stampBody: true,
      });
      got = await receiver.waitFor(load.ok, 120_000);
    } finally {
      clearInterval(sampler);
    }
    if (got.count < load.ok) failed = true;
    // The 400 MB promise is for an idle process; the peak under load is recorded, not held to it.
    rows.push({
      measure: `under load: end to end at ${rate.toLocaleString('en')}/s for ${seconds} s, peak`,
      value: peak,
      unit: 'MB RSS',
      note: `${got.count} delivered for ${load.ok} accepted (+ those in flight at the end)`,
    });
    await sleep(idleMs);
    rows.push(memRow(`after that load, idle ${idleMs / 1000} s`, h.rssMb()));
    await h.stop();
  } finally {
    await store.drop();
  }
}

async function postgresVersion(): Promise<string> {
  if (!onPostgres) return `PGlite (embedded)`;
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  try {
    const r = await c.query('show server_version');
    return `PostgreSQL ${String(r.rows[0].server_version).split(' ')[0]}`;
  } finally {
    await c.end();
  }
}

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n)
    ? '—'
    : n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

function table(): string {
  const lines = [
    '| measure | figure | p50 | p99 | errors | target (2 cores, PostgreSQL) |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    const target = r.target ? `${r.target} — ${r.met ? 'met' : '**not met**'}` : '';
    lines.push(
      `| ${r.measure} | ${fmt(r.value, r.unit === '%' || r.unit === 's' ? 1 : 0)} ${r.unit} | ${r.p50 === undefined ? '' : `${fmt(r.p50, 1)} ms`} | ${r.p99 === undefined ? '' : `${fmt(r.p99, 1)} ms`} | ${r.errors === undefined ? '' : fmt(r.errors)} | ${target} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  if (scale && !onPostgres) {
    console.error('--scale runs several Hookflow processes on one database: set DATABASE_URL (PostgreSQL).');
    process.exit(2);
  }
  const database = await postgresVersion();
  const date = new Date().toISOString().slice(0, 10);
  const receiver = new Receiver(await startHelper<{ port: number }>('receiver.ts'));
  try {
    if (only.has('ingest')) await benchIngest();
    if (only.has('bare')) await benchBare();
    if (only.has('e2e')) await benchEndToEnd(receiver);
    if (only.has('code')) {
      await benchCodeSandbox();
      await benchEndToEnd(receiver, { flow: CODE_FLOW, what: 'code node flow' });
    }
    if (only.has('loop-code')) await benchLoopCode();
    if (only.has('replay')) await benchReplay(receiver);
    if (only.has('delivery')) await benchDelivery(receiver);
    if (only.has('memory')) await benchMemory(receiver);
  } finally {
    await receiver.helper.stop();
  }
  const mode = scale ? '2 API + 2 worker processes' : 'one process';
  console.log('');
  console.log(`Hookflow bench — ${date} — ${database}, ${mode}`);
  console.log(`machine: ${machine()}`);
  console.log('');
  console.log(table());
  console.log('');
  for (const r of rows) if (r.note) console.log(`- ${r.measure}: ${r.note}`);
  console.log('');
  console.log('CPU per request/event during the measured phase (µs):');
  for (const r of rows) {
    if (!r.cpu) continue;
    const parts = [`Hookflow ${r.cpu.hookflow}`];
    if (r.cpu.postgres !== null) parts.push(`PostgreSQL ${r.cpu.postgres}`);
    if (r.cpu.loadgen !== null) parts.push(`load generator ${r.cpu.loadgen}`);
    console.log(`- ${r.measure}: ${parts.join(', ')}`);
  }
  if (args.json) {
    const dir = path.join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${date}.json`);
    let doc: { date: string; runs: unknown[] } = { date, runs: [] };
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch {}
    doc.runs.push({
      at: new Date().toISOString(),
      machine: {
        cores: os.cpus().length,
        cpu: os.cpus()[0]?.model?.trim(),
        memory_gib: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
      },
      database,
      mode,
      options: { seconds, connections, rate, messages },
      results: rows,
      audit_failed: failed,
    });
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
  }
  if (failed) {
    console.error('\nAUDIT FAILED: something accepted was not stored or not delivered (see the notes).');
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
