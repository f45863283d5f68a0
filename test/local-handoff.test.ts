/**
 * Runs accepted by a process that also runs workers are stored already claimed under its worker's
 * lease and executed from memory (no claim round trip). If the process dies in between, the lease
 * hands them to any worker.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRunner } from '../src/ingest/groupCommit.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { eventually } from './helpers/receiver.ts';

describe('local hand-off of accepted runs', () => {
  let t: TestApp;
  let realRunner: LocalRunner;

  beforeAll(async () => {
    t = await startTestApp({ worker: { leaseMs: 1500, pollMs: 100 } });
    realRunner = t.app.hookflow.worker!.localRunner();
  });
  afterAll(async () => {
    await t.close();
  });

  async function flow(settings: Record<string, unknown> = {}) {
    const res = await t.api('POST', '/api/v1/flows', {
      name: `handoff ${Math.random()}`,
      settings,
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
        { id: 'set_1', type: 'set', config: { values: { 'vars.n': '${Webhook::Body.n}' } } },
      ],
      edges: [{ from: 'webhook_1', to: 'set_1' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; webhooks: { url: string }[] };
  }
  async function post(url: string, n: number): Promise<string> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { run_id: string }).run_id;
  }
  const row = async (id: string) =>
    (
      await sql<{ status: string; locked_by: string | null; attempts: number; vars: any }>`
        select status, locked_by, attempts, vars from runs where id = ${id}`.execute(t.db.database.db)
    ).rows[0];

  it('a run accepted by a process with a worker is handed to that worker from memory and completes', async () => {
    const adopted: string[] = [];
    t.app.hookflow.committer.setLocalRunner({
      ...realRunner,
      adopt: (runs, claim) => {
        adopted.push(...runs.map((r) => r.id));
        realRunner.adopt(runs, claim);
      },
    });
    const f = await flow();
    const ids = await Promise.all([1, 2, 3].map((n) => post(f.webhooks[0].url, n)));
    expect(adopted).toEqual(expect.arrayContaining(ids));
    for (const [i, id] of ids.entries()) {
      const r = await eventually(
        async () => ((await row(id)).status === 'succeeded' ? row(id) : undefined),
        10_000,
        `run ${id} done`,
      );
      expect(r.attempts).toBe(1);
      expect(r.vars).toEqual({ n: i + 1 });
    }
  });

  it('runs stored as claimed by a process that died before running them are taken over after the lease', async () => {
    // A runner that takes the runs and then "dies": it never runs them.
    t.app.hookflow.committer.setLocalRunner({
      workerId: 'dead-process',
      leaseMs: 1500,
      now: Date.now,
      reserve: (_tenantId, n) => n,
      unreserve: () => {},
      adopt: () => {},
    });
    const f = await flow();
    const ids = await Promise.all([1, 2].map((n) => post(f.webhooks[0].url, n)));
    for (const id of ids)
      expect(await row(id)).toMatchObject({ status: 'running', locked_by: 'dead-process' });
    t.app.hookflow.committer.setLocalRunner(realRunner);
    t.app.hookflow.worker!.poke();
    for (const id of ids) {
      const r = await eventually(
        async () => ((await row(id)).status === 'succeeded' ? row(id) : undefined),
        15_000,
        `run ${id} taken over`,
      );
      expect(r.attempts).toBe(2);
    }
  });

  it('a flow with max_concurrency is never handed over: its runs go through the counting claim', async () => {
    const offered: number[] = [];
    t.app.hookflow.committer.setLocalRunner({
      ...realRunner,
      reserve: (tenantId, n) => {
        offered.push(n);
        return realRunner.reserve(tenantId, n);
      },
    });
    const f = await flow({ max_concurrency: 1 });
    const id = await post(f.webhooks[0].url, 7);
    // Not even offered: only runs that may be handed over are (per tenant) reserved for.
    expect(offered).toEqual([]);
    const r = await eventually(
      async () => ((await row(id)).status === 'succeeded' ? row(id) : undefined),
      10_000,
      'limited run done',
    );
    expect(r.attempts).toBe(1);
    t.app.hookflow.committer.setLocalRunner(realRunner);
  });
});
