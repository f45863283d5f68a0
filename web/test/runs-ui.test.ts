/**
 * The Runs screens in a real browser (Chromium, see helpers/chromium.ts) against a real Hookflow app with flow and
 * delivery workers on 127.0.0.1: runs started by real webhook requests are listed and filtered;
 * a run's detail shows the trigger request, each step's input, output and error, its error, Rerun
 * and Cancel; the outbound message a run caused is shown with its attempts at a real receiver; a
 * node's own attempts (its retries), its wait for the next one and a failure the flow handled.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.ts';
import { eventually, type Receiver, startReceiver } from '../../test/helpers/receiver.ts';
import { launchChromium, openSignedIn, requireBuiltUi, screenshot, shown } from './helpers/browser.ts';

const TEST_TIMEOUT_MS = 90_000;

type Node = {
  id: string;
  type: string;
  config: Record<string, unknown>;
  retry?: Record<string, number>;
  on_error?: 'fail' | 'continue' | 'branch';
};

/** A flow of a webhook trigger (POST) followed by `steps`, one after the other (an `if` goes on when true). */
function chainFlow(name: string, steps: Node[], settings: Record<string, unknown> = {}) {
  const nodes = [
    { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
    ...steps,
  ];
  return {
    name,
    nodes,
    edges: nodes
      .slice(1)
      .map((n, i) => ({ from: nodes[i].id, to: n.id, ...(nodes[i].type === 'if' ? { when: true } : {}) })),
    settings,
  };
}

describe('Runs screens in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let receiver: Receiver;
  const contexts: BrowserContext[] = [];
  let pageErrors: string[] = [];

  beforeAll(async () => {
    await requireBuiltUi();
    t = await startTestApp({
      worker: true,
      env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32', HOOKFLOW_RETRY_SCHEDULE: '0,0.2,0.2' },
    });
    receiver = await startReceiver();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver?.close();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    const errors = pageErrors;
    pageErrors = [];
    expect(errors).toEqual([]);
  });

  const runsPage = async (): Promise<Page> => {
    const opened = await openSignedIn(browser, t.url, t.adminKey, 'Runs');
    contexts.push(opened.context);
    pageErrors = opened.errors;
    return opened.page;
  };

  /** Signed in, on the detail screen of one run (opened by its URL, as a shared link would). */
  const runPage = async (runId: string): Promise<Page> => {
    const page = await runsPage();
    await page.goto(`${t.url}/runs/${runId}`);
    await shown(page.getByRole('heading', { name: `Run ${runId}`, level: 1 }));
    return page;
  };

  const createFlow = async (doc: ReturnType<typeof chainFlow> | Record<string, unknown>) => {
    const r = await t.api('POST', '/api/v1/flows', doc);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { id: string; name: string; webhooks: { url: string }[] };
  };

  /** Sends the flow's webhook a JSON body; returns the id of the run it started. */
  const trigger = async (flow: { webhooks: { url: string }[] }, body: unknown, query = '') => {
    const res = await fetch(`${flow.webhooks[0].url}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test': 'runs-ui' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { run_id: string }).run_id;
  };

  const runReaches = (runId: string, status: string) =>
    eventually(
      async () => {
        const r = await t.api('GET', `/api/v1/runs/${runId}`);
        return r.body.status === status ? r.body : undefined;
      },
      20_000,
      `run ${runId} ${status}`,
    );

  const row = (page: Page, runId: string) =>
    page.getByRole('table', { name: 'Runs' }).locator(`tr[data-run-id="${runId}"]`);

  it(
    'a run appears in the list and the status filter narrows it',
    async () => {
      const good = await createFlow(
        chainFlow('Orders in', [
          { id: 'set_1', type: 'set', config: { values: { 'vars.n': '${Webhook::Body.n}' } } },
        ]),
      );
      const bad = await createFlow(
        chainFlow('Orders refused', [{ id: 'fail_1', type: 'fail', config: { message: 'No' } }]),
      );
      const ok = await trigger(good, { n: 1 });
      const failed = await trigger(bad, { n: 2 });
      await runReaches(ok, 'succeeded');
      await runReaches(failed, 'failed');

      const page = await runsPage();
      await shown(row(page, ok));
      await expect.poll(() => row(page, ok).textContent()).toContain('Orders in');
      expect(await row(page, ok).textContent()).toContain('succeeded');
      expect(await row(page, failed).textContent()).toContain('Orders refused');
      expect(await row(page, failed).textContent()).toContain('No');
      // Newest first.
      const ids = await page
        .locator('table[aria-label="Runs"] tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')));
      expect(ids.indexOf(failed)).toBeLessThan(ids.indexOf(ok));
      await screenshot(page, 'runs-list');

      await page.getByLabel('Status').selectOption('failed');
      await row(page, ok).waitFor({ state: 'detached' });
      await shown(row(page, failed));
      expect(page.url()).toContain('status=failed');
      await page.getByLabel('Status').selectOption('succeeded');
      await row(page, failed).waitFor({ state: 'detached' });
      await shown(row(page, ok));

      // A link with ?flow_id= lists that flow's runs only; a filter with no run says so.
      await page.goto(`${t.url}/runs?flow_id=${bad.id}`);
      await shown(page.getByText('Flow: Orders refused'));
      await shown(row(page, failed));
      expect(await row(page, ok).count()).toBe(0);
      await page.getByLabel('Status').selectOption('cancelled');
      await shown(page.getByRole('heading', { name: 'No runs match these filters' }));
      await page.getByRole('button', { name: 'Show all runs' }).click();
      await shown(row(page, ok));
      await shown(row(page, failed));

      // A new run shows up on Refresh; a row opens the run.
      const again = await trigger(good, { n: 3 });
      await page.getByRole('button', { name: 'Refresh' }).click();
      await shown(row(page, again));
      await row(page, again).getByRole('link').click();
      await shown(page.getByRole('heading', { name: `Run ${again}`, level: 1 }));
      expect(new URL(page.url()).pathname).toBe(`/runs/${again}`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "run detail shows the trigger request and each node's input, output and error",
    async () => {
      const flow = await createFlow(
        chainFlow('Order check', [
          { id: 'set_1', type: 'set', config: { values: { 'vars.customer': '${Webhook::Body.customer}' } } },
          {
            id: 'transform_1',
            type: 'transform',
            config: { expression: '$sum(Webhook::Body.items.price)', into: 'vars.total' },
          },
          { id: 'if_1', type: 'if', config: { condition: '${= vars.total > 10}' } },
          { id: 'fail_1', type: 'fail', config: { message: 'Customer ${vars.customer} is blocked' } },
        ]),
      );
      const runId = await trigger(
        flow,
        { customer: 'ada', items: [{ price: 5 }, { price: 7 }] },
        '?shop=berlin',
      );
      const stored = await runReaches(runId, 'failed');

      const page = await runPage(runId);
      const request = page.getByRole('region', { name: 'Trigger request' });
      await shown(request.getByText(`/hooks/default/${flow.id}`));
      expect(await request.locator('.method').textContent()).toBe('POST');
      expect(await page.getByLabel('Trigger headers').textContent()).toContain('"x-test": "runs-ui"');
      expect(await page.getByLabel('Trigger query').textContent()).toContain('"shop": "berlin"');
      const body = await page.getByLabel('Trigger body').textContent();
      expect(body).toContain('"customer": "ada"');
      expect(body).toContain('"price": 7');

      // Every node in the order it ran, with its type and status.
      const nodes = page.locator('ol.nodes > li');
      await expect
        .poll(() => nodes.evaluateAll((els) => els.map((e) => e.getAttribute('data-node-id'))))
        .toEqual(stored.nodes.map((n: { id: string }) => n.id));
      expect(stored.nodes.map((n: { id: string }) => n.id)).toEqual([
        'webhook_1',
        'set_1',
        'transform_1',
        'if_1',
        'fail_1',
      ]);
      const node = (id: string) => page.locator(`li[data-node-id="${id}"]`);
      for (const [id, type, status] of [
        ['webhook_1', 'webhook', 'succeeded'],
        ['set_1', 'set', 'succeeded'],
        ['transform_1', 'transform', 'succeeded'],
        ['if_1', 'if', 'succeeded'],
        ['fail_1', 'fail', 'failed'],
      ]) {
        expect(await node(id).locator('summary .node-type').textContent()).toBe(type);
        expect(await node(id).locator('summary .badge').textContent()).toBe(status);
      }
      // What each step got and gave, as stored.
      for (const n of stored.nodes as { id: string; input?: unknown; output?: unknown }[]) {
        if (n.input !== undefined && n.input !== null && Object.keys(n.input as object).length > 0)
          expect(await page.getByLabel(`${n.id} input`).textContent()).toBe(JSON.stringify(n.input, null, 2));
        if (n.output !== undefined && n.output !== null && Object.keys(n.output as object).length > 0)
          expect(await page.getByLabel(`${n.id} output`).textContent()).toBe(
            JSON.stringify(n.output, null, 2),
          );
      }
      expect(await page.getByLabel('transform_1 output').textContent()).toContain('12');
      expect(JSON.parse((await page.getByLabel('if_1 input').textContent()) ?? '')).toEqual({
        condition: true,
      });
      expect(JSON.parse((await page.getByLabel('if_1 output').textContent()) ?? '')).toEqual({
        result: true,
      });
      expect(await page.getByLabel('fail_1 error').textContent()).toContain('Customer ada is blocked');
      expect(await page.getByLabel('Run error').textContent()).toContain('Customer ada is blocked');
      const vars = await page.getByRole('figure', { name: 'Variables' }).textContent();
      expect(JSON.parse(vars ?? '')).toEqual({ customer: 'ada', total: 12 });
      await shown(page.getByRole('heading', { name: 'Deliveries' }));
      await screenshot(page, 'run-detail-failed');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a failed run shows its error and Rerun starts a new run',
    async () => {
      const flow = await createFlow(
        chainFlow('Refunds', [
          { id: 'fail_1', type: 'fail', config: { message: 'Refund ${Webhook::Body.id} refused' } },
        ]),
      );
      const first = await trigger(flow, { id: 'R-9' });
      await runReaches(first, 'failed');

      const page = await runPage(first);
      await shown(page.getByLabel('Run error').getByText('Refund R-9 refused'));
      expect(await page.locator('.run-summary .badge').first().textContent()).toBe('failed');
      await page.getByRole('button', { name: 'Rerun' }).click();
      await shown(page.getByRole('status').filter({ hasText: 'Rerun started: run_' }));
      await expect.poll(() => new URL(page.url()).pathname).not.toBe(`/runs/${first}`);
      const second = new URL(page.url()).pathname.slice('/runs/'.length);
      await shown(page.getByRole('heading', { name: `Run ${second}`, level: 1 }));
      // The new run, with the same request, fails the same way; it says what it reran.
      await shown(page.getByLabel('Run error').getByText('Refund R-9 refused'));
      await shown(page.locator('.facts').getByRole('link', { name: first }));
      const stored = await runReaches(second, 'failed');
      expect(stored).toMatchObject({ rerun_of: first, trigger: { body: { id: 'R-9' } } });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a run that is still going updates in the list by itself when it ends',
    async () => {
      const flow = await createFlow(
        chainFlow('Slow orders', [{ id: 'delay_1', type: 'delay', config: { ms: 60_000 } }]),
      );
      const runId = await trigger(flow, { n: 1 });
      await runReaches(runId, 'running');
      const page = await runsPage();
      await shown(row(page, runId).getByText('running', { exact: true }));
      expect((await t.api('POST', `/api/v1/runs/${runId}/cancel`)).status).toBe(200);
      await shown(row(page, runId).getByText('cancelled', { exact: true }));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Cancel stops a delayed run, after asking',
    async () => {
      const flow = await createFlow(
        chainFlow('Slow lane', [
          { id: 'delay_1', type: 'delay', config: { ms: 60_000 } },
          { id: 'set_1', type: 'set', config: { values: { 'vars.done': 'yes' } } },
        ]),
      );
      const runId = await trigger(flow, { n: 1 });
      await eventually(
        async () =>
          (await t.api('GET', `/api/v1/runs/${runId}`)).body.nodes?.some(
            (n: { id: string; status: string }) => n.id === 'delay_1' && n.status === 'waiting',
          ),
        20_000,
        'delay_1 waiting',
      );

      const page = await runPage(runId);
      await shown(page.locator('li[data-node-id="delay_1"]').getByText('waiting', { exact: true }));
      await page.getByRole('button', { name: 'Cancel run' }).click();
      const dialog = page.getByRole('dialog', { name: 'Cancel run' });
      await shown(dialog.getByText(runId));
      // Closing the dialog changes nothing.
      await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect((await t.api('GET', `/api/v1/runs/${runId}`)).body.status).toBe('running');

      await page.getByRole('button', { name: 'Cancel run' }).click();
      await dialog.getByRole('button', { name: 'Cancel run' }).click();
      await shown(page.getByRole('status').filter({ hasText: `Run ${runId} cancelled` }));
      await shown(page.locator('.run-summary .badge').getByText('cancelled', { exact: true }));
      await page.getByRole('button', { name: 'Cancel run' }).waitFor({ state: 'detached' });
      const stored = (await t.api('GET', `/api/v1/runs/${runId}`)).body;
      expect(stored.status).toBe('cancelled');
      expect(stored.nodes.some((n: { id: string }) => n.id === 'set_1')).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a node that keeps failing lists each attempt, and a failure the flow handled is shown as handled, not as the run failing',
    async () => {
      receiver.handler = (_req, res) => {
        res.statusCode = 503;
        res.end('stock service down');
      };
      const continued = await createFlow(
        chainFlow('Stock, carry on', [
          {
            id: 'http_1',
            type: 'http',
            config: { method: 'GET', url: `${receiver.url}/stock` },
            retry: { max_attempts: 2, backoff_ms: 0 },
            on_error: 'continue',
          },
          { id: 'set_1', type: 'set', config: { values: { 'vars.stock_error': '${steps.http_1.error}' } } },
        ]),
      );
      const branched = await createFlow({
        name: 'Stock, error path',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
          {
            id: 'http_1',
            type: 'http',
            config: { method: 'GET', url: `${receiver.url}/stock` },
            on_error: 'branch',
          },
          { id: 'set_1', type: 'set', config: { values: { 'vars.handled': '${error.node_id}' } } },
        ],
        edges: [
          { from: 'webhook_1', to: 'http_1' },
          { from: 'http_1', to: 'set_1', when: 'error' },
        ],
      });
      const first = await trigger(continued, { n: 1 });
      const second = await trigger(branched, { n: 2 });
      const stored = await runReaches(first, 'succeeded');
      await runReaches(second, 'succeeded');
      expect(stored.nodes.find((n: { id: string }) => n.id === 'http_1')).toMatchObject({
        status: 'failed',
        handled: 'continue',
        attempts: [{ error: expect.stringContaining('503') }, { error: expect.stringContaining('503') }],
      });

      const page = await runPage(first);
      const http = page.locator('li[data-node-id="http_1"]');
      const attempts = http.getByRole('list', { name: 'http_1 attempts' }).getByRole('listitem');
      await expect.poll(() => attempts.count()).toBe(2);
      const port = new URL(receiver.url).port;
      expect(await attempts.nth(0).textContent()).toMatch(
        new RegExp(`^Attempt 1 — failed: GET 127\\.0\\.0\\.1:${port}/stock answered 503 — \\S`),
      );
      expect(await attempts.nth(1).textContent()).toMatch(/^Attempt 2 — failed: GET .* answered 503 — \S/);
      expect(await http.locator('summary .badge').textContent()).toBe('failed');
      await shown(http.locator('summary').getByText('— handled: continued', { exact: true }));
      await shown(http.getByText('The flow handled this failure: the run went on along the normal path.'));
      expect(await page.getByLabel('http_1 error').textContent()).toContain('answered 503');
      // The run itself succeeded: no run error, and the next step ran with the message.
      expect(await page.locator('.run-summary .badge').first().textContent()).toBe('succeeded');
      expect(await page.getByLabel('Run error').count()).toBe(0);
      expect(await page.locator('li[data-node-id="set_1"] summary .badge').textContent()).toBe('succeeded');
      expect(await page.getByRole('figure', { name: 'Variables' }).textContent()).toContain('answered 503');
      await screenshot(page, 'run-detail-handled');

      await page.goto(`${t.url}/runs/${second}`);
      await shown(page.getByRole('heading', { name: `Run ${second}`, level: 1 }));
      const branchedHttp = page.locator('li[data-node-id="http_1"]');
      await shown(
        branchedHttp.locator('summary').getByText('— handled: took the error path', { exact: true }),
      );
      const one = branchedHttp.getByRole('list', { name: 'http_1 attempts' }).getByRole('listitem');
      await expect.poll(() => one.count()).toBe(1);
      expect(await one.nth(0).textContent()).toMatch(/^Attempt 1 — failed: GET .* answered 503/);
      expect(await page.locator('li[data-node-id="set_1"] summary .badge').textContent()).toBe('succeeded');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a node waiting to retry says when, and the page follows it to the attempt that succeeds',
    async () => {
      let calls = 0;
      receiver.handler = (_req, res) => {
        calls++;
        if (calls === 1) {
          res.statusCode = 503;
          res.end('warming up');
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end('{"in_stock":4}');
      };
      const flow = await createFlow(
        chainFlow('Stock, second try', [
          {
            id: 'http_1',
            type: 'http',
            config: { method: 'GET', url: `${receiver.url}/stock` },
            // Long enough to open the page while it waits, short enough to see the retry.
            retry: { max_attempts: 3, backoff_ms: 5000 },
          },
        ]),
      );
      const page = await runsPage();
      const runId = await trigger(flow, { n: 1 });
      await eventually(
        async () =>
          (await t.api('GET', `/api/v1/runs/${runId}`)).body.nodes?.some(
            (n: { id: string; status: string; wait?: string }) =>
              n.id === 'http_1' && n.status === 'waiting' && n.wait === 'retry',
          ),
        20_000,
        'http_1 waiting to retry',
      );
      await page.goto(`${t.url}/runs/${runId}`);
      const http = page.locator('li[data-node-id="http_1"]');
      await shown(http.locator('summary').getByText(/^Waiting to retry at \S/));
      expect(await http.locator('summary .badge').textContent()).toBe('waiting');
      await shown(
        http.getByRole('list', { name: 'http_1 attempts' }).getByText(/^Attempt 1 — failed: .*503/),
      );
      await screenshot(page, 'run-detail-retry-waiting');

      // Followed until the second attempt succeeded.
      await shown(page.locator('.run-summary .badge').getByText('succeeded', { exact: true }));
      const attempts = http.getByRole('list', { name: 'http_1 attempts' }).getByRole('listitem');
      await expect.poll(() => attempts.count()).toBe(2);
      expect(await attempts.nth(1).textContent()).toMatch(/^Attempt 2 — succeeded — \S/);
      expect(await http.locator('summary .badge').textContent()).toBe('succeeded');
      expect(await http.getByText(/Waiting to retry/).count()).toBe(0);
      expect(calls).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "run detail shows the run's delivery and its attempts",
    async () => {
      // The receiver refuses the first request: one failed attempt, then one that succeeds.
      let calls = 0;
      receiver.handler = (_req, res) => {
        calls++;
        if (calls === 1) {
          res.statusCode = 500;
          res.end('receiver is warming up');
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      };
      const ep = await t.api('POST', '/api/v1/endpoints', {
        name: 'Run archive',
        url: `${receiver.url}/runs`,
        events: [],
        is_default: true,
      });
      expect(ep.status, JSON.stringify(ep.body)).toBe(201);
      const flow = await createFlow(
        chainFlow(
          'Archived orders',
          [{ id: 'set_1', type: 'set', config: { values: { 'vars.order': '${Webhook::Body.order}' } } }],
          { send_to_default_webhook: true },
        ),
      );
      const runId = await trigger(flow, { order: 'A-1' });
      await runReaches(runId, 'succeeded');

      const page = await runPage(runId);
      const message = page.locator('li.message').filter({ hasText: 'flow.completed' });
      await shown(message);
      const delivery = message.locator(`[data-endpoint-id="${ep.body.id}"]`);
      await shown(delivery.getByText('Run archive'));
      // Followed until delivered (the second attempt).
      await shown(delivery.locator('.badge').getByText('delivered', { exact: true }));
      const attempts = delivery.getByRole('table', { name: 'Attempts to Run archive' }).locator('tbody tr');
      await expect.poll(() => attempts.count()).toBe(2);
      const [failedRow, okRow] = [await attempts.nth(0).textContent(), await attempts.nth(1).textContent()];
      expect(failedRow).toContain('failed');
      expect(failedRow).toContain('500');
      expect(failedRow).toContain('receiver is warming up');
      expect(failedRow).toMatch(/\d+ ms|\d+(\.\d)? s/);
      expect(okRow).toContain('succeeded');
      expect(okRow).toContain('200');
      expect(okRow).toContain('{"ok":true}');

      const stored = await t.api('GET', `/api/v1/messages?run_id=${runId}&event_type=flow.completed`);
      const messageId = stored.body.data[0].id as string;
      expect(await message.getByRole('link', { name: messageId }).getAttribute('href')).toBe(
        `/messages/${messageId}`,
      );
      expect(receiver.received.filter((r) => r.headers['webhook-id'] === messageId)).toHaveLength(2);
      await screenshot(page, 'run-detail');
    },
    TEST_TIMEOUT_MS,
  );
});
