/**
 * Runs are shared fairly across tenants (docs/api.md §4.4): a tenant whose runs wait on I/O fills
 * only its share of a worker's slots, so another tenant's runs still start at once — handed over at
 * ingest or claimed; a claim takes due runs round-robin across tenants, so one tenant's backlog
 * never keeps another's fresh run out of it; and a tenant's `max_concurrent_runs` (§6.2) caps its
 * running runs across processes.
 */
import type { ServerResponse } from 'node:http';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OutboundClient } from '../src/delivery/httpClient.ts';
import { createWebhookCaller } from '../src/delivery/webhookCall.ts';
import { claimRuns, fairTakes } from '../src/flows/runsStore.ts';
import { fairShare, RunWorker } from '../src/flows/worker.ts';
import type { LocalRunner } from '../src/ingest/groupCommit.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

const quiet = { info() {}, warn() {}, error() {} };
const PRIVATE = { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' };

async function newTenant(t: TestApp, name: string): Promise<{ id: string; key: string }> {
  const tenant = await t.api('POST', '/api/v1/tenants', { name });
  expect(tenant.status).toBe(201);
  const key = await t.api('POST', '/api/v1/api-keys', { name: `${name} key`, tenant_id: tenant.body.id });
  expect(key.status).toBe(201);
  return { id: tenant.body.id, key: key.body.key };
}

async function createFlow(t: TestApp, key: string, doc: Record<string, unknown>): Promise<string> {
  const res = await t.api('POST', '/api/v1/flows', { name: 'fairness', edges: [], ...doc }, key);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.webhooks[0].url as string;
}

/** webhook → http to `url` (the run waits for its answer). */
const callFlow = (url: string, settings: Record<string, unknown> = {}) => ({
  settings,
  nodes: [
    { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
    { id: 'http_1', type: 'http', config: { method: 'POST', url, timeout_ms: 300_000 } },
  ],
  edges: [{ from: 'webhook_1', to: 'http_1' }],
});

/** webhook (the caller waits for the flow) → respond. */
const respondFlow = (settings: Record<string, unknown> = {}) => ({
  settings,
  nodes: [
    {
      id: 'webhook_1',
      type: 'webhook',
      config: { methods: ['POST'], response: { mode: 'flow', timeout_ms: 20_000 } },
    },
    { id: 'respond_1', type: 'respond', config: { status: 200, body: { answered: '${Webhook::Body.n}' } } },
  ],
  edges: [{ from: 'webhook_1', to: 'respond_1' }],
});

const post = (url: string, body: unknown = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The tenant's runs by status, e.g. `{running: 9, queued: 6}`. */
const runsOf = async (t: TestApp, tenantId: string) => {
  const r = await sql<{ status: string; n: number }>`
    select status, count(*)::int as n from runs where tenant_id = ${tenantId} group by 1`.execute(
    t.db.database.db,
  );
  return Object.fromEntries(r.rows.map((x) => [x.status, x.n]));
};

describe('the fair share rule', () => {
  it('a tenant alone takes all slots but the headroom; with others here it stops at its share, and a tenant with nothing here always gets a slot while one is free', () => {
    // 200 slots: headroom 20, of which 10 only for tenants with nothing here.
    expect(fairShare({ slots: 200, used: 0, holders: 0, held: 0 })).toBe(180);
    expect(fairShare({ slots: 200, used: 180, holders: 1, held: 180 })).toBe(0);
    // A second tenant arrives while the first holds 180: it may grow into half the headroom …
    expect(fairShare({ slots: 200, used: 180, holders: 1, held: 0 })).toBe(10);
    expect(fairShare({ slots: 200, used: 185, holders: 2, held: 5 })).toBe(5);
    expect(fairShare({ slots: 200, used: 190, holders: 2, held: 10 })).toBe(0);
    // … the rest is for tenants with nothing here, one slot each while any is free.
    expect(fairShare({ slots: 200, used: 190, holders: 2, held: 0 })).toBe(1);
    expect(fairShare({ slots: 200, used: 199, holders: 11, held: 0 })).toBe(1);
    expect(fairShare({ slots: 200, used: 200, holders: 12, held: 0 })).toBe(0);
    // Two tenants below their share of 90 each.
    expect(fairShare({ slots: 200, used: 100, holders: 2, held: 50 })).toBe(40);
    // One slot: whoever comes first.
    expect(fairShare({ slots: 1, used: 0, holders: 0, held: 0 })).toBe(1);
    expect(fairShare({ slots: 1, used: 1, holders: 1, held: 0 })).toBe(0);
  });
});

describe('dividing a claim among tenants', () => {
  /** Wants as `tenant: wanted`, the first in the list waiting longest. */
  const wants = (o: Record<string, number>) =>
    Object.entries(o).map(([tenantId, wanted], i) => ({ tenantId, wanted, oldest: i }));

  it('meets the smallest wants in full and shares the rest equally, never more than the limit', () => {
    expect(fairTakes(wants({ a: 2000, b: 1 }), 5)).toEqual([
      ['a', 4],
      ['b', 1],
    ]);
    expect(fairTakes(wants({ a: 100, b: 100, c: 3 }), 100)).toEqual([
      ['a', 49],
      ['b', 48],
      ['c', 3],
    ]);
    expect(fairTakes(wants({ a: 7 }), 100)).toEqual([['a', 7]]);
    expect(fairTakes(wants({ a: 7, b: 0 }), 100)).toEqual([['a', 7]]);
  });

  it('with more tenants than the limit, the tenants waiting longest get one each', () => {
    const w = [
      { tenantId: 'a', wanted: 5, oldest: 30 },
      { tenantId: 'b', wanted: 1, oldest: 20 },
      { tenantId: 'c', wanted: 5, oldest: 10 },
    ];
    expect(fairTakes(w, 2)).toEqual([
      ['c', 1],
      ['b', 1],
    ]);
  });
});

describe('fair slots in a worker', () => {
  let t: TestApp;
  let hanging: Receiver;

  beforeAll(async () => {
    hanging = await startReceiver(() => {}); // never answers
    // 10 slots: tenant A alone may hold 9 (one is headroom).
    t = await startTestApp({ worker: { maxInFlight: 10, pollMs: 100, leaseMs: 30_000 }, env: PRIVATE });
  });
  afterAll(async () => {
    await hanging?.close(); // the hanging calls fail now, so the worker stops at once
    await t?.close();
  });

  it("a tenant whose runs hang on an unanswering server fills only its share: another tenant's flow-mode webhook is answered while they still hang", async () => {
    const a = await newTenant(t, 'Hangs');
    const b = await newTenant(t, 'Answers');
    const aHook = await createFlow(t, a.key, callFlow(`${hanging.url}/never`));
    for (let i = 0; i < 15; i++) expect((await post(aHook)).status).toBe(200);
    await eventually(() => hanging.active === 9, 10_000, "A's share of the slots taken by hanging calls");
    expect(await runsOf(t, a.id)).toEqual({ running: 9, queued: 6 });

    // Handed over to the worker at ingest …
    const bHook = await createFlow(t, b.key, respondFlow());
    const answers = await Promise.all([1, 2, 3].map((n) => post(bHook, { n })));
    for (const [i, res] of answers.entries()) {
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ answered: i + 1 });
    }
    // … and through the claim (a flow with max_concurrency is never handed over).
    const bClaimed = await createFlow(t, b.key, respondFlow({ max_concurrency: 5 }));
    const claimed = await post(bClaimed, { n: 4 });
    expect(claimed.status).toBe(200);
    expect(await claimed.json()).toEqual({ answered: 4 });

    // A's runs were still waiting on the server all along, and A took no more slots.
    expect(hanging.active).toBe(9);
    expect(hanging.received.length).toBe(9);
    expect(await runsOf(t, a.id)).toEqual({ running: 9, queued: 6 });
    await eventually(async () => (await runsOf(t, b.id)).succeeded === 4, 10_000, "B's runs stored as done");
  });

  it('runs of a tenant with max_concurrent_runs are not handed over at ingest, from the moment the setting is saved until it is cleared', async () => {
    const c = await newTenant(t, 'Capped at ingest');
    const hook = await createFlow(t, c.key, respondFlow());
    const real = t.app.hookflow.worker!.localRunner();
    const offered: string[] = [];
    const recording: LocalRunner = {
      ...real,
      reserve: (tenantId, n) => {
        offered.push(tenantId);
        return real.reserve(tenantId, n);
      },
    };
    t.app.hookflow.committer.setLocalRunner(recording);
    try {
      expect((await post(hook, { n: 1 })).status).toBe(200);
      expect(offered).toEqual([c.id]);
      // The ingest cache learns of the change at once (the settings write notifies it).
      expect((await t.api('PATCH', '/api/v1/settings', { max_concurrent_runs: 3 }, c.key)).status).toBe(200);
      const capped = await post(hook, { n: 2 });
      expect(capped.status).toBe(200);
      expect(await capped.json()).toEqual({ answered: 2 }); // claimed, counted, run
      expect(offered).toEqual([c.id]);
      expect((await t.api('PATCH', '/api/v1/settings', { max_concurrent_runs: null }, c.key)).status).toBe(
        200,
      );
      expect((await post(hook, { n: 3 })).status).toBe(200);
      expect(offered).toEqual([c.id, c.id]);
    } finally {
      t.app.hookflow.committer.setLocalRunner(real);
    }
  });
});

describe('fair claiming', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(); // api role: runs stay queued for the claims made here
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(async () => {
    await sql`delete from runs`.execute(t.db.database.db);
  });

  /** `n` queued runs of a tenant, due since `ago` ms before `now` (one statement). */
  const backlog = (tenantId: string, n: number, now: Date, ago: number) =>
    sql`
      insert into runs (tenant_id, id, flow_id, trigger_node_id, status, trigger, run_at)
      select ${tenantId}, 'run_backlog_' || lpad(g::text, 6, '0'), 'flw_backlog', 'webhook_1', 'queued',
             '{}'::jsonb, ${new Date(now.getTime() - ago)}::timestamptz + g * interval '1 ms'
      from generate_series(1, ${n}) g`.execute(t.db.database.db);

  it("a backlog of 2,000 due runs of one tenant does not keep another tenant's fresh run out of the next claim", async () => {
    const a = await newTenant(t, 'Backlog');
    const b = await newTenant(t, 'Fresh');
    const now = new Date(Date.now() + 60_000);
    await backlog(a.id, 2000, now, 3_600_000);
    const hook = await createFlow(t, b.key, {
      nodes: [{ id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } }],
    });
    const fresh = ((await (await post(hook)).json()) as { run_id: string }).run_id;

    const claimed = await claimRuns(t.db.database.db, { workerId: 'w1', now, leaseMs: 30_000, limit: 5 });
    expect(claimed).toHaveLength(5);
    expect(claimed.map((r) => r.id)).toContain(fresh);
    // The other four are A's oldest.
    const fromA = claimed
      .filter((r) => r.tenant_id === a.id)
      .map((r) => r.id)
      .sort();
    expect(fromA).toEqual(['000001', '000002', '000003', '000004'].map((n) => `run_backlog_${n}`));
    expect(await runsOf(t, a.id)).toEqual({ running: 4, queued: 1996 });
  });

  it('a tenant at its share gets nothing from a claim while other tenants get theirs, and the claim says runs were held back', async () => {
    const a = await newTenant(t, 'At its share');
    const b = await newTenant(t, 'Below its share');
    const now = new Date(Date.now() + 60_000);
    await backlog(a.id, 50, now, 60_000);
    const hook = await createFlow(t, b.key, {
      nodes: [{ id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } }],
    });
    for (let i = 0; i < 3; i++) expect((await post(hook)).status).toBe(200);

    const claim = (tenants: Map<string, number>, otherTenants: number) =>
      claimRuns(t.db.database.db, { workerId: 'w1', now, leaseMs: 30_000, limit: 10, tenants, otherTenants });
    const first = await claim(new Map([[a.id, 0]]), 2);
    expect(first.map((r) => r.tenant_id)).toEqual([b.id, b.id]);
    expect(first.heldBack).toBe(true);
    // A's allowance back (one of its runs ended): A gets what it may take, B the rest.
    const second = await claim(
      new Map([
        [a.id, 3],
        [b.id, 5],
      ]),
      0,
    );
    expect(second.filter((r) => r.tenant_id === a.id)).toHaveLength(3);
    expect(second.filter((r) => r.tenant_id === b.id)).toHaveLength(1);
    expect(second.heldBack).toBe(false);
  });
});

