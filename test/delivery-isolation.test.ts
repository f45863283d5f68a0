/**
 * Isolation of endpoints (docs/api.md §5.7): every delivery recorded when its own attempt ends,
 * `max_in_flight`, fair claiming past a large backlog, the circuit breaker (also across two
 * processes on PostgreSQL) and leases given back on stop. Real apps and receivers on 127.0.0.1; a
 * fake clock (real time + an offset) walks through cool-downs.
 */
import type { ServerResponse } from 'node:http';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { claimDueDeliveries } from '../src/delivery/store.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { usingPostgres } from './helpers/db.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

const ALLOW_LOOPBACK = { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Clock = { now: () => number; advance(ms: number): void };

function clock(): Clock & { apps: TestApp[] } {
  let offset = 0;
  const c = {
    apps: [] as TestApp[],
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
      for (const t of c.apps) t.app.hookflow.delivery?.poke();
    },
  };
  return c;
}

async function app(c: ReturnType<typeof clock>, opts: { db?: TestApp['db']; stopGraceMs?: number } = {}) {
  const t = await startTestApp({
    db: opts.db,
    worker: { pollMs: 50 },
    now: c.now,
    env: ALLOW_LOOPBACK,
    delivery: { pollMs: 50, random: () => 0.5, timeoutMs: 20_000, stopGraceMs: opts.stopGraceMs },
  });
  c.apps.push(t);
  cleanups.push(() => t.close());
  return t;
}

async function receiver(handler?: Receiver['handler']): Promise<Receiver> {
  const r = await startReceiver(handler);
  cleanups.unshift(() => r.close());
  return r;
}

/** Answers nothing until released (or the receiver closes). */
function holding() {
  const held: ServerResponse[] = [];
  return {
    held,
    handler: (_req: unknown, res: ServerResponse) => {
      held.push(res);
    },
    release(status = 200) {
      for (const res of held.splice(0)) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end('{}');
      }
    },
  };
}

