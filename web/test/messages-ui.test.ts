/**
 * The Messages screens in a real browser (Chromium, see helpers/chromium.ts) against a real Hookflow app with its
 * delivery worker on 127.0.0.1 and real receivers whose answers the test controls: the list with
 * its filters and "Load more", a message's attempts (status, response, duration) and Retry, and
 * Recover on Webhook Settings resending failed messages since a time.
 *
 * Endpoints get the one-attempt schedule `[0]`, so a failed attempt fails its delivery at once and
 * nothing is retried behind the test's back: every second attempt comes from a button.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.ts';
import { eventually, type Receiver, startReceiver } from '../../test/helpers/receiver.ts';
import { launchChromium, openSignedIn, requireBuiltUi, screenshot, shown } from './helpers/browser.ts';

const TEST_TIMEOUT_MS = 90_000;

describe('Messages screens in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  const receivers: Receiver[] = [];
  const contexts: BrowserContext[] = [];
  let pageErrors: string[] = [];

  beforeAll(async () => {
    await requireBuiltUi();
    t = await startTestApp({
      worker: true,
      delivery: { pollMs: 50 },
      // The receivers are on 127.0.0.1, which the SSRF guard refuses unless allowed.
      env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    for (const r of receivers) await r.close();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    const errors = pageErrors;
    pageErrors = [];
    expect(errors).toEqual([]);
  });

  /** A receiver answering `state.status` with `state.body`, changeable while the test runs. */
  async function receiver(state: { status: number; body: string }): Promise<Receiver> {
    const r = await startReceiver((_req, res) => {
      res.writeHead(state.status, { 'content-type': 'application/json' });
      res.end(state.body);
    });
    receivers.push(r);
    return r;
  }

  const signedIn = async (section: string): Promise<Page> => {
    const opened = await openSignedIn(browser, t.url, t.adminKey, section);
    contexts.push(opened.context);
    pageErrors = opened.errors;
    return opened.page;
  };

  const createEndpoint = async (body: Record<string, unknown>) => {
    const r = await t.api('POST', '/api/v1/endpoints', { retry_schedule: [0], ...body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { id: string; name: string };
  };
  const publish = async (eventType: string, data: unknown = {}) => {
    const r = await t.api('POST', '/api/v1/events', { event_type: eventType, data });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    return r.body as { id: string };
  };
  const deliveryOf = async (messageId: string, endpointId: string) => {
    const m = await t.api('GET', `/api/v1/messages/${messageId}`);
    return (m.body.deliveries as any[]).find((d) => d.endpoint_id === endpointId);
  };
  const settled = (messageId: string, endpointId: string, status: string) =>
    eventually(
      async () => (await deliveryOf(messageId, endpointId))?.status === status,
      15_000,
      `delivery of ${messageId} ${status}`,
    );

  it(
    'a message shows its attempts with status, response and duration, and Retry sends it again',
    async () => {
      const empty = await signedIn('Messages');
      await shown(empty.getByRole('heading', { name: 'No messages yet' }));
      await empty.close();

      const state = { status: 500, body: '{"error":"warehouse down"}' };
      const rcv = await receiver(state);
      const ep = await createEndpoint({ name: 'Warehouse', url: `${rcv.url}/stock`, events: ['stock.low'] });
      const msg = await publish('stock.low', { sku: 'A-1', left: 2 });
      await settled(msg.id, ep.id, 'failed');
      expect(rcv.received).toHaveLength(1);

      const page = await signedIn('Messages');
      const row = await shown(page.locator(`tr[data-message-id="${msg.id}"]`));
      await shown(row.getByText('1 failed'));
      await screenshot(page, 'messages');
      await row.getByRole('link', { name: msg.id }).click();

      await shown(page.getByRole('heading', { name: 'Message', level: 1 }));
      expect(page.url()).toBe(`${t.url}/messages/${msg.id}`);
      const payload = await shown(page.locator('pre.payload'));
      expect(JSON.parse((await payload.textContent()) ?? '')).toMatchObject({
        event_type: 'stock.low',
        data: { sku: 'A-1', left: 2 },
      });
      const delivery = page
        .getByRole('table', { name: 'Deliveries' })
        .locator(`tr[data-endpoint-id="${ep.id}"]`);
      await shown(delivery.getByText('failed'));
      const attempts = page.getByRole('table', { name: 'Attempts' }).locator('tbody tr');
      await expect.poll(() => attempts.count()).toBe(1);
      const first = attempts.nth(0);
      expect(await first.textContent()).toContain('Warehouse');
      expect(await first.locator('td').nth(1).textContent()).toBe('failed');
      expect(await first.locator('td').nth(2).textContent()).toBe('500');
      expect(await first.locator('td').nth(4).textContent()).toMatch(/^\d+ ms$/);
      expect(await first.locator('td').nth(5).textContent()).toContain('500');
      // The response body is folded away until asked for.
      const body = first.locator('pre');
      expect(await body.isVisible()).toBe(false);
      await first.locator('summary').click();
      expect(await (await shown(body)).textContent()).toBe('{"error":"warehouse down"}');

      // The receiver is fixed; Retry sends the message once more, now.
      state.status = 200;
      state.body = '{"received":true}';
      await delivery.getByRole('button', { name: 'Retry to Warehouse' }).click();
      await shown(page.getByText('Sending again to “Warehouse”'));
      await shown(delivery.getByText('delivered', { exact: true }));
      await expect.poll(() => attempts.count()).toBe(2);
      const second = attempts.nth(1);
      expect(await second.locator('td').nth(0).textContent()).toContain('(manual)');
      expect(await second.locator('td').nth(1).textContent()).toBe('succeeded');
      expect(await second.locator('td').nth(2).textContent()).toBe('200');
      await second.locator('summary').click();
      await shown(second.getByText('{"received":true}'));
      await screenshot(page, 'message-detail');

      expect(rcv.received).toHaveLength(2);
      // The same message: the same webhook-id on the retry.
      expect(rcv.received[1].headers['webhook-id']).toBe(rcv.received[0].headers['webhook-id']);
      expect((await deliveryOf(msg.id, ep.id)).status).toBe('delivered');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Recover resends failed messages since a time',
    async () => {
      const state = { status: 503, body: 'maintenance' };
      const rcv = await receiver(state);
      const ep = await createEndpoint({ name: 'Ledger', url: `${rcv.url}/ledger`, events: ['ledger.entry'] });
      const a = await publish('ledger.entry', { n: 1 });
      const b = await publish('ledger.entry', { n: 2 });
      await settled(a.id, ep.id, 'failed');
      await settled(b.id, ep.id, 'failed');
      expect(rcv.received).toHaveLength(2);

      state.status = 200;
      state.body = '{}';
      const page = await signedIn('Webhook Settings');
      const row = await shown(page.locator(`tr[data-endpoint-id="${ep.id}"]`));
      await row.getByRole('button', { name: 'Recover Ledger' }).click();
      const dialog = await shown(page.getByRole('dialog', { name: 'Recover failed messages' }));
      // Since 24 hours ago unless changed.
      const since = await dialog.getByLabel('Since').inputValue();
      const hoursAgo = (Date.now() - new Date(since).getTime()) / 3_600_000;
      expect(hoursAgo).toBeGreaterThan(23.9);
      expect(hoursAgo).toBeLessThan(24.1);
      await dialog.getByRole('button', { name: 'Resend failed messages' }).click();
      await shown(page.getByText('Resending 2 failed messages to “Ledger”'));
      await dialog.waitFor({ state: 'hidden' });

      await settled(a.id, ep.id, 'delivered');
      await settled(b.id, ep.id, 'delivered');
      expect(rcv.received).toHaveLength(4);

      // Nothing left to recover: said so.
      await row.getByRole('button', { name: 'Recover Ledger' }).click();
      await dialog.getByRole('button', { name: 'Resend failed messages' }).click();
      await shown(page.getByText(/No failed messages to “Ledger” since/));

      // A disabled endpoint is refused in the API's words.
      await row.getByRole('switch', { name: 'Enabled: Ledger' }).click();
      await shown(page.getByText('“Ledger” disabled'));
      await row.getByRole('button', { name: 'Recover Ledger' }).click();
      await dialog.getByRole('button', { name: 'Resend failed messages' }).click();
      await shown(dialog.getByRole('alert').filter({ hasText: 'The endpoint is disabled; enable it first' }));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the list is filtered by event type and endpoint, pages with Load more, and passes ?run_id= to the API',
    async () => {
      const rcv = await receiver({ status: 200, body: '{"ok":true}' });
      const orders = await createEndpoint({
        name: 'Orders',
        url: `${rcv.url}/orders`,
        events: ['order.created'],
      });
      await createEndpoint({ name: 'Invoices', url: `${rcv.url}/invoices`, events: ['invoice.paid'] });
      const order = await publish('order.created', { order: 1 });
      const invoice = await publish('invoice.paid', { invoice: 7 });
      // 55 more without a subscriber: more than one page of 50.
      for (let i = 0; i < 55; i++) await publish('bulk.noise', { i });
      await settled(order.id, orders.id, 'delivered');

      const page = await signedIn('Messages');
      const rows = page.locator('table[aria-label="Messages"] tbody tr');
      await page.getByLabel('Event type').selectOption('bulk.noise');
      await expect.poll(() => rows.count()).toBe(50);
      await page.getByRole('button', { name: 'Load more' }).click();
      await expect.poll(() => rows.count()).toBe(55);
      await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });

      await page.getByLabel('Event type').selectOption('order.created');
      await expect.poll(() => rows.count()).toBe(1);
      const orderRow = page.locator(`tr[data-message-id="${order.id}"]`);
      await shown(orderRow.getByText('1 delivered'));
      expect(page.url()).toContain('event_type=order.created');

      await page.getByLabel('Event type').selectOption('');
      await page.getByLabel('Endpoint').selectOption({ label: 'Invoices' });
      await shown(page.locator(`tr[data-message-id="${invoice.id}"]`));
      await expect.poll(() => rows.count()).toBe(1);

      await page.getByLabel('Event type').selectOption('order.created');
      await shown(page.getByRole('heading', { name: 'No messages match these filters' }));
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await expect.poll(() => rows.count()).toBe(50);

      // An endpoint's row links to its messages.
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Webhook Settings' })
        .click();
      await page
        .locator(`tr[data-endpoint-id="${orders.id}"]`)
        .getByRole('link', { name: 'Messages' })
        .click();
      await shown(page.locator(`tr[data-message-id="${order.id}"]`));
      await expect.poll(() => rows.count()).toBe(1);
      expect(await page.getByLabel('Endpoint').inputValue()).toBe(orders.id);

      // ?run_id= in the page URL goes to the API as run_id, and only when present.
      const withRun = page.waitForRequest((req) => req.url().includes('/api/v1/messages?'));
      await page.goto(`${t.url}/messages?run_id=run_test123`);
      expect(new URL((await withRun).url()).searchParams.get('run_id')).toBe('run_test123');
      await shown(page.getByText('run_test123'));
      const withoutRun = page.waitForRequest((req) => req.url().includes('/api/v1/messages?'));
      await page.getByRole('button', { name: 'Show messages of every run' }).click();
      expect(new URL((await withoutRun).url()).searchParams.has('run_id')).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );
});
