/**
 * Error flows (docs/api.md §3.2 `settings.error_flow_id`, §4.4): a failed run starts a run of the
 * flow's error flow with `${Webhook::Body.run}` and method ERROR, in the transaction that stores
 * the failure; an error run's own failure starts none; the setting is checked on save. A real app,
 * worker and database, and a fake clock.
 */
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

type LogLine = { msg?: string; [k: string]: unknown };

/** A pino destination that keeps every line, parsed. */
function captureLines(): { lines: LogLine[]; stream: Writable } {
  const lines: LogLine[] = [];
  let rest = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
      done();
    },
  });
  return { lines, stream };
}

describe('error flows', () => {
  let t: TestApp;
  let receiver: Receiver;
  const clock = fakeClock();
  const LEASE_MS = 5000;
  const log = captureLines();

  beforeAll(async () => {
    // /slow answers only after moving the clock past a run's timeout (no real waiting).
    receiver = await startReceiver((req, res) => {
      if (req.url.startsWith('/slow')) clock.advance(120_000);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    t = await startTestApp({
      worker: { leaseMs: LEASE_MS, pollMs: 50 },
      now: clock.now,
      env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' },
      logger: { level: 'warn', stream: log.stream },
    });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  type Flow = { id: string; name: string; webhooks: { url: string }[] };
  const create = async (
    name: string,
    nodes: unknown[],
    edges: unknown[],
    settings: Record<string, unknown> = {},
  ): Promise<Flow> => {
    const res = await t.api('POST', '/api/v1/flows', {
      name,
      nodes: [{ id: 'webhook_1', type: 'webhook' }, ...nodes],
      edges,
      settings,
    });
    expect(res.status, res.text).toBe(201);
    return res.body;
  };
  /** An error flow that records what it was started with. */
  const createErrorFlow = (settings: Record<string, unknown> = {}, name = 'on error') =>
    create(
      name,
      [
        {
          id: 'set_1',
          type: 'set',
          config: {
            values: {
              'vars.method': '${Webhook::Method}',
              'vars.failed_run': '${Webhook::Body.run.id}',
              'vars.failed_node': '${Webhook::Body.run.failed_node}',
            },
          },
        },
      ],
      [{ from: 'webhook_1', to: 'set_1' }],
      settings,
    );
  /** A flow whose runs fail at fail_1 (after set_1 ran). */
  const createFailing = (errorFlowId: string | null, name = 'orders') =>
    create(
      name,
      [
        { id: 'set_1', type: 'set', config: { values: { 'vars.sku': '${Webhook::Body.sku}' } } },
        { id: 'fail_1', type: 'fail', config: { message: 'out of stock: ${Webhook::Body.sku}' } },
      ],
      [
        { from: 'webhook_1', to: 'set_1' },
        { from: 'set_1', to: 'fail_1' },
      ],
      { error_flow_id: errorFlowId },
    );
  const start = async (flow: Flow, body: unknown = { sku: 'A-1' }) => {
    const res = await fetch(`${flow.webhooks[0]!.url}?src=shop`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'x-shop': 'demo' },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { run_id: string }).run_id;
  };
  const run = async (id: string) => (await t.api('GET', `/api/v1/runs/${id}`)).body;
  const ended = (id: string) =>
    eventually(
      async () => {
        const r = await run(id);
        return ['succeeded', 'failed'].includes(r.status) ? r : undefined;
      },
      10_000,
      `run ${id} to end`,
    );
  const runsOf = async (flowId: string) =>
    (await t.api('GET', `/api/v1/runs?flow_id=${flowId}`)).body.data as { id: string; method: string }[];

  it('a failed run starts a run of its error flow with the failed run in Webhook::Body.run and method ERROR', async () => {
    const onError = await createErrorFlow();
    const orders = await createFailing(onError.id);
    const failed = await ended(await start(orders));
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('out of stock: A-1');
    expect(failed.error_flow?.flow_id).toBe(onError.id);
    const errorRunId = failed.error_flow.run_id as string;
    expect(errorRunId).toMatch(/^run_/);
    expect(failed.error_of_run_id).toBeNull();

    const errorRun = await ended(errorRunId);
    expect(errorRun.status).toBe('succeeded');
    expect(errorRun.flow_id).toBe(onError.id);
    expect(errorRun.trigger_node_id).toBe('webhook_1');
    expect(errorRun.error_of_run_id).toBe(failed.id);
    expect(errorRun.error_flow).toBeNull();
    expect(errorRun.trigger).toMatchObject({ method: 'ERROR', headers: {}, query: {} });
    expect(errorRun.trigger.body).toEqual({
      run: {
        id: failed.id,
        flow_id: orders.id,
        flow_name: 'orders',
        error: 'out of stock: A-1',
        failed_node: 'fail_1',
        trigger: {
          method: 'POST',
          path: failed.trigger.path,
          headers: failed.trigger.headers,
          query: { src: 'shop' },
          body: { sku: 'A-1' },
        },
      },
    });
    expect(errorRun.trigger.body.run.trigger.headers['x-shop']).toBe('demo');
    expect(errorRun.vars).toEqual({ method: 'ERROR', failed_run: failed.id, failed_node: 'fail_1' });
    expect((await runsOf(onError.id)).map((r) => [r.id, r.method])).toEqual([[errorRunId, 'ERROR']]);
  });

  it("a failed run's trigger body over 256 KiB is left out of the error run's body (body_omitted)", async () => {
    const onError = await createErrorFlow();
    const orders = await createFailing(onError.id, 'big orders');
    const failed = await ended(await start(orders, { sku: 'B-2', blob: 'x'.repeat(300 * 1024) }));
    const errorRun = await ended(failed.error_flow.run_id);
    expect(errorRun.trigger.body.run.trigger).toMatchObject({
      method: 'POST',
      body: null,
      body_omitted: true,
    });
    expect(errorRun.trigger.body.run.error).toBe('out of stock: B-2');
  });

  it('a run that succeeds starts no error run', async () => {
    const onError = await createErrorFlow();
    const ok = await create(
      'fine',
      [{ id: 'set_1', type: 'set', config: { values: { 'vars.a': '1' } } }],
      [{ from: 'webhook_1', to: 'set_1' }],
      { error_flow_id: onError.id },
    );
    const done = await ended(await start(ok));
    expect(done.status).toBe('succeeded');
    expect(done.error_flow).toBeNull();
    expect(await runsOf(onError.id)).toEqual([]);
  });

  it('a run that exceeds its timeout starts the error run with failed_node null', async () => {
    const onError = await createErrorFlow();
    const slow = await create(
      'slow',
      [
        { id: 'http_1', type: 'http', config: { url: `${receiver.url}/slow` } },
        { id: 'set_1', type: 'set', config: { values: { 'vars.a': '1' } } },
      ],
      [
        { from: 'webhook_1', to: 'http_1' },
        { from: 'http_1', to: 'set_1' },
      ],
      { error_flow_id: onError.id, timeout_ms: 60_000 },
    );
    const failed = await ended(await start(slow));
    expect(failed.error).toMatch(/exceeded its timeout/);
    const errorRun = await ended(failed.error_flow.run_id);
    expect(errorRun.trigger.body.run).toMatchObject({
      id: failed.id,
      failed_node: null,
      error: failed.error,
    });
  });

  it("an error run's own failure starts no other error run, even when the error flow is its own error flow", async () => {
    // The error flow fails too, and names itself as its error flow.
    const loop = await create(
      'failing handler',
      [{ id: 'fail_1', type: 'fail', config: { message: 'handler broke' } }],
      [{ from: 'webhook_1', to: 'fail_1' }],
    );
    const self = await t.api('PATCH', `/api/v1/flows/${loop.id}`, { settings: { error_flow_id: loop.id } });
    expect(self.status, self.text).toBe(200);
    expect(self.body.settings.error_flow_id).toBe(loop.id);
    const orders = await createFailing(loop.id);
    const failed = await ended(await start(orders));
    const errorRun = await ended(failed.error_flow.run_id);
    expect(errorRun.status).toBe('failed');
    expect(errorRun.error_of_run_id).toBe(failed.id);
    expect(errorRun.error_flow).toEqual({
      flow_id: loop.id,
      run_id: null,
      skipped: expect.stringMatching(/itself an error run/),
    });
    expect((await runsOf(loop.id)).map((r) => r.id)).toEqual([errorRun.id]);
    // Its rerun is an error run too (same trigger, same link): its failure starts nothing either.
    const again = await t.api('POST', `/api/v1/runs/${errorRun.id}/rerun`);
    expect(again.status).toBe(201);
    const rerun = await ended(again.body.id);
    expect(rerun).toMatchObject({ status: 'failed', rerun_of: errorRun.id, error_of_run_id: failed.id });
    expect(rerun.error_flow.run_id).toBeNull();
    expect(await runsOf(loop.id)).toHaveLength(2);
  });

  it('a disabled or deleted error flow, or one without a webhook trigger, starts nothing and the failed run says why', async () => {
    const disabled = await createErrorFlow({}, 'disabled handler');
    expect((await t.api('PATCH', `/api/v1/flows/${disabled.id}`, { enabled: false })).status).toBe(200);
    const deleted = await createErrorFlow({}, 'deleted handler');
    const noTrigger = await createErrorFlow({}, 'handler without a trigger');

    const a = await createFailing(disabled.id, 'a');
    const b = await createFailing(deleted.id, 'b');
    const c = await createFailing(noTrigger.id, 'c');
    expect((await t.api('DELETE', `/api/v1/flows/${deleted.id}`)).status).toBe(204);
    const res = await t.api('PUT', `/api/v1/flows/${noTrigger.id}`, {
      name: 'handler without a trigger',
      nodes: [{ id: 'set_1', type: 'set', config: { values: { 'vars.a': '1' } } }],
      edges: [],
    });
    expect(res.status, res.text).toBe(200);

    for (const [flow, target, reason] of [
      [a, disabled, 'the error flow is disabled'],
      [b, deleted, 'the error flow does not exist'],
      [c, noTrigger, 'the error flow has no webhook trigger'],
    ] as const) {
      const failed = await ended(await start(flow));
      expect(failed.status).toBe('failed');
      expect(failed.error_flow).toEqual({ flow_id: target.id, run_id: null, skipped: reason });
      expect(
        log.lines.find((l) => l.run_id === failed.id && l.msg === 'no error run started for a failed run'),
      ).toMatchObject({ error_flow_id: target.id, reason });
    }
    const orphans = await sql<{ n: number }>`
      select count(*)::int as n from runs where flow_id in (${disabled.id}, ${deleted.id}, ${noTrigger.id})`.execute(
      t.db.database.db,
    );
    expect(orphans.rows[0].n).toBe(0);
  });

  it('a failed run and its error run are stored together: if the error run cannot be stored, neither is, and the run is taken up again', async () => {
    const onError = await createErrorFlow();
    const orders = await createFailing(onError.id);
    const db = t.db.database.db;
    // A fault in the database itself: inserting this error run fails.
    await sql
      .raw(`create function refuse_error_runs() returns trigger language plpgsql as $$
        begin raise exception 'disk full'; end $$;
      create trigger refuse_error_runs before insert on runs for each row
        when (new.flow_id = '${onError.id}') execute function refuse_error_runs();`)
      .execute(db);
    let id: string;
    try {
      id = await start(orders);
      // The worker executed the run and tried to store its failure (and with it the error run).
      await eventually(
        async () => log.lines.find((l) => l.run_id === id && /lease will bring it back/.test(l.msg ?? '')),
        10_000,
        'the failed write',
      );
    } finally {
      await sql.raw('drop trigger refuse_error_runs on runs; drop function refuse_error_runs();').execute(db);
    }
    const before = await run(id!);
    expect(before.status).toBe('running');
    expect(before.error_flow).toBeNull();
    expect(await runsOf(onError.id)).toEqual([]);
    // After its lease the run is claimed again and this time stored failed, with its error run.
    clock.advance(LEASE_MS + 1000);
    const failed = await ended(id!);
    expect(failed.status).toBe('failed');
    const errorRuns = await runsOf(onError.id);
    expect(errorRuns.map((r) => r.id)).toEqual([failed.error_flow.run_id]);
  });

  describe('on save', () => {
    const expectInvalid = (res: { status: number; body: any }, msg: RegExp) => {
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_flow');
      expect(res.body.msg).toMatch(/settings\.error_flow_id/);
      expect(res.body.msg).toMatch(msg);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'settings.error_flow_id' })]);
    };
    const doc = (error_flow_id: unknown) => ({
      name: 'x',
      nodes: [{ id: 'webhook_1', type: 'webhook' }],
      edges: [],
      settings: { error_flow_id },
    });

    it('defaults to null (no error flow)', async () => {
      const res = await t.api('POST', '/api/v1/flows', { name: 'plain', nodes: [], edges: [] });
      expect(res.status).toBe(201);
      expect(res.body.settings.error_flow_id).toBeNull();
    });

    it('refuses an error flow that does not exist, with a 400 naming settings.error_flow_id', async () => {
      expectInvalid(await t.api('POST', '/api/v1/flows', doc('flw_nope')), /"flw_nope" does not exist/);
      const f = await createErrorFlow();
      expectInvalid(
        await t.api('PATCH', `/api/v1/flows/${f.id}`, { settings: { error_flow_id: 'flw_nope' } }),
        /does not exist/,
      );
    });

    it('refuses an error flow id that is not a string or null', async () => {
      expectInvalid(await t.api('POST', '/api/v1/flows', doc(42)), /string/i);
      expectInvalid(await t.api('POST', '/api/v1/flows', doc('')), /a flow id, or null/);
    });

    it("refuses another tenant's flow as the error flow", async () => {
      const tenant = await t.api('POST', '/api/v1/tenants', { name: 'Other' });
      expect(tenant.status).toBe(201);
      const key = await t.api('POST', '/api/v1/api-keys', { name: 'other key', tenant_id: tenant.body.id });
      const theirs = await t.api(
        'POST',
        '/api/v1/flows',
        { name: 'theirs', nodes: [{ id: 'webhook_1', type: 'webhook' }], edges: [] },
        key.body.key,
      );
      expect(theirs.status).toBe(201);
      expectInvalid(
        await t.api('POST', '/api/v1/flows', doc(theirs.body.id)),
        /does not exist in this tenant/,
      );
      // And theirs may name it.
      expect((await t.api('POST', '/api/v1/flows', doc(theirs.body.id), key.body.key)).status).toBe(201);
    });
  });
});
