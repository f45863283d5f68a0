/**
 * Drafts and the test URL (docs/api.md §3.12, §3.13), with a real app, worker, database, receiver
 * and SMTP server: a draft never serves production; the test URL runs it (or the live version) as a
 * `test: true` run whose events are recorded but never delivered and whose e-mails are not sent;
 * publish makes it the next version; discard drops it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';
import { startSmtp } from './helpers/smtp.ts';

describe('drafts and the test URL', () => {
  let t: TestApp;
  let receiver: Receiver;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const clock = fakeClock();

  beforeAll(async () => {
    receiver = await startReceiver();
    smtp = await startSmtp();
    t = await startTestApp({
      worker: { leaseMs: 5000, pollMs: 50 },
      now: clock.now,
      env: {
        HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32',
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        PUBLIC_URL: 'https://hooks.example.test',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    await smtp?.close();
  });

  const doc = (label: string, extra: Record<string, unknown> = {}) => ({
    name: 'Drafted',
    nodes: [
      { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
      { id: 'set_1', type: 'set', config: { values: { 'vars.label': label } } },
    ],
    edges: [{ from: 'webhook_1', to: 'set_1' }],
    ...extra,
  });
  /** The app's own URL for a public (PUBLIC_URL) one. */
  const local = (url: string) => url.replace('https://hooks.example.test', t.url);
  const send = async (url: string, body: unknown = {}) => {
    const res = await fetch(local(url), {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return ((await res.json()) as { run_id: string }).run_id;
  };
  const ended = (id: string) =>
    eventually(
      async () => {
        const r = (await t.api('GET', `/api/v1/runs/${id}`)).body;
        return ['succeeded', 'failed'].includes(r.status) ? r : undefined;
      },
      10_000,
      `run ${id} to end`,
    );
  const create = async (body: unknown) => {
    const r = await t.api('POST', '/api/v1/flows', body);
    expect(r.status, r.text).toBe(201);
    return r.body;
  };

  it('keeps a draft without changing what serves traffic, and reads it back with its test URL', async () => {
    const flow = await create(doc('live'));
    expect(flow.draft_revision).toBeNull();
    expect((await t.api('GET', `/api/v1/flows/${flow.id}/draft`)).body.code).toBe('no_draft');

    const saved = await t.api('PUT', `/api/v1/flows/${flow.id}/draft`, doc('draft'));
    expect(saved.status, saved.text).toBe(200);
    expect(saved.body).toMatchObject({ flow_id: flow.id, revision: 1, base_version: 1, name: 'Drafted' });
    expect(saved.body.test_url).toBe(`https://hooks.example.test/hooks-test/default/${flow.id}`);
    // A GET of the flow can be PUT back as a draft as is.
    const again = await t.api('PUT', `/api/v1/flows/${flow.id}/draft`, {
      ...(await t.api('GET', `/api/v1/flows/${flow.id}`)).body,
      nodes: doc('draft 2').nodes,
    });
    expect(again.status, again.text).toBe(200);
    expect(again.body.revision).toBe(2);

    const live = (await t.api('GET', `/api/v1/flows/${flow.id}`)).body;
    expect(live).toMatchObject({ version: 1, draft_revision: 2 });
    expect(live.nodes[1].config.values).toEqual({ 'vars.label': 'live' });
    expect((await t.api('GET', `/api/v1/flows/${flow.id}/versions`)).body.data).toHaveLength(1);
    const prod = await ended(await send(flow.webhooks[0].url));
    expect(prod).toMatchObject({
      test: false,
      vars: { label: 'live' },
      flow_version: 1,
      draft_revision: null,
    });
  });

  it('refuses an invalid draft with the same 400 as a save, writing nothing', async () => {
    const flow = await create(doc('live'));
    const bad = await t.api('PUT', `/api/v1/flows/${flow.id}/draft`, {
      ...doc('x'),
      edges: [{ from: 'webhook_1', to: 'nowhere' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_flow');
    expect(bad.body.errors.length).toBeGreaterThan(0);
    expect((await t.api('GET', `/api/v1/flows/${flow.id}`)).body.draft_revision).toBeNull();
    expect((await t.api('PUT', '/api/v1/flows/flw_nope/draft', doc('x'))).status).toBe(404);
  });

  it('runs the draft at the test URL as a test run pinned to its revision, even while the flow is disabled', async () => {
    const flow = await create(doc('live'));
    const draft = (await t.api('PUT', `/api/v1/flows/${flow.id}/draft`, doc('draft'))).body;
    expect((await t.api('PATCH', `/api/v1/flows/${flow.id}`, { enabled: false })).status).toBe(200);
    const res = await fetch(local(flow.webhooks[0].url), { method: 'POST', body: '{}' });
    expect(res.status).toBe(409);

    const run = await ended(await send(draft.test_url));
    expect(run).toMatchObject({
      status: 'succeeded',
      test: true,
      replay: false,
      vars: { label: 'draft' },
      draft_revision: 1,
      flow_version: null,
    });
  });

  it('runs the live version at the test URL when there is no draft', async () => {
    const flow = await create(doc('live'));
    const testUrl = `${t.url}/hooks-test/default/${flow.id}`;
    const run = await ended(await send(testUrl));
    expect(run).toMatchObject({ test: true, vars: { label: 'live' }, flow_version: 1, draft_revision: null });
    // Unknown flows and nodes: the same 404 as the production URL.
    expect((await fetch(`${t.url}/hooks-test/default/flw_nope`, { method: 'POST' })).status).toBe(404);
  });

  it('records the events of a test run but never delivers them', async () => {
    const ep = await t.api('POST', '/api/v1/endpoints', {
      name: 'all',
      url: `${receiver.url}/all`,
      events: ['*'],
    });
    expect(ep.status, ep.text).toBe(201);
    try {
      const emitting = doc('x');
      emitting.nodes.push({
        id: 'emit_1',
        type: 'emit',
        config: { event_type: 'order.tested', data: { ok: true } },
      } as never);
      emitting.edges.push({ from: 'set_1', to: 'emit_1' });
      const flow = await create(emitting);
      const testRun = await ended(await send(`${t.url}/hooks-test/default/${flow.id}`));
      // A test run's event types do not join the catalog.
      const types = await t.db.database.db.selectFrom('event_types').select('name').execute();
      expect(types.map((x) => x.name)).not.toContain('order.tested');
      const prodRun = await ended(await send(flow.webhooks[0].url));
      // The production run's events arrive (so this receiver would have got the test run's).
      await eventually(
        () => receiver.received.some((r) => r.body.includes(prodRun.id) && r.body.includes('flow.completed')),
        10_000,
        'the production run events to arrive',
      );
      const events = (
        await t.db.database.db
          .selectFrom('events')
          .select(['event_type', 'held', 'context'])
          .where('tenant_id', '=', 'default')
          .execute()
      ).filter((e) => e.context.run_id === testRun.id);
      expect(events.map((e) => e.event_type).sort()).toEqual([
        'flow.completed',
        'order.tested',
        'run.started',
        'webhook.received',
      ]);
      expect(events.every((e) => e.held)).toBe(true);
      const deliveries = await t.db.database.db
        .selectFrom('deliveries')
        .innerJoin('events', (j) => j.onRef('events.id', '=', 'deliveries.message_id'))
        .select('deliveries.id')
        .where('events.held', '=', true)
        .execute();
      expect(deliveries).toEqual([]);
      expect(receiver.received.some((r) => r.body.includes(testRun.id))).toBe(false);
      // Nor by hand: the messages API shows them held, and a retry is refused.
      const msgs = (await t.api('GET', `/api/v1/messages?run_id=${testRun.id}`)).body.data;
      expect(msgs.length).toBe(4);
      expect(msgs.every((m: any) => m.held === true && m.delivery_summary.pending === 0)).toBe(true);
      const retry = await t.api('POST', `/api/v1/messages/${msgs[0].id}/retry`, { endpoint_id: ep.body.id });
      expect(retry.status).toBe(409);
      expect(retry.body.code).toBe('held_message');
    } finally {
      await t.api('DELETE', `/api/v1/endpoints/${ep.body.id}`);
    }
  });

  it('makes the runs a test run starts with a subflow node test runs too, their events held', async () => {
    const child = await create({
      name: 'Child',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
        { id: 'emit_1', type: 'emit', config: { event_type: 'child.done', data: {} } },
      ],
      edges: [{ from: 'webhook_1', to: 'emit_1' }],
    });
    const parent = await create({
      name: 'Parent',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
        { id: 'subflow_1', type: 'subflow', config: { flow_id: child.id } },
      ],
      edges: [{ from: 'webhook_1', to: 'subflow_1' }],
    });
    const run = await ended(await send(`${t.url}/hooks-test/default/${parent.id}`));
    expect(run.status).toBe('succeeded');
    expect(run.children).toHaveLength(1);
    expect(run.children[0].test).toBe(true);
    const childRun = (await t.api('GET', `/api/v1/runs/${run.children[0].id}`)).body;
    expect(childRun).toMatchObject({ test: true, parent_run_id: run.id });
    const events = (await t.db.database.db.selectFrom('events').select(['held', 'context']).execute()).filter(
      (e) => e.context.run_id === childRun.id,
    );
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.held)).toBe(true);
  });

  it('sends no e-mail for a failed test run (a failed production run does)', async () => {
    const flow = await create({
      name: 'Notifying',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
        { id: 'fail_1', type: 'fail', config: { message: 'out of stock' } },
      ],
      edges: [{ from: 'webhook_1', to: 'fail_1' }],
      settings: { notify: { on_failure: ['ops@example.test'] } },
    });
    const testRun = await ended(await send(`${t.url}/hooks-test/default/${flow.id}`));
    expect(testRun.status).toBe('failed');
    const prodRun = await ended(await send(flow.webhooks[0].url));
    await eventually(() => smtp.mails.find((m) => m.raw.includes(prodRun.id)), 10_000, 'the mail');
    expect(smtp.mails.some((m) => m.raw.includes(testRun.id))).toBe(false);
  });

  it('lists test runs with ?test=true, and production runs without', async () => {
    const flow = await create(doc('live'));
    const testRun = await ended(await send(`${t.url}/hooks-test/default/${flow.id}`));
    const prodRun = await ended(await send(flow.webhooks[0].url));
    const tests = (await t.api('GET', `/api/v1/runs?flow_id=${flow.id}&test=true`)).body.data;
    expect(tests.map((r: any) => [r.id, r.test])).toEqual([[testRun.id, true]]);
    const prod = (await t.api('GET', `/api/v1/runs?flow_id=${flow.id}`)).body.data;
    expect(prod.map((r: any) => [r.id, r.test])).toEqual([[prodRun.id, false]]);
  });

  it('reruns a test run as a test run of the same revision', async () => {
    const flow = await create(doc('live'));
    const draft = (await t.api('PUT', `/api/v1/flows/${flow.id}/draft`, doc('draft'))).body;
    const first = await ended(await send(draft.test_url));
    await t.api('PUT', `/api/v1/flows/${flow.id}/draft`, doc('draft 2'));
    const rerun = await t.api('POST', `/api/v1/runs/${first.id}/rerun`);
    expect(rerun.status, rerun.text).toBe(201);
    expect(rerun.body.test).toBe(true);
    const again = await ended(rerun.body.id);
    expect(again).toMatchObject({
      test: true,
      draft_revision: 1,
      vars: { label: 'draft' },
      rerun_of: first.id,
    });
  });

  it('publishes the draft as the next version, which then serves production', async () => {
    const flow = await create(doc('live'));
    expect((await t.api('POST', `/api/v1/flows/${flow.id}/draft/publish`)).body.code).toBe('no_draft');
    await t.api('PUT', `/api/v1/flows/${flow.id}/draft`, doc('draft', { name: 'Published' }));
    const published = await t.api('POST', `/api/v1/flows/${flow.id}/draft/publish`, { note: 'ship it' });
    expect(published.status, published.text).toBe(200);
    expect(published.body).toMatchObject({ version: 2, name: 'Published', draft_revision: null });
    expect(published.body.nodes[1].config.values).toEqual({ 'vars.label': 'draft' });
    const versions = (await t.api('GET', `/api/v1/flows/${flow.id}/versions`)).body.data;
    expect(versions[0]).toMatchObject({ version: 2, note: 'ship it' });
    expect((await t.api('GET', `/api/v1/flows/${flow.id}/draft`)).status).toBe(404);
    const run = await ended(await send(flow.webhooks[0].url));
    expect(run).toMatchObject({ vars: { label: 'draft' }, flow_version: 2 });
  });

  it('discards a draft: the test URL serves the live version again', async () => {
    const flow = await create(doc('live'));
    await t.api('PUT', `/api/v1/flows/${flow.id}/draft`, doc('draft'));
    expect((await t.api('DELETE', `/api/v1/flows/${flow.id}/draft`)).status).toBe(204);
    expect((await t.api('DELETE', `/api/v1/flows/${flow.id}/draft`)).status).toBe(404);
    const run = await ended(await send(`${t.url}/hooks-test/default/${flow.id}`));
    expect(run).toMatchObject({ test: true, vars: { label: 'live' }, draft_revision: null, flow_version: 1 });
  });

  it('goes on with the revision a test run started on when the draft changes meanwhile', async () => {
    const flow = await create(doc('live'));
    const sleeping = {
      ...doc('first'),
      nodes: [...doc('first').nodes, { id: 'delay_1', type: 'delay', config: { ms: 60_000 } }],
      edges: [...doc('first').edges, { from: 'set_1', to: 'delay_1' }],
    };
    const draft = (await t.api('PUT', `/api/v1/flows/${flow.id}/draft`, sleeping)).body;
    const id = await send(draft.test_url);
    await eventually(
      async () =>
        (await t.api('GET', `/api/v1/runs/${id}`)).body.nodes?.some((n: any) => n.status === 'waiting'),
      10_000,
      'the run to sleep',
    );
    const changed = {
      ...sleeping,
      nodes: [...doc('second').nodes, { id: 'delay_1', type: 'delay', config: { ms: 60_000 } }],
    };
    expect((await t.api('PUT', `/api/v1/flows/${flow.id}/draft`, changed)).body.revision).toBe(2);
    clock.advance(61_000);
    const run = await ended(id);
    expect(run).toMatchObject({ status: 'succeeded', draft_revision: 1, vars: { label: 'first' } });
  });
});
