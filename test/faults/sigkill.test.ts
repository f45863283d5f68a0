/**
 * Drill 1: Hookflow SIGKILLed at random moments while 5,000 webhooks come in. The process runs as a
 * real child (role all) on on-disk PGlite or the test PostgreSQL database; every run's
 * flow.completed goes to the tenant's default endpoint, a real receiver on 127.0.0.1. The client
 * retries what never got an answer (even-numbered requests carry an Idempotency-Key, odd ones do
 * not, so both ingest paths are under fire). Audit: every 2xx has its stored run, every run
 * succeeded, and its flow.completed reached the receiver; repeats only under the same webhook-id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { drillFlow, HookflowProcess, receiptsByRun, sendLoad } from './helpers.ts';

const REQUESTS = 5000;
const KILLS = 4;

describe('SIGKILL at random moments during 5,000 requests', () => {
  let db: TestDatabase;
  let receiver: Receiver;
  let hookflow: HookflowProcess;

  beforeAll(async () => {
    db = await createTestDatabase({ onDisk: true });
    await db.close(); // the child owns the data while it runs
    receiver = await startReceiver();
    hookflow = await HookflowProcess.create({
      db,
      dataDir: db.dataDir,
      env: { HOOKFLOW_RUN_LEASE_MS: '2000', HOOKFLOW_DELIVERY_LEASE_MS: '3000' },
    });
  });
  afterAll(async () => {
    await hookflow?.dispose();
    await receiver?.close();
    await db?.drop();
  });

  it('loses no accepted request, run or delivery', async () => {
    await hookflow.start();
    const ep = await hookflow.api('POST', '/api/v1/endpoints', {
      name: 'default sink',
      url: `${receiver.url}/in`,
      events: [],
      is_default: true,
    });
    expect(ep.status, JSON.stringify(ep.body)).toBe(201);
    const flow = await hookflow.api('POST', '/api/v1/flows', drillFlow('sigkill drill'));
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const hookUrl: string = flow.body.webhooks[0].url;

    // Kill points: random counts of accepted requests, each followed by a random short pause.
    const killAt = Array.from(
      { length: KILLS },
      () => 300 + Math.floor(Math.random() * (REQUESTS - 800)),
    ).sort((a, b) => a - b);
    let kills = 0;
    let killing: Promise<void> | undefined;
    const killAndRestart = async () => {
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      const exit = await hookflow.kill('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
      kills++;
      await hookflow.start();
    };
    const load = await sendLoad({
      url: () => hookUrl,
      count: REQUESTS,
      concurrency: 20,
      onAccepted: (accepted) => {
        if (!killing && kills < KILLS && accepted >= killAt[kills])
          killing = killAndRestart().finally(() => {
            killing = undefined;
          });
      },
    });
    await killing;
    expect(kills).toBe(KILLS);

    const accepted = load.outcomes.filter((o) => o.status >= 200 && o.status < 300);
    expect(load.outcomes.filter((o) => o.status === 0)).toEqual([]); // none gave up
    expect(accepted).toHaveLength(REQUESTS);
    const acceptedRuns = new Set(accepted.map((o) => o.runId!));

    // Everything accepted is eventually run and delivered; then so is every run that exists.
    await eventually(
      () => {
        const got = receiptsByRun(receiver.received);
        return [...acceptedRuns].every((id) => got.has(id));
      },
      180_000,
      'a flow.completed delivery for every accepted request',
    );
    const allRuns = await hookflow.allRunIds();
    await eventually(
      () => {
        const got = receiptsByRun(receiver.received);
        return allRuns.every((id) => got.has(id));
      },
      60_000,
      'a flow.completed delivery for every stored run',
    );
    // A delivery sent by a process killed before it recorded the attempt is received, but still
    // pending in the database until its lease ends and it is sent again (same webhook-id).
    await eventually(
      async () => (await hookflow.pendingDeliveries()) === 0,
      60_000,
      'every delivery recorded as done',
    );
    const stopped = await hookflow.kill('SIGTERM');
    expect(stopped.code).toBe(0);

    // The audit, in the database itself.
    const database = await db.open();
    const runs = await database.db
      .selectFrom('runs')
      .select(['id', 'status', 'trigger'])
      .where('tenant_id', '=', 'default')
      .execute();
    const runIds = new Set(runs.map((r) => r.id));
    const missing = [...acceptedRuns].filter((id) => !runIds.has(id));
    expect(missing, 'accepted requests without a stored run').toEqual([]);
    expect(runs.filter((r) => r.status !== 'succeeded').map((r) => [r.id, r.status])).toEqual([]);

    // Runs per request number: a keyed request has exactly one; an unkeyed one more than one only
    // when it was sent again after its connection died (stored, but the answer was lost).
    const perN = new Map<number, number>();
    for (const r of runs) {
      const n = Number((r.trigger as any).body.n);
      perN.set(n, (perN.get(n) ?? 0) + 1);
    }
    const tries = new Map(load.outcomes.map((o) => [o.n, o.tries]));
    for (const [n, count] of perN) {
      if (n % 2 === 0) expect(count, `runs of keyed request ${n}`).toBe(1);
      else if (count > 1) expect(tries.get(n)!, `request ${n} has ${count} runs`).toBeGreaterThan(1);
    }
    expect(perN.size).toBe(REQUESTS);

    const completions = await database.db
      .selectFrom('events')
      .select(['id', 'context'])
      .where('tenant_id', '=', 'default')
      .where('event_type', '=', 'flow.completed')
      .execute();
    const eventOfRun = new Map(completions.map((e) => [(e.context as any).run_id as string, e.id]));
    expect(completions).toHaveLength(runs.length);
    const undelivered = await database.db
      .selectFrom('deliveries')
      .select(['id', 'status'])
      .where('status', '!=', 'delivered')
      .execute();
    expect(undelivered).toEqual([]);
    await db.close();

    // At the receiver: each run's completion, only ever under its own message's webhook-id.
    const receipts = receiptsByRun(receiver.received);
    for (const r of runs) expect([...(receipts.get(r.id) ?? [])]).toEqual([eventOfRun.get(r.id)]);
    const totalReceipts = receiver.received.length;
    const duplicates = totalReceipts - receipts.size;
    expect(receipts.size).toBe(runs.length);

    console.log(
      `[sigkill drill] ${hookflow.starts - 1} restarts, kills=${kills} accepted=${accepted.length} ` +
        `runs=${runs.length} (unanswered extra runs of unkeyed retries=${runs.length - REQUESTS}) ` +
        `delivered=${receipts.size} duplicate receipts (same webhook-id)=${duplicates} ` +
        `client retries: connection errors=${load.connectionErrors} 5xx=${load.serverErrors}`,
    );
  }, 420_000);
});