describe('max_concurrent_runs', () => {
  let t: TestApp;
  let gate: Receiver;
  let client: OutboundClient;
  const waiting: ServerResponse[] = [];
  let open = false;
  const workers: RunWorker[] = [];
  /** The capped tenant's calls being answered right now, and the most at once. */
  let cappedActive = 0;
  let cappedMax = 0;

  beforeAll(async () => {
    gate = await startReceiver((req, res) => {
      if (req.url === '/capped') {
        cappedMax = Math.max(cappedMax, ++cappedActive);
        res.on('close', () => cappedActive--);
      }
      if (open) res.end('ok');
      else waiting.push(res);
    });
    t = await startTestApp({ env: PRIVATE }); // api role: only the two workers below run runs
    client = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });
  });
  afterAll(async () => {
    open = true;
    for (const res of waiting.splice(0)) res.end('ok');
    await Promise.all(workers.map((w) => w.stop(2000)));
    await client?.close();
    await t?.close();
    await gate?.close();
  });

  const worker = (workerId: string) => {
    const database = t.db.database;
    const w = new RunWorker({
      database,
      secretKey: t.secretKey,
      client,
      webhookCall: createWebhookCaller({ database, secretKey: t.secretKey, client }),
      log: quiet,
      workerId,
      maxInFlight: 20,
      pollMs: 50,
      leaseMs: 30_000,
    });
    workers.push(w);
    return w;
  };

  it('defaults to null (no cap), takes 1–10000 or null, and refuses anything else with a 400 naming the field', async () => {
    const { key } = await newTenant(t, 'Settings');
    expect((await t.api('GET', '/api/v1/settings', undefined, key)).body.max_concurrent_runs).toBeNull();
    const set = await t.api('PATCH', '/api/v1/settings', { max_concurrent_runs: 25 }, key);
    expect(set.status).toBe(200);
    expect(set.body.max_concurrent_runs).toBe(25);
    expect((await t.api('GET', '/api/v1/settings', undefined, key)).body.max_concurrent_runs).toBe(25);
    for (const bad of [0, -1, 10_001, 2.5, '5', true, {}]) {
      const res = await t.api('PUT', '/api/v1/settings', { max_concurrent_runs: bad }, key);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.code).toBe('invalid_request');
      expect(res.body.msg).toMatch(/max_concurrent_runs/);
    }
    // Nothing refused was stored; 10000 and null are taken; PUT without the field clears it.
    expect((await t.api('GET', '/api/v1/settings', undefined, key)).body.max_concurrent_runs).toBe(25);
    expect((await t.api('PUT', '/api/v1/settings', { max_concurrent_runs: 10_000 }, key)).status).toBe(200);
    const cleared = await t.api('PATCH', '/api/v1/settings', { max_concurrent_runs: null }, key);
    expect(cleared.body.max_concurrent_runs).toBeNull();
    await t.api('PATCH', '/api/v1/settings', { max_concurrent_runs: 7 }, key);
    expect((await t.api('PUT', '/api/v1/settings', {}, key)).body.max_concurrent_runs).toBeNull();
  });

  it('caps a tenant across two workers, and the rest of its runs run as slots free', async () => {
    const capped = await newTenant(t, 'Capped');
    const other = await newTenant(t, 'Not capped');
    expect((await t.api('PATCH', '/api/v1/settings', { max_concurrent_runs: 2 }, capped.key)).status).toBe(
      200,
    );
    const cappedHook = await createFlow(t, capped.key, callFlow(`${gate.url}/capped`));
    const otherHook = await createFlow(t, other.key, callFlow(`${gate.url}/other`));
    for (let i = 0; i < 6; i++) expect((await post(cappedHook)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await post(otherHook)).status).toBe(200);

    await Promise.all([worker('worker-1').start(), worker('worker-2').start()]);
    const calls = (path: string) => gate.received.filter((r) => r.url === path).length;
    // The other tenant is not held up by the cap; the capped one runs 2.
    await eventually(() => calls('/other') === 3 && calls('/capped') === 2, 10_000, 'calls started');
    expect(await runsOf(t, capped.id)).toEqual({ running: 2, queued: 4 });
    // A third worker's claim (any process) gets none of the capped tenant's runs either.
    const third = await claimRuns(t.db.database.db, {
      workerId: 'worker-3',
      now: new Date(),
      leaseMs: 30_000,
      limit: 10,
    });
    expect(third).toHaveLength(0);

    // Answer what waits, and everything from now on: the remaining runs go through, 2 at a time.
    open = true;
    for (const res of waiting.splice(0)) res.end('ok');
    await eventually(
      async () => (await runsOf(t, capped.id)).succeeded === 6,
      20_000,
      "the capped tenant's runs all done",
    );
    expect((await runsOf(t, other.id)).succeeded).toBe(3);
    expect(calls('/capped')).toBe(6);
    expect(cappedMax).toBe(2);
  });
});
