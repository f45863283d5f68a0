/**
 * Drill 2: the receiver answers 500 for a while, then recovers. A real app (in process, so its clock
 * is ours to move) with a short HOOKFLOW_RETRY_SCHEDULE and real jitter: every message is tried on
 * the schedule — never before its jittered delay, each delay within ±20 % of the scheduled one —
 * and after the recovery 100 % are delivered, each under one webhook-id throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.ts';

const SCHEDULE_S = [0, 5, 30, 120, 600];
const MESSAGES = 40;
/** Failed attempts before the receiver recovers. */
const DOWN_FOR = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (d: Date | string | null) => (d === null ? Number.NaN : new Date(d).getTime());

describe('a receiver that fails for a while, then recovers', () => {
  let t: TestApp;
  let receiver: Receiver;
  let offset = 0;
  let down = true;

  beforeAll(async () => {
    receiver = await startReceiver((_req, res) => {
      res.writeHead(down ? 500 : 200, { 'content-type': 'application/json' });
      res.end(down ? '{"error":"down for maintenance"}' : '{"ok":true}');
    });
    t = await startTestApp({
      now: () => Date.now() + offset,
      env: {
        HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32',
        HOOKFLOW_RETRY_SCHEDULE: SCHEDULE_S.join(','),
        // This drill follows the retry schedule of 40 failing messages; the circuit breaker would
        // (rightly) hold them back after 5 failures — it has its own tests (delivery-isolation).
        HOOKFLOW_CIRCUIT_FAILURES: '1000',
      },
      worker: { pollMs: 50 },
      delivery: { pollMs: 50 },
    });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const advance = (byMs: number) => {
    offset += byMs;
    t.app.hookflow.delivery!.poke();
  };
  const deliveries = () =>
    t.db.database.db
      .selectFrom('deliveries')
      .select(['message_id', 'status', 'attempts', 'next_attempt_at', 'locked_by'])
      .where('tenant_id', '=', 'default')
      .execute();
  const attempts = () =>
    t.db.database.db
      .selectFrom('attempts')
      .select(['message_id', 'status', 'response_status', 'created_at'])
      .where('tenant_id', '=', 'default')
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  /** Waits until every delivery has made `n` attempts and is settled (not held by the worker). */
  const allAfter = (n: number) =>
    eventually(
      async () => {
        const ds = await deliveries();
        return ds.length === MESSAGES && ds.every((d) => d.attempts === n && d.locked_by === null)
          ? ds
          : undefined;
      },
      20_000,
      `every delivery after ${n} attempt(s)`,
    );

  it('delivers 100 % after the recovery, on the schedule', async () => {
    const ep = await t.api('POST', '/api/v1/endpoints', {
      name: 'flaky receiver',
      url: `${receiver.url}/in`,
      events: ['order.created'],
    });
    expect(ep.status, JSON.stringify(ep.body)).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const r = await t.api('POST', '/api/v1/events', { event_type: 'order.created', data: { i } });
      expect(r.status).toBe(202);
      ids.push(r.body.id);
    }

    let ds = await allAfter(1);
    /** Per message: when each retry was due (the jittered schedule the worker wrote down). */
    const dueAt = new Map<string, number[]>(ids.map((id) => [id, []]));
    const scheduledDelays: number[][] = [];
    for (let k = 1; k < SCHEDULE_S.length && ds.some((d) => d.status === 'pending'); k++) {
      if (k === DOWN_FOR) down = false;
      const base = SCHEDULE_S[k] * 1000;
      const last = new Map<string, number>();
      for (const a of await attempts()) last.set(a.message_id, ms(a.created_at));
      const delays: number[] = [];
      for (const d of ds) {
        expect(d.status).toBe('pending');
        const delay = ms(d.next_attempt_at) - last.get(d.message_id)!;
        delays.push(delay);
        dueAt.get(d.message_id)!.push(ms(d.next_attempt_at));
      }
      scheduledDelays.push(delays);
      // Within the jitter bounds (a few ms of slack: the delay is taken from the clock at the
      // response, the attempt's time just after).
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(0.8 * base - 200);
        expect(delay).toBeLessThanOrEqual(1.2 * base);
      }
      // Not one retry while the clock is short of the earliest due time (the clock is real time
      // plus our offset, so it is aimed at from where it stands)…
      const now = () => Date.now() + offset;
      const firstDue = Math.min(...ds.map((d) => ms(d.next_attempt_at)));
      const lastDue = Math.max(...ds.map((d) => ms(d.next_attempt_at)));
      advance(Math.max(0, firstDue - now() - 1500));
      await sleep(300);
      expect((await deliveries()).every((d) => d.attempts === k)).toBe(true);
      // …and all of them once the latest one has passed.
      advance(Math.max(0, lastDue - now() + 500));
      ds = await allAfter(k + 1);
    }

    expect(ds.map((d) => d.status)).toEqual(ids.map(() => 'delivered'));
    // Every attempt came at or after its due time, with the answers the receiver gave.
    const all = await attempts();
    for (const id of ids) {
      const mine = all.filter((a) => a.message_id === id);
      expect(mine.map((a) => [a.status, a.response_status])).toEqual([
        ...Array.from({ length: DOWN_FOR }, () => ['failed', 500]),
        ['succeeded', 200],
      ]);
      const due = dueAt.get(id)!;
      for (let i = 1; i < mine.length; i++) expect(ms(mine[i].created_at)).toBeGreaterThanOrEqual(due[i - 1]);
    }
    // The jitter is real: the messages did not all get the same delay.
    for (const delays of scheduledDelays) expect(new Set(delays).size).toBeGreaterThan(1);
    // The same API view a user has.
    const viaApi = await t.api('GET', `/api/v1/messages/${ids[0]}/attempts`);
    expect(viaApi.body.data).toHaveLength(DOWN_FOR + 1);

    // At the receiver: each message under one webhook-id, delivered exactly once with a 200.
    const byId = new Map<string, number>();
    for (const r of receiver.received) {
      const id = String(r.headers['webhook-id']);
      byId.set(id, (byId.get(id) ?? 0) + 1);
    }
    expect([...byId.keys()].sort()).toEqual([...ids].sort());
    for (const n of byId.values()) expect(n).toBe(DOWN_FOR + 1);
    console.log(
      `[receiver outage drill] messages=${MESSAGES} delivered=${ds.filter((d) => d.status === 'delivered').length} ` +
        `attempts=${all.length} (failed=${all.filter((a) => a.status === 'failed').length}) ` +
        `receipts=${receiver.received.length} schedule=${SCHEDULE_S.join(',')}s ` +
        `delays ms (min..max per retry)=${scheduledDelays.map((d) => `${Math.min(...d)}..${Math.max(...d)}`).join(' ')}`,
    );
  }, 120_000);
});
