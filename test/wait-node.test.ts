/**
 * The `wait` node and its resume URL (docs/api.md §4.3, §4.7), with a real app, worker, database and
 * callers on 127.0.0.1, and a fake clock for the timeouts: the URL in every template, a call stored
 * before it is answered and resuming the run, a second call 409, a wrong token 404, a call before
 * the run reached the wait, the timeout (failing the node, or taking "timeout" edges), validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

describe('the wait node', () => {
  let t: TestApp;
  let api: Receiver;
  const clock = fakeClock();

  beforeAll(async () => {
    // An API that is told where to call back (the request's callback_url); the test calls it.
    api = await startReceiver((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"accepted":true}');
    });
    t = await startTestApp({
      worker: { leaseMs: 5000, pollMs: 50 },
      now: clock.now,
      env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await api?.close();
  });

  /** webhook → http (sends the resume URL) → wait → set, plus `extra` nodes and edges. */
  const create = async (
    wait: Record<string, unknown> = {},
    extra: { nodes?: unknown[]; edges?: unknown[] } = {},
  ) => {
    const res = await t.api('POST', '/api/v1/flows', {
      name: 'waits',
      nodes: [
        { id: 'webhook_1', type: 'webhook' },
        {
          id: 'http_1',
          type: 'http',
          config: { method: 'POST', url: `${api.url}/jobs`, body: { callback_url: '${resume.wait_1}' } },
        },
        { id: 'wait_1', type: 'wait', config: wait },
        { id: 'set_1', type: 'set', config: { values: { 'vars.answer': '${steps.wait_1.body.answer}' } } },
        ...(extra.nodes ?? []),
      ],
      edges: [
        { from: 'webhook_1', to: 'http_1' },
        { from: 'http_1', to: 'wait_1' },
        { from: 'wait_1', to: 'set_1' },
        ...(extra.edges ?? []),
      ],
    });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; webhooks: { url: string }[] };
  };
  const start = async (flow: { webhooks: { url: string }[] }) => {
    const res = await fetch(flow.webhooks[0]!.url, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { run_id: string }).run_id;
  };
  const run = async (id: string) => (await t.api('GET', `/api/v1/runs/${id}`)).body;
  const node = (r: any, id: string) => r.nodes.find((n: any) => n.id === id);
  const ended = (id: string) =>
    eventually(
      async () => {
        const r = await run(id);
        return ['succeeded', 'failed'].includes(r.status) ? r : undefined;
      },
      10_000,
      `run ${id} to end`,
    );
  const waiting = (id: string) =>
    eventually(
      async () => {
        const r = await run(id);
        return node(r, 'wait_1')?.status === 'waiting' ? r : undefined;
      },
      10_000,
      'the run waiting',
    );
  /** The resume URL the http node sent to the API, for run `id`. */
  const callbackOf = (id: string) => {
    const req = api.received.find((r) => JSON.parse(r.body).callback_url.includes(`/resume/${id}/`));
    return JSON.parse(req!.body).callback_url as string;
  };

  it('sends ${resume.<id>} before the wait; a call to it is stored, answered, and resumes the run with the call', async () => {
    const id = await start(await create());
    const asleep = await waiting(id);
    expect(asleep.status).toBe('running');
    const url = callbackOf(id);
    expect(url).toMatch(new RegExp(`^${t.url}/resume/${id}/wait_1/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$`));
    expect(node(asleep, 'wait_1').input.resume_url).toBe(url);
    // The run sleeps in the database until its timeout (a day): nobody holds it.
    const row = await t.db.database.db
      .selectFrom('runs')
      .select(['run_at', 'locked_by'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.locked_by).toBeNull();
    expect(row.run_at.getTime() - clock.now()).toBeGreaterThan(86_000_000);

    const res = await fetch(`${url}?from=approver`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-who': 'ops' },
      body: '{"answer":"yes"}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('{"status":"resumed"}');
    // Stored before it was answered.
    const stored = await t.db.database.db
      .selectFrom('run_resumes')
      .selectAll()
      .where('run_id', '=', id)
      .execute();
    expect(stored).toHaveLength(1);

    const r = await ended(id);
    expect(r.status, r.error).toBe('succeeded');
    expect(r.vars.answer).toBe('yes');
    expect(node(r, 'wait_1').output).toMatchObject({
      method: 'PUT',
      query: { from: 'approver' },
      body: { answer: 'yes' },
      headers: expect.objectContaining({ 'x-who': 'ops' }),
    });

    // A second call: 409, and nothing changes.
    const again = await fetch(url, {
      method: 'POST',
      body: '{"answer":"no"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'already_resumed' });
  });

  it('a wrong token, run or node is a 404, and stores nothing', async () => {
    const id = await start(await create());
    await waiting(id);
    const url = callbackOf(id);
    const [base, token] = [url.slice(0, url.lastIndexOf('/')), url.slice(url.lastIndexOf('/') + 1)];
    const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'AB' : 'AA'}`;
    for (const bad of [
      `${base}/${forged}`,
      url.replace(`/resume/${id}/`, '/resume/run_00000000000000000000000000/'),
      url.replace('/wait_1/', '/set_1/'),
      `${base}/not-a-token`,
    ]) {
      const res = await fetch(bad, { method: 'POST', body: '{}' });
      expect(res.status, bad).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'resume_not_found' });
    }
    expect(
      await t.db.database.db.selectFrom('run_resumes').selectAll().where('run_id', '=', id).execute(),
    ).toEqual([]);
    expect(node(await run(id), 'wait_1').status).toBe('waiting');
    await fetch(url, { method: 'POST' });
    expect((await ended(id)).status).toBe('succeeded');
  });

  it('a call that comes before the run reaches its wait is kept, and the wait goes on at once', async () => {
    // The API answers the callback itself, before answering the http node's request.
    const early = await startReceiver(async (req, res) => {
      const { callback_url } = JSON.parse(req.body);
      const r = await fetch(callback_url, {
        method: 'POST',
        body: '{"answer":"early"}',
        headers: { 'content-type': 'application/json' },
      });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ callback_status: r.status }));
    });
    try {
      const res = await t.api('POST', '/api/v1/flows', {
        name: 'early callback',
        nodes: [
          { id: 'webhook_1', type: 'webhook' },
          {
            id: 'http_1',
            type: 'http',
            config: { method: 'POST', url: `${early.url}/jobs`, body: { callback_url: '${resume.wait_1}' } },
          },
          { id: 'wait_1', type: 'wait', config: {} },
        ],
        edges: [
          { from: 'webhook_1', to: 'http_1' },
          { from: 'http_1', to: 'wait_1' },
        ],
      });
      const r = await ended(await start(res.body));
      expect(r.status, r.error).toBe('succeeded');
      expect(node(r, 'http_1').output.body).toEqual({ callback_status: 200 });
      expect(node(r, 'wait_1').output.body).toEqual({ answer: 'early' });
    } finally {
      await early.close();
    }
  });

  it('answers the call with the configured response', async () => {
    const id = await start(
      await create({
        response: {
          status: 202,
          content_type: 'text/html',
          headers: { 'x-done': '1' },
          body: '<p>Thanks, approved.</p>',
        },
      }),
    );
    await waiting(id);
    const res = await fetch(callbackOf(id));
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(res.headers.get('x-done')).toBe('1');
    expect(await res.text()).toBe('<p>Thanks, approved.</p>');
    expect(node(await ended(id), 'wait_1').output.method).toBe('GET');
  });

  it('with no call within timeout_ms the node fails, and a late call is a 409', async () => {
    const id = await start(await create({ timeout_ms: 60_000 }));
    await waiting(id);
    clock.advance(61_000);
    const r = await ended(id);
    expect(r.status).toBe('failed');
    expect(r.error).toBe('Node wait_1 (wait) failed: No call to the resume URL within 60000 ms');
    const late = await fetch(callbackOf(id), { method: 'POST' });
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ code: 'wait_timed_out' });
  });

  it('a timeout takes the node\'s "when": "timeout" edges, and only those', async () => {
    const flow = await create(
      { timeout_ms: 60_000 },
      {
        nodes: [{ id: 'set_2', type: 'set', config: { values: { 'vars.timed_out': true } } }],
        edges: [{ from: 'wait_1', to: 'set_2', when: 'timeout' }],
      },
    );
    const id = await start(flow);
    await waiting(id);
    clock.advance(61_000);
    const r = await ended(id);
    expect(r.status, r.error).toBe('succeeded');
    expect(r.vars).toEqual({ timed_out: true });
    expect(node(r, 'wait_1')).toMatchObject({ status: 'failed', handled: 'timeout' });
    expect(node(r, 'set_1').status).toBe('skipped');

    // Resumed in time, the same flow takes the normal edge, not the timeout one.
    const id2 = await start(flow);
    await waiting(id2);
    await fetch(callbackOf(id2), {
      method: 'POST',
      body: '{"answer":"ok"}',
      headers: { 'content-type': 'application/json' },
    });
    const r2 = await ended(id2);
    expect(r2.vars).toEqual({ answer: 'ok' });
    expect(node(r2, 'set_2').status).toBe('skipped');
  });

  it('a call to a run that has ended is a 409, and a cancelled run is not woken', async () => {
    const id = await start(await create());
    await waiting(id);
    expect((await t.api('POST', `/api/v1/runs/${id}/cancel`)).status).toBe(200);
    const res = await fetch(callbackOf(id), { method: 'POST' });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'run_finished', status: 'cancelled' });
  });

  it('is checked on save: timeout_ms, response, edges, and no wait inside a loop', async () => {
    const bad = async (nodes: unknown[], edges: unknown[] = []) => {
      const res = await t.api('POST', '/api/v1/flows', {
        name: 'bad wait',
        nodes: [{ id: 'webhook_1', type: 'webhook' }, ...nodes],
        edges,
      });
      expect(res.status, res.text).toBe(400);
      return (res.body.errors as { node?: string; field: string; msg: string }[]).map(
        (e) => `${e.node} ${e.field}`,
      );
    };
    expect(await bad([{ id: 'wait_1', type: 'wait', config: { timeout_ms: 10 } }])).toEqual([
      'wait_1 config.timeout_ms',
    ]);
    expect(await bad([{ id: 'wait_1', type: 'wait', config: { response: { status: 99 } } }])).toEqual([
      'wait_1 config.response.status',
    ]);
    expect(
      await bad(
        [
          { id: 'wait_1', type: 'wait' },
          { id: 'set_1', type: 'set', config: { values: {} } },
        ],
        [{ from: 'wait_1', to: 'set_1', when: 'late' }],
      ),
    ).toEqual(['wait_1 edges[0].when']);
    expect(
      await bad([
        {
          id: 'loop_1',
          type: 'loop',
          config: { items: '${Webhook::Body}', nodes: [{ id: 'wait_2', type: 'wait' }] },
        },
      ]),
    ).toEqual(['wait_2 type']);
  });
});
