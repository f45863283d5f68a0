/**
 * Outbound delivery (docs/api.md §5) end to end: a real app with its delivery worker, real HTTP
 * receivers on 127.0.0.1, and a fake clock (real time + an offset the test advances) so that
 * schedules of seconds or days are walked through without waiting for them. Jitter is made
 * deterministic with `random: () => 0.5` (factor 1.0). Each test has its own app and database.
 */
import type { ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { Mailer, type MailMessage } from '../src/notify/mailer.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { eventually, type Received, type Receiver, startReceiver } from './helpers/receiver.ts';

const ALLOW_LOOPBACK = { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' };
const SECOND = 1000;
const DAY = 86_400_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Apps first (their workers may still be talking to the receivers), then the receivers.
  while (cleanups.length) await cleanups.pop()!();
});

type Setup = {
  t: TestApp;
  /** The app's clock: real time + an offset. */
  now: () => number;
  /** Moves the app's clock forward and wakes the delivery worker. */
  advance(ms: number): void;
};

async function setup(
  opts: { env?: Record<string, string>; allowLoopback?: boolean; timeoutMs?: number; mailer?: Mailer } = {},
): Promise<Setup> {
  let offset = 0;
  const now = () => Date.now() + offset;
  const t = await startTestApp({
    worker: { pollMs: 50 },
    now,
    env: { ...(opts.allowLoopback === false ? {} : ALLOW_LOOPBACK), ...opts.env },
    delivery: { pollMs: 50, random: () => 0.5, timeoutMs: opts.timeoutMs },
    mailer: opts.mailer,
  });
  cleanups.push(() => t.close());
  return {
    t,
    now,
    advance(ms) {
      offset += ms;
      t.app.hookflow.delivery!.poke();
    },
  };
}

async function receiver(handler?: Receiver['handler']): Promise<Receiver> {
  const r = await startReceiver(handler);
  // At the front: cleanups run from the back, so receivers are closed after the apps.
  cleanups.unshift(() => r.close());
  return r;
}

function answer(res: ServerResponse, status: number, headers: Record<string, string> = {}, body = '{}') {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

async function createEndpoint(t: TestApp, body: Record<string, unknown>) {
  const r = await t.api('POST', '/api/v1/endpoints', { name: 'test endpoint', ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  expect(r.body.signing_secret).toMatch(/^whsec_/);
  return r.body as { id: string; signing_secret: string };
}

async function publish(t: TestApp, eventType: string, data: unknown = {}) {
  const r = await t.api('POST', '/api/v1/events', { event_type: eventType, data });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body as { id: string; event_type: string; created_at: string };
}

type DeliveryRow = {
  id: string;
  status: string;
  attempts: number;
  next_attempt_at: Date | null;
  locked_by: string | null;
  last_error: string | null;
};

async function deliveryOf(
  t: TestApp,
  messageId: string,
  endpointId: string,
): Promise<DeliveryRow | undefined> {
  return (await t.db.database.db
    .selectFrom('deliveries')
    .select(['id', 'status', 'attempts', 'next_attempt_at', 'locked_by', 'last_error'])
    .where('tenant_id', '=', 'default')
    .where('message_id', '=', messageId)
    .where('endpoint_id', '=', endpointId)
    .executeTakeFirst()) as DeliveryRow | undefined;
}

/** Waits until the delivery has made `n` attempts and is no longer held by a worker. */
function afterAttempts(t: TestApp, messageId: string, endpointId: string, n: number): Promise<DeliveryRow> {
  return eventually(
    async () => {
      const d = await deliveryOf(t, messageId, endpointId);
      return d && d.attempts === n && d.locked_by === null ? d : undefined;
    },
    10_000,
    `delivery of ${messageId} after ${n} attempt(s)`,
  );
}

type AttemptRow = {
  id: string;
  endpoint_id: string;
  status: 'succeeded' | 'failed';
  response_status: number | null;
  error: string | null;
  duration_ms: number;
  created_at: string;
};

async function attemptsOf(t: TestApp, messageId: string): Promise<AttemptRow[]> {
  const r = await t.api('GET', `/api/v1/messages/${messageId}/attempts`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data;
}

async function eventsOfType(t: TestApp, eventType: string) {
  const rows = await t.db.database.db
    .selectFrom('events')
    .select(['id', 'event_type', 'data', 'context', 'source'])
    .where('tenant_id', '=', 'default')
    .where('event_type', '=', eventType)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    ...r,
    data: (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as any,
    context: (typeof r.context === 'string' ? JSON.parse(r.context) : r.context) as any,
  }));
}

const ms = (d: Date | string | null | undefined) => (d == null ? Number.NaN : new Date(d).getTime());
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));
const headersOf = (r: Received) => r.headers as Record<string, string>;

