/**
 * Drill 3: PostgreSQL restarted under load. Never the machine's shared server: a private cluster
 * (initdb into a temp dir, its own port) that this file stops and starts while a Hookflow child
 * process takes a steady stream of webhooks. Requests during the outage get a quick 503 in the
 * error shape (no hang, no crash), /readyz goes red and green again, nothing is answered 2xx that
 * was not stored, and once the database is back the same process runs and delivers everything.
 *
 * Only with TEST_DATABASE_URL (the PostgreSQL run of the suite): on PGlite the database lives
 * inside the process and cannot be restarted under it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usingPostgres } from '../helpers/db.ts';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { drillFlow, HookflowProcess, PrivatePostgres, receiptsByRun } from './helpers.ts';

type Sent = { n: number; phase: Phase; status: number; code?: string; runId?: string; ms: number };
type Phase = 'before' | 'outage' | 'after';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const title = usingPostgres
  ? 'PostgreSQL restarted under load'
  : 'PostgreSQL restarted under load — skipped: needs TEST_DATABASE_URL (it then starts a private PostgreSQL cluster; PGlite runs inside the process)';

describe.skipIf(!usingPostgres)(title, () => {
  let cluster: PrivatePostgres;
  let receiver: Receiver;
  let hookflow: HookflowProcess;
  let dataDir: string;

  beforeAll(async () => {
    cluster = await PrivatePostgres.create();
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    await admin.query('create database hookflow');
    await admin.end();
    dataDir = mkdtempSync(path.join(tmpdir(), 'hookflow-pgrestart-'));
    receiver = await startReceiver();
    hookflow = await HookflowProcess.create({
      databaseUrl: cluster.url('hookflow'),
      dataDir,
      env: { HOOKFLOW_RUN_LEASE_MS: '2000', HOOKFLOW_DELIVERY_LEASE_MS: '3000' },
    });
  });
  afterAll(async () => {
    await hookflow?.dispose();
    await receiver?.close();
    await cluster?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 during the outage, never 2xx for what it did not store, and resumes without a restart', async () => {
    await hookflow.start();
    expect(
      (
        await hookflow.api('POST', '/api/v1/endpoints', {
          name: 'sink',
          url: `${receiver.url}/in`,
          events: [],
          is_default: true,
        })
      ).status,
    ).toBe(201);
    const flow = await hookflow.api('POST', '/api/v1/flows', drillFlow('pg restart drill'));
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const hookUrl: string = flow.body.webhooks[0].url;
    const pid = hookflow.child!.pid;

    // A steady stream: 10 senders, one request after another, no retries.
    let phase: Phase = 'before';
    let stop = false;
    let n = 0;
    const sent: Sent[] = [];
    const sender = async () => {
      while (!stop) {
        const i = n++;
        const p = phase;
        const t0 = Date.now();
        try {
          const res = await fetch(hookUrl, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...(i % 2 === 0 ? { 'idempotency-key': `pg-${i}` } : {}),
            },
            body: JSON.stringify({ n: i }),
            signal: AbortSignal.timeout(20_000),
          });
          const body = (await res.json().catch(() => undefined)) as any;
          sent.push({
            n: i,
            phase: p,
            status: res.status,
            code: body?.code,
            runId: body?.run_id,
            ms: Date.now() - t0,
          });
          if (res.status >= 500) await sleep(50);
        } catch (err) {
          const timedOut = (err as Error).name === 'TimeoutError';
          sent.push({
            n: i,
            phase: p,
            status: timedOut ? -1 : 0,
            code: (err as Error).message,
            ms: Date.now() - t0,
          });
          await sleep(50);
        }
      }
    };
    const senders = Array.from({ length: 10 }, sender);
    const readyz = async () =>
      (await fetch(`${hookflow.url}/readyz`, { signal: AbortSignal.timeout(10_000) })).status;

    await sleep(2000);
    phase = 'outage';
    await cluster.stop();
    const red = await eventually(
      async () => {
        const status = await readyz();
        return status !== 200 ? status : undefined;
      },
      15_000,
      '/readyz red',
    );
    await sleep(3000);
    await cluster.start();
    await eventually(async () => (await readyz()) === 200, 60_000, '/readyz green again');
    phase = 'after';
    await sleep(3000);
    stop = true;
    await Promise.all(senders);

    // The same process throughout.
    expect(hookflow.running).toBe(true);
    expect(hookflow.child!.pid).toBe(pid);
    expect(hookflow.starts).toBe(1);

    const by = (p: Phase) => sent.filter((s) => s.phase === p);
    const ok = sent.filter((s) => s.status >= 200 && s.status < 300);
    const unavailable = by('outage').filter((s) => s.status === 503);
    // No hang, no dropped connection, no 500: only 2xx, or a 503 in the error shape.
    expect(sent.filter((s) => s.status <= 0)).toEqual([]);
    expect(sent.filter((s) => !(s.status === 200 || s.status === 503))).toEqual([]);
    expect(unavailable.length).toBeGreaterThan(0);
    for (const s of unavailable) expect(s.code).toMatch(/^(database_unavailable|not_stored)$/);
    expect(Math.max(...unavailable.map((s) => s.ms))).toBeLessThan(15_000);
    expect(by('before').filter((s) => s.status === 200).length).toBeGreaterThan(0);
    expect(by('after').filter((s) => s.status === 200).length).toBeGreaterThan(0);
    expect(red).toBe(503);

    // Processing resumed in this process: every accepted request's run completes and is delivered.
    const acceptedRuns = new Set(ok.map((s) => s.runId!));
    await eventually(
      () => {
        const got = receiptsByRun(receiver.received);
        return [...acceptedRuns].every((id) => got.has(id));
      },
      90_000,
      'every accepted run delivered after the restart',
    );

    // The audit, in the database.
    const client = new pg.Client({ connectionString: cluster.url('hookflow') });
    await client.connect();
    try {
      const settled = await eventually(
        async () => {
          const runs = await client.query<{ id: string; status: string }>('select id, status from runs');
          const pending = await client.query(`select 1 from deliveries where status <> 'delivered'`);
          return runs.rows.every((r) => r.status === 'succeeded') && pending.rowCount === 0
            ? runs.rows
            : undefined;
        },
        60_000,
        'every run succeeded and every delivery delivered',
      );
      // The NOTIFY subscription came back too (a connection whose last statement was a LISTEN).
      const listening = await client.query(
        `select 1 from pg_stat_activity where datname = 'hookflow' and query ilike 'LISTEN %'`,
      );
      expect(listening.rowCount).toBeGreaterThan(0);
      const stored = new Set(settled.map((r) => r.id));
      expect(
        [...acceptedRuns].filter((id) => !stored.has(id)),
        '2xx answers without a stored run',
      ).toEqual([]);
      const receipts = receiptsByRun(receiver.received);
      expect(settled.filter((r) => !receipts.has(r.id))).toEqual([]);
      for (const set of receipts.values()) expect(set.size).toBe(1);
      console.log(
        `[pg restart drill] requests=${sent.length} (before=${by('before').length} outage=${by('outage').length} ` +
          `after=${by('after').length}) accepted=${ok.length} 503=${sent.filter((s) => s.status === 503).length} ` +
          `(slowest ${Math.max(...unavailable.map((s) => s.ms))} ms) runs=${settled.length} ` +
          `delivered=${receipts.size} receipts=${receiver.received.length} readyz during outage=${red}`,
      );
    } finally {
      await client.end();
    }
  }, 240_000);
});
