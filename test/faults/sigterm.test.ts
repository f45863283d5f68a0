/**
 * Graceful SIGTERM under load: a child Hookflow with runs in flight (their http node is waiting on
 * a slow service; some of those calls never end) and deliveries in flight gets SIGTERM. It stops
 * accepting (connection refused or 503, never a 2xx for something it did not store), finishes what
 * it can, releases the leases of what it cannot (so another process takes them at once, not after
 * the lease), and exits 0 within 30 s. Restarted on the same data, everything completes: nothing
 * accepted is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { drillFlow, HookflowProcess, type Outcome, receiptsByRun, sendLoad } from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('graceful SIGTERM under load', () => {
  let db: TestDatabase;
  let slow: Receiver;
  let sink: Receiver;
  let hookflow: HookflowProcess;
  /** While true, every tenth call to the slow service never gets an answer. */
  let hang = true;

  beforeAll(async () => {
    db = await createTestDatabase({ onDisk: true });
    await db.close();
    slow = await startReceiver(async (req, res) => {
      const n = JSON.parse(req.body).n as number;
      if (hang && n % 10 === 0) return; // held open past the shutdown
      await sleep(hang ? 2000 : 0);
      res.end('{"ok":true}');
    });
    sink = await startReceiver(async (_req, res) => {
      await sleep(300); // deliveries are in flight when the signal comes
      res.end('ok');
    });
    hookflow = await HookflowProcess.create({
      db,
      dataDir: db.dataDir,
      // Long leases: after the restart a run comes back at once only if its lease was released.
      env: { HOOKFLOW_RUN_LEASE_MS: '600000', HOOKFLOW_DELIVERY_LEASE_MS: '600000' },
    });
  });
  afterAll(async () => {
    await hookflow?.dispose();
    await slow?.close();
    await sink?.close();
    await db?.drop();
  });

  it('stops taking work, finishes or releases what it holds, exits 0 in time, and loses nothing', async () => {
    await hookflow.start();
    const ep = await hookflow.api('POST', '/api/v1/endpoints', {
      name: 'sink',
      url: `${sink.url}/in`,
      events: [],
      is_default: true,
    });
    expect(ep.status).toBe(201);
    const flow = await hookflow.api(
      'POST',
      '/api/v1/flows',
      drillFlow('sigterm drill', [
        {
          id: 'http_1',
          type: 'http',
          config: {
            method: 'POST',
            url: `${slow.url}/work`,
            body: { n: '${Webhook::Body.n}' },
            timeout_ms: 120_000,
          },
        },
      ]),
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const hookUrl: string = flow.body.webhooks[0].url;

    const first = await sendLoad({ url: () => hookUrl, count: 300, concurrency: 10 });
    expect(first.outcomes.every((o) => o.status === 200)).toBe(true);
    await eventually(
      () => slow.active >= 20 && sink.received.length > 0,
      60_000,
      'runs and deliveries in flight',
    );

    // More load while the signal arrives: none of it may be answered 2xx without being stored.
    let stopLate = false;
    const lateOutcomes: Outcome[] = [];
    const late = (async () => {
      let n = 100_000;
      while (!stopLate) {
        const i = n++;
        try {
          const res = await fetch(hookUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ n: i }),
            signal: AbortSignal.timeout(20_000),
          });
          const body = (await res.json().catch(() => undefined)) as any;
          lateOutcomes.push({ n: i, status: res.status, runId: body?.run_id, code: body?.code, tries: 1 });
        } catch {
          lateOutcomes.push({ n: i, status: 0, tries: 1 });
          await sleep(50);
        }
      }
    })();
    await sleep(300);
    const inFlightAtSignal = slow.active;
    const signalledAt = Date.now();
    const exit = await hookflow.kill('SIGTERM');
    const exitMs = Date.now() - signalledAt;
    stopLate = true;
    await late;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(30_000);
    expect(lateOutcomes.filter((o) => o.status !== 0 && o.status !== 200 && o.status !== 503)).toEqual([]);
    for (const o of lateOutcomes.filter((x) => x.status === 503)) expect(o.code).toBe('shutting_down');

    // Nothing held: every lease was given back (finished, or released for the next process).
    const database = await db.open();
    const heldRuns = await database.db
      .selectFrom('runs')
      .select(['id', 'status'])
      .where('locked_by', 'is not', null)
      .execute();
    const heldDeliveries = await database.db
      .selectFrom('deliveries')
      .select(['id'])
      .where('status', '=', 'pending')
      .where('locked_by', 'is not', null)
      .execute();
    const unfinished = await database.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirstOrThrow();
    await db.close();
    expect(heldRuns).toEqual([]);
    expect(heldDeliveries).toEqual([]);
    expect(Number(unfinished.n)).toBeGreaterThan(0); // the hanging ones, at least

    // Restarted: with 10-minute leases, only released work can finish now.
    hang = false;
    await hookflow.start();
    const accepted = [...first.outcomes, ...lateOutcomes].filter((o) => o.status === 200);
    const acceptedRuns = new Set(accepted.map((o) => o.runId!));
    await eventually(
      () => {
        const got = receiptsByRun(sink.received);
        return [...acceptedRuns].every((id) => got.has(id));
      },
      90_000,
      'every accepted run completed and delivered after the restart',
    );
    const allRuns = await hookflow.allRunIds();
    const receipts = receiptsByRun(sink.received);
    expect(allRuns.filter((id) => !receipts.has(id))).toEqual([]);
    expect([...acceptedRuns].filter((id) => !allRuns.includes(id))).toEqual([]);
    const second = await hookflow.kill('SIGTERM');
    expect(second.code).toBe(0);

    const audit = await db.open();
    const notSucceeded = await audit.db
      .selectFrom('runs')
      .select(['id', 'status'])
      .where('status', '!=', 'succeeded')
      .execute();
    await db.close();
    expect(notSucceeded).toEqual([]);
    console.log(
      `[sigterm drill] accepted=${accepted.length} (during shutdown: ${lateOutcomes.filter((o) => o.status === 200).length} ` +
        `accepted, ${lateOutcomes.filter((o) => o.status === 503).length} 503, ${lateOutcomes.filter((o) => o.status === 0).length} refused) ` +
        `http calls in flight at SIGTERM=${inFlightAtSignal} exit=${exit.code} in ${exitMs} ms ` +
        `runs left queued or released=${unfinished.n} runs=${allRuns.length} delivered=${receipts.size}`,
    );
  }, 240_000);
});
