/**
 * The schedule trigger (docs/api.md §4.8) with a real app, run worker and database, on a fake clock
 * (the scheduler computes ticks from the process clock; each test moves it and asks for a pass):
 * a tick starts one run that reads `${Schedule.time}`, no tick before the flow was saved, catch-up
 * after downtime ("one" / "none"), no ticks while disabled, `next_runs`, the preview endpoint, 400s
 * naming an invalid cron or zone, the purge of old ticks, and exactly one run per tick with two app instances on one
 * database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/connect.ts';
import { purgeOldScheduleTicks } from '../src/flows/scheduleStore.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { usingPostgres } from './helpers/db.ts';
import { eventually } from './helpers/receiver.ts';

const FIVE_MIN = 300_000;
/** A 5-minute tick an hour ahead of the real time: the fake clock's day starts there. */
const BASE = Math.ceil(Date.now() / FIVE_MIN) * FIVE_MIN + 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('the schedule trigger', () => {
  let t: TestApp;
  const clock = fakeClock();

  beforeAll(async () => {
    clock.set(BASE + 10_000);
    t = await startTestApp({ worker: { leaseMs: 5000, pollMs: 50 }, now: clock.now });
  });
  afterAll(async () => {
    await t?.close();
  });

  const pass = () => t.app.hookflow.scheduler!.runOnce();
  const schedule = (config: Record<string, unknown>, id = 'schedule_1') => ({ id, type: 'schedule', config });
  const create = async (config: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const res = await t.api('POST', '/api/v1/flows', {
      name: 'Every five minutes',
      nodes: [
        schedule(config),
        {
          id: 'set_1',
          type: 'set',
          config: { values: { 'vars.at': '${Schedule.time}', 'vars.cron': '${Schedule.cron}' } },
        },
      ],
      edges: [{ from: 'schedule_1', to: 'set_1' }],
      ...extra,
    });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; nodes: Record<string, unknown>[] };
  };
  const runsOf = async (flowId: string) => {
    const res = await t.api('GET', `/api/v1/runs?flow_id=${flowId}&limit=100`);
    return res.body.data as { id: string; method: string; status: string }[];
  };

  it('starts one run at a tick, whose templates read the tick as ${Schedule.time} and ${Schedule.cron}', async () => {
    clock.set(BASE + 10_000);
    const flow = await create({ cron: '*/5 * * * *', timezone: 'Europe/Oslo' });
    await pass();
    expect(await runsOf(flow.id)).toEqual([]);

    clock.set(BASE + FIVE_MIN + 1000);
    await pass();
    await pass();
    const [run, ...more] = await runsOf(flow.id);
    expect(more).toEqual([]);
    expect(run.method).toBe('SCHEDULE');
    const done = await eventually(async () => {
      const r = await t.api('GET', `/api/v1/runs/${run.id}`);
      return r.body.status === 'succeeded' ? r.body : undefined;
    });
    expect(done.trigger_node_id).toBe('schedule_1');
    expect(done.trigger).toMatchObject({
      method: 'SCHEDULE',
      path: '',
      body: { time: iso(BASE + FIVE_MIN), cron: '*/5 * * * *', timezone: 'Europe/Oslo' },
      body_kind: 'json',
    });
    expect(done.vars).toEqual({ at: iso(BASE + FIVE_MIN), cron: '*/5 * * * *' });
    expect(done.nodes[0]).toMatchObject({
      id: 'schedule_1',
      status: 'succeeded',
      output: { time: iso(BASE + FIVE_MIN), cron: '*/5 * * * *', timezone: 'Europe/Oslo' },
    });
  });

  it('runs no tick from before the flow was saved, and counts an edited cron from the edit', async () => {
    clock.set(BASE + 2 * FIVE_MIN + 30_000);
    const flow = await create({ cron: '*/5 * * * *' });
    await pass();
    expect(await runsOf(flow.id)).toEqual([]);
    // Changed to every minute at +2:45: the ticks of the old cron do not count, the next minute does.
    clock.set(BASE + 2 * FIVE_MIN + 45_000);
    const got = await t.api('GET', `/api/v1/flows/${flow.id}`);
    const nodes = got.body.nodes.map((n: Record<string, unknown>) =>
      n.id === 'schedule_1' ? { ...n, config: { cron: '* * * * *' } } : n,
    );
    const put = await t.api('PUT', `/api/v1/flows/${flow.id}`, { ...got.body, nodes });
    expect(put.status, put.text).toBe(200);
    await pass();
    expect(await runsOf(flow.id)).toEqual([]);
    clock.set(BASE + 2 * FIVE_MIN + 60_500);
    await pass();
    expect(await runsOf(flow.id)).toHaveLength(1);
  });

  it('after downtime runs the latest missed tick once with catch_up "one", and skips with "none"', async () => {
    clock.set(BASE + 3 * FIVE_MIN + 10_000);
    const one = await create({ cron: '*/5 * * * *', catch_up: 'one' });
    const none = await create({ cron: '*/5 * * * *', catch_up: 'none' });
    await pass();
    // Twelve ticks go by with no pass (the process was down).
    clock.set(BASE + 15 * FIVE_MIN + 120_000);
    await pass();
    await pass();
    const caught = await runsOf(one.id);
    expect(caught).toHaveLength(1);
    const run = await t.api('GET', `/api/v1/runs/${caught[0].id}`);
    expect(run.body.trigger.body.time).toBe(iso(BASE + 15 * FIVE_MIN));
    expect(await runsOf(none.id)).toEqual([]);
    // Back up: the next tick, on time, runs for both.
    clock.set(BASE + 16 * FIVE_MIN + 500);
    await pass();
    expect(await runsOf(one.id)).toHaveLength(2);
    expect(await runsOf(none.id)).toHaveLength(1);
  });

  it('has no ticks while its flow is disabled, and does not catch up the disabled time when enabled again', async () => {
    clock.set(BASE + 17 * FIVE_MIN + 10_000);
    const flow = await create({ cron: '*/5 * * * *' });
    const off = await t.api('PATCH', `/api/v1/flows/${flow.id}`, { enabled: false });
    expect(off.status, off.text).toBe(200);
    expect(off.body.nodes[0].next_runs).toEqual([]);
    clock.set(BASE + 18 * FIVE_MIN + 1000);
    await pass();
    expect(await runsOf(flow.id)).toEqual([]);
    clock.set(BASE + 18 * FIVE_MIN + 20_000);
    const on = await t.api('PATCH', `/api/v1/flows/${flow.id}`, { enabled: true });
    expect(on.status, on.text).toBe(200);
    await pass();
    expect(await runsOf(flow.id)).toEqual([]);
    clock.set(BASE + 19 * FIVE_MIN + 1000);
    await pass();
    expect(await runsOf(flow.id)).toHaveLength(1);
  });

  it('shows the next five runs on each schedule node and in `schedules`, and takes a GET body back on PUT', async () => {
    clock.set(BASE + 20 * FIVE_MIN + 10_000);
    const res = await t.api('POST', '/api/v1/flows', {
      name: 'Both triggers',
      nodes: [
        { id: 'webhook_1', type: 'webhook' },
        schedule({ cron: '0 9 * * 1-5', timezone: 'America/New_York' }),
        schedule({ cron: '*/10 * * * * *' }, 'schedule_2'),
        { id: 'set_1', type: 'set', config: { values: { 'vars.x': '1' } } },
      ],
      edges: [
        { from: 'webhook_1', to: 'set_1' },
        { from: 'schedule_1', to: 'set_1' },
        { from: 'schedule_2', to: 'set_1' },
      ],
    });
    expect(res.status, res.text).toBe(201);
    const every10s = [1, 2, 3, 4, 5].map((i) => iso(BASE + 20 * FIVE_MIN + 10_000 + i * 10_000));
    const got = await t.api('GET', `/api/v1/flows/${res.body.id}`);
    expect(got.body.nodes[2].next_runs).toEqual(every10s);
    expect(got.body.nodes[1].next_runs).toHaveLength(5);
    for (const at of got.body.nodes[1].next_runs as string[]) {
      const local = new Intl.DateTimeFormat('en-US', {
        timeZone: 'America/New_York',
        hour: 'numeric',
        minute: 'numeric',
        hour12: false,
        weekday: 'short',
      }).format(new Date(at));
      expect(local).toMatch(/^(Mon|Tue|Wed|Thu|Fri),? 09:00$/);
    }
    expect(got.body.schedules).toEqual([
      {
        node_id: 'schedule_1',
        cron: '0 9 * * 1-5',
        timezone: 'America/New_York',
        next_runs: got.body.nodes[1].next_runs,
      },
      { node_id: 'schedule_2', cron: '*/10 * * * * *', timezone: 'UTC', next_runs: every10s },
    ]);
    const list = await t.api('GET', '/api/v1/flows?limit=100');
    expect(list.body.data.find((f: { id: string }) => f.id === res.body.id).schedules).toEqual(
      got.body.schedules,
    );
    const put = await t.api('PUT', `/api/v1/flows/${res.body.id}`, got.body);
    expect(put.status, put.text).toBe(200);
    // The webhook still answers beside the schedules.
    const hook = await fetch(res.body.webhooks[0].url, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(hook.status).toBe(200);
  });

  it('refuses an invalid cron or time zone with a 400 naming the node and the field', async () => {
    const res = await t.api('POST', '/api/v1/flows', {
      name: 'Bad schedule',
      nodes: [
        schedule({ cron: '*/5 * * *' }),
        schedule({ cron: '0 25 * * *', timezone: 'Europe/Atlantis' }, 'schedule_2'),
      ],
      edges: [],
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_flow');
    expect(res.body.msg).toMatch(/^Invalid flow: node schedule_1, config\.cron: /);
    expect(res.body.errors).toEqual([
      {
        node: 'schedule_1',
        field: 'config.cron',
        msg: '"*/5 * * *" has 4 fields: a cron has five (minute hour day month weekday) or six (seconds first)',
      },
      {
        node: 'schedule_2',
        field: 'config.cron',
        msg: expect.stringMatching(/^"0 25 \* \* \*" is not a valid cron: .*hour/),
      },
      {
        node: 'schedule_2',
        field: 'config.timezone',
        msg: '"Europe/Atlantis" is not an IANA time zone (such as "UTC", "Europe/Oslo" or "America/New_York")',
      },
    ]);
    const edge = await t.api('POST', '/api/v1/flows', {
      name: 'Into a schedule',
      nodes: [{ id: 'webhook_1', type: 'webhook' }, schedule({ cron: '* * * * *' })],
      edges: [{ from: 'webhook_1', to: 'schedule_1' }],
    });
    expect(edge.status).toBe(400);
    expect(edge.body.errors[0].msg).toBe('a schedule trigger cannot have incoming edges (from "webhook_1")');
  });

  it('previews the next five ticks of a cron, and answers 400 naming an invalid one', async () => {
    clock.set(BASE + 21 * FIVE_MIN + 10_000);
    const ok = await t.api('POST', '/api/v1/schedules/preview', {
      cron: '*/5 * * * *',
      timezone: 'Europe/Oslo',
    });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({
      cron: '*/5 * * * *',
      timezone: 'Europe/Oslo',
      next_runs: [1, 2, 3, 4, 5].map((i) => iso(BASE + (21 + i) * FIVE_MIN)),
    });
    const bad = await t.api('POST', '/api/v1/schedules/preview', {
      cron: 'every day',
      timezone: 'Nowhere/City',
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      code: 'invalid_schedule',
      msg: expect.stringMatching(/^Invalid cron: /),
    });
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['cron', 'timezone']);
    const missing = await t.api('POST', '/api/v1/schedules/preview', {});
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].field).toBe('cron');
    expect((await t.api('POST', '/api/v1/schedules/preview', { cron: '* * * * *' }, '')).status).toBe(401);
  });

  it('forgets claimed ticks a day old, keeping each schedule its last tick (no tick runs again)', async () => {
    clock.set(BASE + 40 * FIVE_MIN + 10_000);
    const flow = await create({ cron: '*/5 * * * *' });
    clock.set(BASE + 41 * FIVE_MIN + 100);
    await pass();
    expect(await runsOf(flow.id)).toHaveLength(1);
    const db = t.db.database.db;
    const ticks = () =>
      db.selectFrom('schedule_ticks').select('tick_at').where('flow_id', '=', flow.id).execute();
    expect(await ticks()).toHaveLength(1);
    expect(await purgeOldScheduleTicks(t.db.database, new Date(BASE + 41 * FIVE_MIN + 3_600_000))).toBe(0);
    await purgeOldScheduleTicks(t.db.database, new Date(BASE + 41 * FIVE_MIN + 86_400_001));
    expect(await ticks()).toEqual([]);
    await pass();
    expect(await runsOf(flow.id)).toHaveLength(1);
    const row = await db
      .selectFrom('schedules')
      .select('last_tick_at')
      .where('tenant_id', '=', 'default')
      .where('flow_id', '=', flow.id)
      .executeTakeFirstOrThrow();
    expect(row.last_tick_at?.toISOString()).toBe(iso(BASE + 41 * FIVE_MIN));
  });

  it('starts exactly one run per tick when two app instances on one database race for it', async () => {
    clock.set(BASE + 22 * FIVE_MIN + 10_000);
    const flow = await create({ cron: '*/5 * * * *' });
    // A second app on the same database (on PostgreSQL through its own connection pool).
    const database = usingPostgres
      ? await openDatabase({ databaseUrl: t.db.databaseUrl, dataDir: t.db.dataDir })
      : t.db.database;
    const other = await startTestApp({
      db: { ...t.db, database },
      worker: { leaseMs: 5000, pollMs: 50 },
      now: clock.now,
    });
    try {
      for (let i = 1; i <= 5; i++) {
        clock.set(BASE + (22 + i) * FIVE_MIN + 200);
        await Promise.all([
          pass(),
          other.app.hookflow.scheduler!.runOnce(),
          pass(),
          other.app.hookflow.scheduler!.runOnce(),
        ]);
      }
      const runs = await runsOf(flow.id);
      expect(runs).toHaveLength(5);
      const times = await Promise.all(
        runs.map(async (r) => (await t.api('GET', `/api/v1/runs/${r.id}`)).body.trigger.body.time as string),
      );
      expect(times.sort()).toEqual([1, 2, 3, 4, 5].map((i) => iso(BASE + (22 + i) * FIVE_MIN)));
    } finally {
      await other.app.close();
      if (usingPostgres) await database.close();
    }
  });
});