async function endpoint(t: TestApp, body: Record<string, unknown>) {
  const r = await t.api('POST', '/api/v1/endpoints', { name: 'isolated', events: ['*'], ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: string; max_in_flight: number; circuit: unknown };
}

async function publish(t: TestApp, eventType = 'order.created', data: unknown = {}) {
  const r = await t.api('POST', '/api/v1/events', { event_type: eventType, data });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body as { id: string };
}

async function deliveries(t: TestApp, endpointId: string) {
  return (await t.db.database.db
    .selectFrom('deliveries')
    .select(['id', 'message_id', 'status', 'attempts', 'locked_by'])
    .where('tenant_id', '=', 'default')
    .where('endpoint_id', '=', endpointId)
    .orderBy('created_at')
    .execute()) as {
    id: string;
    message_id: string;
    status: string;
    attempts: number;
    locked_by: string | null;
  }[];
}

async function circuitOf(t: TestApp, endpointId: string) {
  const r = await t.api('GET', `/api/v1/endpoints/${endpointId}`);
  expect(r.status).toBe(200);
  return r.body.circuit as { state: string; consecutive_failures: number; until: string | null };
}

describe('delivery isolation', () => {
  it('each delivery is recorded when its own attempt ends: a hanging receiver does not hold up another', async () => {
    const c = clock();
    const t = await app(c);
    const hang = holding();
    const slow = await receiver(hang.handler);
    const fast = await receiver();
    const a = await endpoint(t, { url: slow.url });
    const b = await endpoint(t, { url: fast.url });
    await publish(t);
    await eventually(() => slow.received.length === 1 || undefined, 10_000, 'the hanging receiver called');
    // B's delivery is recorded while A's attempt is still open (the old batch waited for both).
    const delivered = await eventually(
      async () => ((await deliveries(t, b.id))[0]?.status === 'delivered' ? true : undefined),
      10_000,
      "B's delivery recorded",
    );
    expect(delivered).toBe(true);
    const [pending] = await deliveries(t, a.id);
    expect(pending).toMatchObject({ status: 'pending', attempts: 0 });
    expect(pending.locked_by).not.toBeNull();
    hang.release();
    await eventually(
      async () => ((await deliveries(t, a.id))[0]?.status === 'delivered' ? true : undefined),
      10_000,
      "A's delivery recorded once answered",
    );
  });

  it('max_in_flight caps the attempts in flight to one endpoint; the rest wait without an attempt', async () => {
    const c = clock();
    const t = await app(c);
    const hang = holding();
    const slow = await receiver(hang.handler);
    const fast = await receiver();
    const a = await endpoint(t, { url: slow.url, max_in_flight: 2 });
    expect(a.max_in_flight).toBe(2);
    const b = await endpoint(t, { url: fast.url });
    for (let i = 0; i < 6; i++) await publish(t, 'order.created', { i });
    await eventually(() => fast.received.length === 6 || undefined, 10_000, 'B received all six');
    await eventually(() => slow.received.length === 2 || undefined, 10_000, 'two attempts in flight to A');
    // Give the worker every chance to send more than it may.
    for (let i = 0; i < 5; i++) {
      t.app.hookflow.delivery!.poke();
      await new Promise((r) => setTimeout(r, 40));
    }
    expect(slow.received.length).toBe(2);
    expect(slow.maxActive).toBe(2);
    const rows = await deliveries(t, a.id);
    expect(rows.every((d) => d.attempts === 0 && d.status === 'pending')).toBe(true);
    expect((await deliveries(t, b.id)).every((d) => d.status === 'delivered')).toBe(true);
    // Released two at a time: all six arrive, never more than two at once.
    const releaser = setInterval(() => hang.release(), 20);
    try {
      await eventually(
        async () => ((await deliveries(t, a.id)).every((d) => d.status === 'delivered') ? true : undefined),
        15_000,
        "all of A's deliveries",
      );
    } finally {
      clearInterval(releaser);
    }
    expect(slow.maxActive).toBe(2);
    expect((await deliveries(t, a.id)).every((d) => d.attempts === 1)).toBe(true);
  });

  it('max_in_flight is validated (1–1000) and defaults to 10', async () => {
    const c = clock();
    const t = await app(c);
    const r0 = await receiver();
    const ep = await endpoint(t, { url: r0.url });
    expect(ep.max_in_flight).toBe(10);
    expect(ep.circuit).toEqual({ state: 'closed', consecutive_failures: 0, until: null });
    for (const bad of [0, 1001, 2.5, '10', null]) {
      const r = await t.api('POST', '/api/v1/endpoints', { name: 'x', url: r0.url, max_in_flight: bad });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.code).toBeTruthy();
      expect(r.body.msg).toMatch(/max_in_flight/);
    }
    const p = await t.api('PATCH', `/api/v1/endpoints/${ep.id}`, { max_in_flight: 1000 });
    expect(p.status).toBe(200);
    expect(p.body.max_in_flight).toBe(1000);
    expect((await t.api('PATCH', `/api/v1/endpoints/${ep.id}`, { max_in_flight: -1 })).status).toBe(400);
  });

  it("a backlog of 100,000 deliveries to one endpoint does not delay another endpoint's fresh delivery", async () => {
    const c = clock();
    const t = await app(c);
    // The app's own worker must not take part: this test claims by hand.
    await t.app.hookflow.delivery!.stop();
    const r0 = await receiver();
    const a = await endpoint(t, { url: r0.url, events: ['backlog.item'], max_in_flight: 1000 });
    const b = await endpoint(t, { url: `${r0.url}/b`, events: ['fresh.item'] });
    const db = t.db.database.db;
    const past = new Date(c.now() - 3_600_000);
    await sql`
      insert into events (tenant_id, id, event_type, data, context, source, created_at)
      select 'default', 'evt_backlog_' || lpad(g::text, 8, '0'), 'backlog.item', jsonb_build_object('n', g),
             '{"tenant_id":"default"}'::jsonb, 'api', ${past}::timestamptz + g * interval '1 ms'
      from generate_series(1, 100000) g`.execute(db);
    const fresh = await publish(t, 'fresh.item');
    const backlog = await sql<{ n: string }>`select count(*) as n from deliveries
      where endpoint_id = ${a.id} and status = 'pending'`.execute(db);
    expect(Number(backlog.rows[0].n)).toBe(100_000);
    const claim = await claimDueDeliveries(db, {
      workerId: 'test-claimer',
      now: new Date(c.now()),
      leaseMs: 60_000,
      limit: 50,
    });
    expect(claim.deliveries).toHaveLength(50);
    // The fresh delivery is in the very first claim, although 100,000 older ones are due before it.
    expect(claim.deliveries.some((d) => d.endpoint_id === b.id && d.message_id === fresh.id)).toBe(true);
    expect(claim.deliveries.filter((d) => d.endpoint_id === a.id)).toHaveLength(49);
  }, 120_000);

  it('a claim gives each endpoint with due work its share, within the room max_in_flight leaves', async () => {
    const c = clock();
    const t = await app(c);
    await t.app.hookflow.delivery!.stop();
    const r0 = await receiver();
    const eps: { id: string }[] = [];
    for (let i = 0; i < 3; i++) eps.push(await endpoint(t, { url: `${r0.url}/${i}`, events: [`kind.${i}`] }));
    for (let i = 0; i < 3; i++) for (let k = 0; k < 20; k++) await publish(t, `kind.${i}`);
    const claim = await claimDueDeliveries(t.db.database.db, {
      workerId: 'test-claimer',
      now: new Date(c.now()),
      leaseMs: 60_000,
      limit: 9,
      // This process has 7 in flight to the first endpoint (max 10): it gets at most 3 more.
      busy: [{ tenantId: 'default', endpointId: eps[0].id, inFlight: 7 }],
    });
    const per = eps.map((e) => claim.deliveries.filter((d) => d.endpoint_id === e.id).length);
    expect(per).toEqual([3, 3, 3]);
    const full = await claimDueDeliveries(t.db.database.db, {
      workerId: 'test-claimer',
      now: new Date(c.now()),
      leaseMs: 60_000,
      limit: 100,
      busy: [{ tenantId: 'default', endpointId: eps[0].id, inFlight: 10 }],
    });
    expect(full.deliveries.filter((d) => d.endpoint_id === eps[0].id)).toHaveLength(0);
    // max_in_flight 10 each for the other two, minus nothing in flight.
    expect(full.deliveries.filter((d) => d.endpoint_id === eps[1].id)).toHaveLength(10);
  });

  it('after 5 consecutive failures the circuit opens; nothing is sent and no attempt is used until one probe; a 2xx closes it', async () => {
    const c = clock();
    const t = await app(c);
    let status = 500;
    const probe = holding();
    let holdNext = false;
    const r0 = await receiver((req, res) => {
      if (holdNext) {
        holdNext = false;
        probe.handler(req, res);
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const ep = await endpoint(t, { url: r0.url, retry_schedule: [0, 3600, 3600] });
    for (let i = 0; i < 5; i++) await publish(t, 'order.created', { i });
    await eventually(
      async () => ((await circuitOf(t, ep.id)).state === 'open' ? true : undefined),
      10_000,
      'the circuit open',
    );
    const open = await circuitOf(t, ep.id);
    expect(open.consecutive_failures).toBe(5);
    const until = new Date(open.until!).getTime();
    expect(until - c.now()).toBeGreaterThan(25_000);
    expect(until - c.now()).toBeLessThanOrEqual(30_000);
    const metrics = await fetch(`${t.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^hookflow_endpoint_circuit_open 1$/m);

    // While open: new deliveries wait, without an attempt.
    const seen = r0.received.length;
    expect(seen).toBe(5);
    for (let i = 0; i < 3; i++) await publish(t, 'order.created', { late: i });
    c.advance(10_000); // still inside the cool-down
    await new Promise((r) => setTimeout(r, 300));
    expect(r0.received.length).toBe(seen);
    const waiting = (await deliveries(t, ep.id)).slice(5);
    expect(waiting.every((d) => d.attempts === 0 && d.status === 'pending')).toBe(true);

    // Cool-down over: exactly one probe goes out; the circuit is half open while it is in flight.
    holdNext = true;
    c.advance(21_000);
    await eventually(() => probe.held.length === 1 || undefined, 10_000, 'the probe');
    expect((await circuitOf(t, ep.id)).state).toBe('half_open');
    await new Promise((r) => setTimeout(r, 300));
    expect(r0.received.length).toBe(seen + 1);
    // The probe fails: open again, for twice as long.
    probe.release(503);
    await eventually(
      async () => ((await circuitOf(t, ep.id)).state === 'open' ? true : undefined),
      10_000,
      'the circuit open again',
    );
    const again = await circuitOf(t, ep.id);
    expect(new Date(again.until!).getTime() - c.now()).toBeGreaterThan(55_000);
    expect(new Date(again.until!).getTime() - c.now()).toBeLessThanOrEqual(60_000);
    c.advance(30_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(r0.received.length).toBe(seen + 1);

    // The receiver is back: the next probe closes the circuit and everything waiting goes out.
    status = 200;
    c.advance(31_000);
    await eventually(
      async () => ((await circuitOf(t, ep.id)).state === 'closed' ? true : undefined),
      10_000,
      'the circuit closed',
    );
    expect((await circuitOf(t, ep.id)).consecutive_failures).toBe(0);
    const late = await eventually(
      async () => {
        const rows = (await deliveries(t, ep.id)).slice(5);
        return rows.filter((d) => d.status === 'delivered').length === 2 ? rows : undefined;
      },
      10_000,
      'the waiting deliveries delivered',
    );
    // Each waited on the circuit without using an attempt: one attempt each. The first probe
    // failed and waits for its own next retry (an hour on this schedule).
    expect(late.map((d) => d.attempts)).toEqual([1, 1, 1]);
    expect(late[0].status).toBe('pending');
    const after = await fetch(`${t.url}/metrics`).then((r) => r.text());
    expect(after).toMatch(/^hookflow_endpoint_circuit_open 0$/m);
  }, 60_000);

  it('a manual retry is sent while the circuit is open; a new url closes the circuit', async () => {
    const c = clock();
    const t = await app(c);
    let status = 500;
    const r0 = await receiver((_req, res) => {
      res.writeHead(status);
      res.end();
    });
    const ep = await endpoint(t, { url: r0.url, retry_schedule: [0] });
    const msgs = [];
    for (let i = 0; i < 5; i++) msgs.push(await publish(t, 'order.created', { i }));
    await eventually(
      async () => ((await circuitOf(t, ep.id)).state === 'open' ? true : undefined),
      10_000,
      'the circuit open',
    );
    await eventually(
      async () => ((await deliveries(t, ep.id)).every((d) => d.status === 'failed') ? true : undefined),
      10_000,
      'all failed',
    );
    status = 200;
    const retry = await t.api('POST', `/api/v1/messages/${msgs[0].id}/retry`, { endpoint_id: ep.id });
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    await eventually(
      async () => ((await deliveries(t, ep.id))[0].status === 'delivered' ? true : undefined),
      10_000,
      'the manual retry delivered',
    );
    // Its success closes the circuit.
    expect((await circuitOf(t, ep.id)).state).toBe('closed');

    status = 500;
    for (let i = 0; i < 5; i++) await publish(t, 'order.created', { again: i });
    await eventually(
      async () => ((await circuitOf(t, ep.id)).state === 'open' ? true : undefined),
      10_000,
      'the circuit open again',
    );
    const moved = await receiver();
    const p = await t.api('PATCH', `/api/v1/endpoints/${ep.id}`, { url: moved.url });
    expect(p.status).toBe(200);
    expect(p.body.circuit).toEqual({ state: 'closed', consecutive_failures: 0, until: null });
    // Saving the same url again leaves a circuit alone.
    const same = await t.api('PATCH', `/api/v1/endpoints/${ep.id}`, { url: moved.url, name: 'renamed' });
    expect(same.body.circuit.state).toBe('closed');
  }, 60_000);

  it('stop gives back the leases of deliveries still in flight, without an attempt', async () => {
    const c = clock();
    const t = await app(c, { stopGraceMs: 200 });
    const hang = holding();
    const slow = await receiver(hang.handler);
    const ep = await endpoint(t, { url: slow.url });
    await publish(t);
    await eventually(() => slow.received.length === 1 || undefined, 10_000, 'the attempt in flight');
    const [held] = await deliveries(t, ep.id);
    expect(held.locked_by).not.toBeNull();
    const started = Date.now();
    await t.app.hookflow.delivery!.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    const [given] = await deliveries(t, ep.id);
    expect(given).toMatchObject({ status: 'pending', attempts: 0, locked_by: null });
    const locked = await t.db.database.db
      .selectFrom('deliveries')
      .select(['locked_until'])
      .where('id', '=', given.id)
      .executeTakeFirstOrThrow();
    expect(locked.locked_until).toBeNull();
    // No attempt was recorded for the cut-off request.
    const attempts = await t.db.database.db
      .selectFrom('attempts')
      .select(['id'])
      .where('delivery_id', '=', given.id)
      .execute();
    expect(attempts).toHaveLength(0);
  });

  it.skipIf(!usingPostgres)(
    'the circuit holds across two processes on PostgreSQL, with one probe between them',
    async () => {
      const c = clock();
      const t1 = await app(c);
      const t2 = await app(c, { db: t1.db });
      const probe = holding();
      let mode: 'fail' | 'hold' | 'ok' = 'fail';
      const r0 = await receiver((req, res) => {
        if (mode === 'hold') return probe.handler(req, res);
        res.writeHead(mode === 'fail' ? 500 : 200);
        res.end();
      });
      const ep = await endpoint(t1, { url: r0.url, retry_schedule: [0, 3600] });
      for (let i = 0; i < 5; i++) await publish(t1, 'order.created', { i });
      await eventually(
        async () => ((await circuitOf(t1, ep.id)).state === 'open' ? true : undefined),
        10_000,
        'the circuit open',
      );
      const seen = r0.received.length;
      // Both processes see the open circuit: fresh deliveries wait in both.
      for (let i = 0; i < 6; i++) await publish(t2, 'order.created', { late: i });
      await new Promise((r) => setTimeout(r, 500));
      expect(r0.received.length).toBe(seen);
      // After the cool-down exactly one probe goes out, from one of the two.
      mode = 'hold';
      c.advance(31_000);
      await eventually(() => probe.held.length >= 1 || undefined, 10_000, 'the probe');
      await new Promise((r) => setTimeout(r, 500));
      expect(probe.held.length).toBe(1);
      mode = 'ok';
      probe.release(200);
      await eventually(
        async () =>
          (await deliveries(t1, ep.id)).slice(5).every((d) => d.status === 'delivered') ? true : undefined,
        10_000,
        'the waiting deliveries delivered by either process',
      );
      expect((await circuitOf(t2, ep.id)).state).toBe('closed');
    },
    60_000,
  );
});
