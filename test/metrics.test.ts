/**
 * GET /metrics (docs/api.md §7.2): a real app with its workers, a real receiver on 127.0.0.1, and the
 * Prometheus text read back sample by sample. Each test has its own app and database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, webhookFlow } from './helpers/app.ts';
import { metricNames, sample } from './helpers/prometheus.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

const ALLOW_LOOPBACK = { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function app(opts: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  const t = await startTestApp(opts);
  cleanups.push(() => t.close());
  return t;
}

async function receiver(handler?: Receiver['handler']): Promise<Receiver> {
  const r = await startReceiver(handler);
  // Closed after the apps (cleanups run from the back).
  cleanups.unshift(() => r.close());
  return r;
}

async function scrape(t: TestApp, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/metrics`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** A flow whose webhook requires body.order.id and whose run ends at once. */
async function orderFlow(t: TestApp) {
  const flow = await t.api(
    'POST',
    '/api/v1/flows',
    webhookFlow({ parameters: [{ source: 'body', path: 'order.id', type: 'string', required: true }] }),
  );
  expect(flow.status, JSON.stringify(flow.body)).toBe(201);
  return { id: flow.body.id as string, url: flow.body.webhooks[0].url as string };
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('GET /metrics', () => {
  it('counts inbound requests by flow and status, finished runs and delivery outcomes, with latency histograms', async () => {
    const t = await app({ worker: { pollMs: 50 }, env: ALLOW_LOOPBACK, delivery: { pollMs: 50 } });
    const ok = await receiver();
    const down = await receiver((_req, res) => {
      res.writeHead(500);
      res.end();
    });
    for (const [url, schedule] of [
      [`${ok.url}/ok`, null],
      // The first attempt at once (0), the next an hour later.
      [`${down.url}/down`, [0, 3600]],
    ] as const) {
      const ep = await t.api('POST', '/api/v1/endpoints', {
        name: 'metrics test',
        url,
        events: ['flow.completed'],
        retry_schedule: schedule,
      });
      expect(ep.status, JSON.stringify(ep.body)).toBe(201);
    }
    const flow = await orderFlow(t);

    for (let i = 0; i < 3; i++) expect((await post(flow.url, { order: { id: `A${i}` } })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await post(flow.url, { order: {} })).status).toBe(400);
    expect((await post(`${t.url}/hooks/default/flw_does_not_exist`, {})).status).toBe(404);

    // Three runs end, each flow.completed goes to both endpoints: three delivered, three to retry.
    const text = await eventually(
      async () => {
        const { text } = await scrape(t);
        return sample(text, 'hookflow_deliveries_total', { outcome: 'delivered' }) === 3 &&
          sample(text, 'hookflow_deliveries_total', { outcome: 'retrying' }) === 3
          ? text
          : undefined;
      },
      30_000,
      'three deliveries delivered and three retrying',
    );
    expect(ok.received).toHaveLength(3);
    expect(sample(text, 'hookflow_inbound_requests_total', { flow: flow.id, status: '200' })).toBe(3);
    expect(sample(text, 'hookflow_inbound_requests_total', { flow: flow.id, status: '400' })).toBe(2);
    expect(sample(text, 'hookflow_inbound_requests_total', { flow: 'unknown', status: '404' })).toBe(1);
    expect(sample(text, 'hookflow_ingest_duration_seconds_count')).toBe(3);
    expect(sample(text, 'hookflow_ingest_duration_seconds_bucket', { le: '+Inf' })).toBe(3);
    expect(sample(text, 'hookflow_runs_finished_total', { status: 'succeeded' })).toBe(3);
    expect(sample(text, 'hookflow_runs_finished_total', { status: 'failed' })).toBe(0);
    expect(sample(text, 'hookflow_run_duration_seconds_count')).toBe(3);
    expect(sample(text, 'hookflow_deliveries_total', { outcome: 'failed' })).toBe(0);
    expect(sample(text, 'hookflow_delivery_attempt_duration_seconds_count')).toBe(6);
    expect(sample(text, 'hookflow_delivery_lag_seconds_count')).toBe(3);
    // The failed attempts are scheduled an hour out: nothing is due. (The queue gauges are read at
    // most once a second, so a scrape may still show the moment before the last claim.)
    await eventually(
      async () => (sample((await scrape(t)).text, 'hookflow_delivery_queue_depth') === 0 ? true : undefined),
      5_000,
      'no delivery due',
    );
    expect(sample(text, 'hookflow_database_up')).toBe(1);
    // Process metrics come along.
    expect(metricNames(text)).toContain('hookflow_process_cpu_user_seconds_total');
    expect(metricNames(text)).toContain('hookflow_nodejs_eventloop_lag_seconds');
  }, 60_000);

  it('answers in the Prometheus text format without an API key', async () => {
    const t = await app();
    const res = await scrape(t);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metricNames(res.text)).toEqual(
      expect.arrayContaining([
        'hookflow_inbound_requests_total',
        'hookflow_ingest_duration_seconds',
        'hookflow_runs_finished_total',
        'hookflow_run_duration_seconds',
        'hookflow_deliveries_total',
        'hookflow_delivery_attempt_duration_seconds',
        'hookflow_delivery_lag_seconds',
        'hookflow_run_queue_depth',
        'hookflow_run_queue_oldest_age_seconds',
        'hookflow_delivery_queue_depth',
        'hookflow_delivery_queue_oldest_age_seconds',
        'hookflow_database_up',
      ]),
    );
    // Outcomes are there from the start (at 0), so rate() has a first sample.
    for (const outcome of ['delivered', 'retrying', 'failed', 'cancelled', 'rate_limited'])
      expect(sample(res.text, 'hookflow_deliveries_total', { outcome })).toBe(0);
  });

  it('queue gauges: with no workers, N accepted webhooks are N due runs and published events are due deliveries', async () => {
    const t = await app(); // no workers: everything stays queued
    const ep = await t.api('POST', '/api/v1/endpoints', {
      name: 'nobody sends',
      url: 'https://example.com/hooks',
      events: ['order.created'],
    });
    expect(ep.status).toBe(201);
    const flow = await orderFlow(t);
    const before = await scrape(t);
    expect(sample(before.text, 'hookflow_run_queue_depth')).toBe(0);
    expect(sample(before.text, 'hookflow_run_queue_oldest_age_seconds')).toBe(0);

    for (let i = 0; i < 4; i++) expect((await post(flow.url, { order: { id: `Q${i}` } })).status).toBe(200);
    for (let i = 0; i < 2; i++)
      expect(
        (await t.api('POST', '/api/v1/events', { event_type: 'order.created', data: { i } })).status,
      ).toBe(202);

    // Gauges are read at most once a second: wait for a fresh read.
    const text = await eventually(
      async () => {
        const { text } = await scrape(t);
        return sample(text, 'hookflow_run_queue_depth') === 4 ? text : undefined;
      },
      10_000,
      'four due runs',
    );
    expect(sample(text, 'hookflow_delivery_queue_depth')).toBe(2);
    expect(sample(text, 'hookflow_run_queue_oldest_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'hookflow_delivery_queue_oldest_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'hookflow_database_up')).toBe(1);
    // This api-only app runs no workers: its worker counters stay at 0.
    expect(sample(text, 'hookflow_runs_finished_total', { status: 'succeeded' })).toBe(0);
  });

  it('runs cancelled through the API are counted as finished with status cancelled, once each', async () => {
    const t = await app(); // no workers: the runs stay queued until cancelled
    const flow = await orderFlow(t);
    const before = await scrape(t);
    expect(sample(before.text, 'hookflow_runs_finished_total', { status: 'cancelled' })).toBe(0);
    const accepted = await post(flow.url, { order: { id: 'C1' } });
    expect(accepted.status).toBe(200);
    const runId = ((await accepted.json()) as { run_id: string }).run_id;
    expect((await t.api('POST', `/api/v1/runs/${runId}/cancel`)).status).toBe(200);
    // A second cancel is refused (409) and not counted again.
    expect((await t.api('POST', `/api/v1/runs/${runId}/cancel`)).status).toBe(409);
    const after = await scrape(t);
    expect(sample(after.text, 'hookflow_runs_finished_total', { status: 'cancelled' })).toBe(1);
  });

  it('with HOOKFLOW_METRICS_TOKEN it takes only Authorization: Bearer <token>', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const t = await app({ env: { HOOKFLOW_METRICS_TOKEN: token } });
    const refused: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token' },
      { authorization: token },
      { authorization: `Basic ${token}` },
    ];
    for (const headers of refused) {
      const res = await scrape(t, headers);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text)).toEqual({ msg: expect.any(String), code: 'unauthorized' });
    }
    // The admin API key is not the metrics token either.
    expect((await scrape(t, { authorization: `Bearer ${t.adminKey}` })).status).toBe(401);
    const res = await scrape(t, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(metricNames(res.text)).toContain('hookflow_inbound_requests_total');
    // The health checks stay open.
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
  });

  it('a worker-role app serves /metrics and health checks but no API or hooks', async () => {
    const t = await app({ role: 'worker' });
    const res = await scrape(t);
    expect(res.status).toBe(200);
    expect(sample(res.text, 'hookflow_runs_finished_total', { status: 'succeeded' })).toBe(0);
    expect(sample(res.text, 'hookflow_run_queue_depth')).toBe(0);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${t.url}/api/v1/flows`)).status).toBe(404);
    expect((await fetch(`${t.url}/hooks/default/flw_x`, { method: 'POST' })).status).toBe(404);
  });
});