/** The delay the worker scheduled after the delivery's last attempt (next_attempt_at − attempt time). */
async function scheduledDelay(t: TestApp, messageId: string, endpointId: string): Promise<number> {
  const d = await deliveryOf(t, messageId, endpointId);
  const attempts = (await attemptsOf(t, messageId)).filter((a) => a.endpoint_id === endpointId);
  return ms(d!.next_attempt_at) - ms(attempts[attempts.length - 1].created_at);
}

describe('delivery', () => {
  it('every delivery verifies with standardwebhooks and carries the envelope', async () => {
    const rcv = await receiver();
    const { t } = await setup();
    const ep = await createEndpoint(t, { url: `${rcv.url}/in`, events: ['order.created'] });
    const data = { order: 42, lines: [{ sku: 'a', qty: 2 }], note: 'ünïcødé "quoted"' };
    const ev = await publish(t, 'order.created', data);

    const got = await eventually(() => rcv.received[0], 10_000, 'the delivery');
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/in');
    const payload = new Webhook(ep.signing_secret).verify(got.body, headersOf(got)) as any;
    expect(Object.keys(payload).sort()).toEqual(['current_context', 'data', 'event_time', 'event_type']);
    expect(payload.event_type).toBe('order.created');
    expect(payload.data).toEqual(data);
    expect(payload.current_context).toEqual({ tenant_id: 'default' });
    expect(payload.event_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(ms(payload.event_time)).toBe(ms(ev.created_at));
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toMatch(/^Hookflow\/\S+/);
    expect(got.headers['webhook-id']).toBe(ev.id);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) * 1000 - Date.now())).toBeLessThan(60_000);
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // The signature covers the body: a changed body does not verify.
    expect(() =>
      new Webhook(ep.signing_secret).verify(got.body.replace('42', '43'), headersOf(got)),
    ).toThrow();

    const d = await afterAttempts(t, ev.id, ep.id, 1);
    expect(d.status).toBe('delivered');
    expect(rcv.received).toHaveLength(1);
  });

  it('retries keep the same webhook-id and follow the schedule', async () => {
    let calls = 0;
    const rcv = await receiver((_req, res) => {
      calls++;
      answer(res, calls <= 3 ? 500 : 200, {}, calls <= 3 ? '{"error":"down"}' : '{"ok":true}');
    });
    const { t, advance } = await setup({ env: { HOOKFLOW_RETRY_SCHEDULE: '0,5,10,20' } });
    const ep = await createEndpoint(t, { url: `${rcv.url}/flaky`, events: ['retry.me'] });
    const ev = await publish(t, 'retry.me', { n: 1 });

    await afterAttempts(t, ev.id, ep.id, 1);
    expect(rcv.received).toHaveLength(1);
    for (const [n, delaySeconds] of [
      [1, 5],
      [2, 10],
      [3, 20],
    ] as const) {
      const d = await deliveryOf(t, ev.id, ep.id);
      expect(d!.status).toBe('pending');
      // random 0.5 → jitter factor 1.0: exactly the scheduled delay after the failed attempt.
      expect(Math.abs((await scheduledDelay(t, ev.id, ep.id)) - delaySeconds * SECOND)).toBeLessThan(500);
      // Not before the clock passes the delay…
      advance(delaySeconds * SECOND - SECOND);
      await sleep(300);
      expect(rcv.received).toHaveLength(n);
      // …and promptly after.
      advance(SECOND + 100);
      await afterAttempts(t, ev.id, ep.id, n + 1);
      expect(rcv.received).toHaveLength(n + 1);
    }

    const d = await deliveryOf(t, ev.id, ep.id);
    expect(d!.status).toBe('delivered');
    const ids = new Set(rcv.received.map((r) => r.headers['webhook-id']));
    expect([...ids]).toEqual([ev.id]);
    // Each retry is signed afresh (a new timestamp) and verifies.
    for (const r of rcv.received) new Webhook(ep.signing_secret).verify(r.body, headersOf(r));
    const attempts = await attemptsOf(t, ev.id);
    expect(attempts.map((a) => [a.status, a.response_status])).toEqual([
      ['failed', 500],
      ['failed', 500],
      ['failed', 500],
      ['succeeded', 200],
    ]);
    expect(attempts[0].error).toMatch(/500/);
    expect(attempts[3].error).toBeNull();
  });

  it('a 410 disables the endpoint, writes endpoint.disabled and fails the delivery without retries', async () => {
    const rcv = await receiver((req, res) => (req.url === '/gone' ? answer(res, 410) : answer(res, 200)));
    // A zero-delay schedule: a retry, if there were one, would come at once.
    const { t } = await setup({ env: { HOOKFLOW_RETRY_SCHEDULE: '0,0,0,0' } });
    const ep = await createEndpoint(t, { url: `${rcv.url}/gone`, events: ['gone.test'] });
    const watcher = await createEndpoint(t, { url: `${rcv.url}/watch`, events: ['endpoint.disabled'] });
    const ev = await publish(t, 'gone.test', { x: 1 });

    const view = await eventually(
      async () => {
        const r = await t.api('GET', `/api/v1/endpoints/${ep.id}`);
        return r.body.enabled === false ? r.body : undefined;
      },
      10_000,
      'the endpoint disabled',
    );
    expect(view.disabled_reason).toMatch(/410/);

    const disabled = await eventually(async () => (await eventsOfType(t, 'endpoint.disabled'))[0]);
    expect(disabled.data).toMatchObject({ endpoint_id: ep.id });
    expect(disabled.data.reason).toMatch(/410/);
    // The endpoint.disabled event is a message like any other: its subscriber gets it.
    const notice = await eventually(() => rcv.received.find((r) => r.url === '/watch'));
    const payload = new Webhook(watcher.signing_secret).verify(notice.body, headersOf(notice)) as any;
    expect(payload).toMatchObject({ event_type: 'endpoint.disabled', data: { endpoint_id: ep.id } });

    const d = await afterAttempts(t, ev.id, ep.id, 1);
    expect(d.status).toBe('failed');
    expect(d.next_attempt_at).toBeNull();
    await sleep(400);
    expect(rcv.received.filter((r) => r.url === '/gone')).toHaveLength(1);
    const attempts = await attemptsOf(t, ev.id);
    expect(attempts.map((a) => [a.status, a.response_status])).toEqual([['failed', 410]]);

    // A disabled endpoint gets no new messages.
    const later = await publish(t, 'gone.test', { x: 2 });
    await sleep(300);
    expect(await deliveryOf(t, later.id, ep.id)).toBeUndefined();
    expect(rcv.received.filter((r) => r.url === '/gone')).toHaveLength(1);
  });

  it('Retry-After on 429 is honoured within [scheduled, 2 × scheduled] and ignored on 500', async () => {
    const rcv = await receiver((req, res) => {
      if (req.url === '/ra30') return answer(res, 429, { 'retry-after': '30' });
      if (req.url === '/ra1') return answer(res, 429, { 'retry-after': '1' });
      if (req.url === '/ra15-503') return answer(res, 503, { 'retry-after': '15' });
      if (req.url === '/e500') return answer(res, 500, { 'retry-after': '30' });
      return answer(res, 200);
    });
    const { t } = await setup({ env: { HOOKFLOW_RETRY_SCHEDULE: '0,10,10' } });
    const cases = [
      { path: '/ra30', expected: 20 * SECOND }, // 30 s asked, clamped to 2 × 10 s
      { path: '/ra1', expected: 10 * SECOND }, // 1 s asked, never shorter than the schedule
      { path: '/ra15-503', expected: 15 * SECOND }, // within bounds on 503: as asked
      { path: '/e500', expected: 10 * SECOND }, // a 500's Retry-After is ignored
    ];
    const runs = [];
    for (const c of cases) {
      const type = `ra.${c.path.slice(1)}`;
      const ep = await createEndpoint(t, { url: `${rcv.url}${c.path}`, events: [type] });
      const ev = await publish(t, type);
      runs.push({ ...c, ep, ev });
    }
    for (const r of runs) {
      const d = await afterAttempts(t, r.ev.id, r.ep.id, 1);
      expect(d.status).toBe('pending');
      const delay = await scheduledDelay(t, r.ev.id, r.ep.id);
      expect(
        Math.abs(delay - r.expected),
        `${r.path}: scheduled ${delay} ms, expected ${r.expected}`,
      ).toBeLessThan(500);
    }
  });

  it('a receiver that does not answer within the timeout is a failed attempt, then retried', async () => {
    let calls = 0;
    const rcv = await receiver((_req, res) => {
      calls++;
      if (calls === 1) return; // never answers
      answer(res, 200);
    });
    const { t } = await setup({ env: { HOOKFLOW_RETRY_SCHEDULE: '0,0,0' }, timeoutMs: 300 });
    const ep = await createEndpoint(t, { url: `${rcv.url}/slow`, events: ['slow.test'] });
    const ev = await publish(t, 'slow.test');

    const d = await afterAttempts(t, ev.id, ep.id, 2);
    expect(d.status).toBe('delivered');
    const attempts = await attemptsOf(t, ev.id);
    expect(attempts.map((a) => [a.status, a.response_status])).toEqual([
      ['failed', null],
      ['succeeded', 200],
    ]);
    expect(attempts[0].error).toMatch(/300 ms|time(d)?[ -]?out/i);
    expect(attempts[0].duration_ms).toBeGreaterThanOrEqual(250);
    expect(attempts[0].duration_ms).toBeLessThan(5000);
    expect(rcv.received.map((r) => r.headers['webhook-id'])).toEqual([ev.id, ev.id]);
  });

  it('an endpoint whose attempts have all failed for 5 days is disabled, with endpoint.disabled and a mail', async () => {
    class RecordingMailer extends Mailer {
      readonly sent: MailMessage[] = [];
      constructor() {
        super({});
      }
      override enqueue(msg: MailMessage): void {
        this.sent.push(msg);
      }
    }
    const mailer = new RecordingMailer();
    const rcv = await receiver((_req, res) => answer(res, 500));
    const { t, advance } = await setup({
      env: {
        HOOKFLOW_DISABLE_ENDPOINT_AFTER_DAYS: '5',
        HOOKFLOW_RETRY_SCHEDULE: '0,86400,86400,86400,86400,86400,86400,86400',
      },
      mailer,
    });
    const s = await t.api('PUT', '/api/v1/settings', { notify: { emails: ['ops@example.com'] } });
    expect(s.status, JSON.stringify(s.body)).toBe(200);
    const ep = await createEndpoint(t, { url: `${rcv.url}/down`, events: ['daily.test'] });
    const ev = await publish(t, 'daily.test');
    await afterAttempts(t, ev.id, ep.id, 1);

    for (let day = 1; day <= 4; day++) {
      advance(DAY);
      await afterAttempts(t, ev.id, ep.id, day + 1);
      // Failing for `day` days (< 5): still enabled, nothing said.
      const view = (await t.api('GET', `/api/v1/endpoints/${ep.id}`)).body;
      expect(view.enabled, `day ${day}`).toBe(true);
      expect(await eventsOfType(t, 'endpoint.disabled')).toHaveLength(0);
      expect(mailer.sent).toHaveLength(0);
    }

    advance(DAY);
    await afterAttempts(t, ev.id, ep.id, 6);
    const view = await eventually(
      async () => {
        const r = await t.api('GET', `/api/v1/endpoints/${ep.id}`);
        return r.body.enabled === false ? r.body : undefined;
      },
      10_000,
      'the endpoint disabled',
    );
    expect(view.disabled_reason).toMatch(/failed/i);
    const disabled = await eventsOfType(t, 'endpoint.disabled');
    expect(disabled).toHaveLength(1);
    expect(disabled[0].data).toMatchObject({ endpoint_id: ep.id });
    await eventually(() => mailer.sent.length > 0, 5000, 'the mail');
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0].to).toEqual(['ops@example.com']);
    expect(`${mailer.sent[0].subject}\n${mailer.sent[0].text}`).toContain(ep.id);

    // Its delivery is over: no 7th attempt on the next day.
    expect((await deliveryOf(t, ev.id, ep.id))!.status).toBe('failed');
    advance(DAY);
    await sleep(300);
    expect(rcv.received).toHaveLength(6);
  });

  it('during a secret rotation every delivery verifies with both the old and the new secret', async () => {
    const rcv = await receiver();
    const { t } = await setup();
    const ep = await createEndpoint(t, { url: `${rcv.url}/rot`, events: ['rot.test'] });
    const oldSecret = ep.signing_secret;

    const before = await publish(t, 'rot.test', { n: 1 });
    const first = await eventually(() => rcv.received.find((r) => r.headers['webhook-id'] === before.id));
    expect(String(first.headers['webhook-signature']).split(' ')).toHaveLength(1);
    new Webhook(oldSecret).verify(first.body, headersOf(first));

    const rot = await t.api('POST', `/api/v1/endpoints/${ep.id}/rotate-secret`);
    expect(rot.status, JSON.stringify(rot.body)).toBe(200);
    const newSecret: string = rot.body.signing_secret;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    expect(Math.abs(ms(rot.body.previous_secret_expires_at) - Date.now() - DAY)).toBeLessThan(60_000);

    const after = await publish(t, 'rot.test', { n: 2 });
    const got = await eventually(() => rcv.received.find((r) => r.headers['webhook-id'] === after.id));
    const sigs = String(got.headers['webhook-signature']).split(' ');
    expect(sigs).toHaveLength(2);
    for (const sig of sigs) expect(sig).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect((new Webhook(oldSecret).verify(got.body, headersOf(got)) as any).data).toEqual({ n: 2 });
    expect((new Webhook(newSecret).verify(got.body, headersOf(got)) as any).data).toEqual({ n: 2 });
    // Each signature is the one of its secret: either one alone verifies with its own secret.
    const only = (sig: string) => ({ ...headersOf(got), 'webhook-signature': sig });
    const verifies = (secret: string, sig: string) => {
      try {
        new Webhook(secret).verify(got.body, only(sig));
        return true;
      } catch {
        return false;
      }
    };
    expect(sigs.map((s) => [verifies(newSecret, s), verifies(oldSecret, s)])).toEqual([
      [true, false],
      [false, true],
    ]);
    // A secret that was never the endpoint's does not verify.
    const stranger = await createEndpoint(t, { url: `${rcv.url}/other`, events: ['never.sent'] });
    expect(() => new Webhook(stranger.signing_secret).verify(got.body, headersOf(got))).toThrow();
  });

  it('send_to_default_webhook sends the full run details to the default endpoint, and only for such flows', async () => {
    const rcv = await receiver();
    const { t } = await setup();
    const def = await createEndpoint(t, { url: `${rcv.url}/default`, events: [], is_default: true });
    const flow = (settings: Record<string, unknown>, name: string) => ({
      name,
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: {} },
        { id: 'set_1', type: 'set', config: { values: { 'vars.n': '${Webhook::Body.n}' } } },
      ],
      edges: [{ from: 'webhook_1', to: 'set_1' }],
      settings,
    });
    const withIt = await t.api(
      'POST',
      '/api/v1/flows',
      flow({ send_to_default_webhook: true }, 'to default'),
    );
    expect(withIt.status, JSON.stringify(withIt.body)).toBe(201);
    const without = await t.api('POST', '/api/v1/flows', flow({}, 'not to default'));
    expect(without.status, JSON.stringify(without.body)).toBe(201);

    const trigger = async (f: any, n: number) => {
      const res = await fetch(`${f.webhooks[0].url}?q=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test': 'yes' },
        body: JSON.stringify({ n }),
      });
      expect(res.status).toBeLessThan(300);
      return (await res.json()).run_id as string;
    };
    const runWith = await trigger(withIt.body, 7);
    const runWithout = await trigger(without.body, 8);

    const got = await eventually(
      () => rcv.received.find((r) => r.body.includes(runWith)),
      10_000,
      'run details',
    );
    const payload = new Webhook(def.signing_secret).verify(got.body, headersOf(got)) as any;
    expect(payload.event_type).toBe('flow.completed');
    // The routing flag is internal: not in the envelope.
    expect(payload.current_context).toEqual({
      tenant_id: 'default',
      flow_id: withIt.body.id,
      run_id: runWith,
    });
    const data = payload.data;
    expect(data).toMatchObject({
      run_id: runWith,
      flow_id: withIt.body.id,
      flow: { id: withIt.body.id, name: 'to default' },
      status: 'succeeded',
      error: null,
      vars: { n: 7 },
    });
    expect(data.trigger).toMatchObject({ method: 'POST', body: { n: 7 } });
    expect(JSON.stringify(data.trigger)).toContain('x-test');
    expect(data.nodes.map((n: any) => [n.id, n.status])).toEqual([
      ['webhook_1', 'succeeded'],
      ['set_1', 'succeeded'],
    ]);
    for (const n of data.nodes) expect(n).toHaveProperty('output');
    expect(ms(data.started_at)).toBeLessThanOrEqual(ms(data.finished_at));
    expect(data.duration_ms).toBe(ms(data.finished_at) - ms(data.started_at));

    // The other flow's completion exists, and (fan-out being in the inserting statement) it has
    // no delivery to the default endpoint, now or later.
    const completion = await eventually(
      async () => (await eventsOfType(t, 'flow.completed')).find((e) => e.context.run_id === runWithout),
      10_000,
      'the second run finished',
    );
    expect(await deliveryOf(t, completion.id, def.id)).toBeUndefined();
    await sleep(300);
    expect(rcv.received.filter((r) => r.body.includes(runWithout))).toHaveLength(0);
    expect(rcv.received).toHaveLength(1);
  });

  it('the SSRF guard refuses a loopback receiver unless allowed', async () => {
    const rcv = await receiver();
    const { t } = await setup({ allowLoopback: false, env: { HOOKFLOW_RETRY_SCHEDULE: '0,0' } });
    const ep = await createEndpoint(t, { url: `${rcv.url}/internal`, events: ['ssrf.test'] });
    const ev = await publish(t, 'ssrf.test');

    const d = await afterAttempts(t, ev.id, ep.id, 2);
    expect(d.status).toBe('failed');
    const attempts = await attemptsOf(t, ev.id);
    expect(attempts).toHaveLength(2);
    for (const a of attempts) {
      expect(a.status).toBe('failed');
      expect(a.response_status).toBeNull();
      expect(a.error).toMatch(/Refused/);
    }
    await sleep(200);
    expect(rcv.received).toHaveLength(0);
  });

  it('message.attempt.exhausted is written when the schedule runs out', async () => {
    const rcv = await receiver((_req, res) => answer(res, 500, {}, '{"error":"nope"}'));
    const { t } = await setup({ env: { HOOKFLOW_RETRY_SCHEDULE: '0,0.1' } });
    const ep = await createEndpoint(t, { url: `${rcv.url}/fail`, events: ['exhaust.test'] });
    const ev = await publish(t, 'exhaust.test');

    const exhausted = await eventually(
      async () =>
        (await eventsOfType(t, 'message.attempt.exhausted')).find((e) => e.data.message_id === ev.id),
      10_000,
      'message.attempt.exhausted',
    );
    expect(exhausted.data).toMatchObject({ message_id: ev.id, endpoint_id: ep.id, last_status: 500 });
    expect(exhausted.source).toBe('system');
    const d = await afterAttempts(t, ev.id, ep.id, 2);
    expect(d.status).toBe('failed');
    expect(d.next_attempt_at).toBeNull();
    expect(rcv.received).toHaveLength(2);
    expect((await attemptsOf(t, ev.id)).map((a) => a.status)).toEqual(['failed', 'failed']);
    await sleep(300);
    expect(rcv.received).toHaveLength(2);
    expect(await eventsOfType(t, 'message.attempt.exhausted')).toHaveLength(1);
  });

  it('rate_limit_per_s: at most that many requests in any wall-clock second, and all delivered', async () => {
    const times: number[] = [];
    const rcv = await receiver((_req, res) => {
      times.push(Date.now());
      answer(res, 200);
    });
    const { t } = await setup();
    const ep = await createEndpoint(t, {
      url: `${rcv.url}/limited`,
      events: ['rl.test'],
      rate_limit_per_s: 2,
    });
    const burst = async (round: number) => {
      const evs = await Promise.all(Array.from({ length: 6 }, (_, i) => publish(t, 'rl.test', { round, i })));
      await eventually(
        async () => {
          const ds = await Promise.all(evs.map((e) => deliveryOf(t, e.id, ep.id)));
          return ds.every((d) => d?.status === 'delivered');
        },
        // Three seconds at 2/s when idle; a loaded CI machine (PGlite shares the test's event
        // loop) can take several times that.
        30_000,
        `all six of round ${round} delivered`,
      );
      return evs;
    };
    // Six at once, at whatever moment…
    const first = await burst(1);
    // …and six at once just before a second ends, where the budget of one second meets the next.
    await sleep(1000 - (Date.now() % 1000) + 960);
    const second = await burst(2);

    const evs = [...first, ...second];
    expect(times).toHaveLength(12);
    const perSecond = new Map<number, number>();
    for (const at of times)
      perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values()), JSON.stringify([...perSecond])).toBeLessThanOrEqual(2);
    expect(new Set(rcv.received.map((r) => r.headers['webhook-id']))).toEqual(new Set(evs.map((e) => e.id)));
    // Every one in a single attempt: postponing for the rate limit is not a failed attempt.
    for (const e of evs) expect((await deliveryOf(t, e.id, ep.id))!.attempts).toBe(1);
  }, 90_000);
});
