/**
 * The Settings screen in a real browser (Chromium, see helpers/chromium.ts) against a real Hookflow app on
 * 127.0.0.1: the IP allowlist saved from the form takes effect on the inbound endpoint, a value
 * the API refuses is shown in the API's words and nothing changes, retention and notification
 * addresses are saved.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, webhookFlow } from '../../test/helpers/app.ts';
import { eventually } from '../../test/helpers/receiver.ts';
import { launchChromium, openSignedIn, requireBuiltUi, screenshot, shown } from './helpers/browser.ts';

const TEST_TIMEOUT_MS = 90_000;

describe('Settings screen in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let pageErrors: string[] = [];

  beforeAll(async () => {
    await requireBuiltUi();
    t = await startTestApp();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    await t.api('PUT', '/api/v1/settings', {});
    const errors = pageErrors;
    pageErrors = [];
    expect(errors).toEqual([]);
  });

  const settingsPage = async (): Promise<Page> => {
    const opened = await openSignedIn(browser, t.url, t.adminKey, 'Settings');
    contexts.push(opened.context);
    pageErrors = opened.errors;
    const page = opened.page;
    await shown(page.getByRole('button', { name: 'Save settings' }));
    return page;
  };
  const settings = async () => (await t.api('GET', '/api/v1/settings')).body;

  it(
    'an IP allowlist saved in the form refuses webhooks from elsewhere, and clearing it lets them in',
    async () => {
      const flow = await t.api('POST', '/api/v1/flows', webhookFlow({}, { name: 'allowlisted' }));
      expect(flow.status).toBe(201);
      const hook = flow.body.webhooks[0].url as string;
      const post = async () =>
        (await fetch(hook, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }))
          .status;
      expect(await post()).toBe(200);

      const page = await settingsPage();
      await page.getByLabel('IP allowlist for inbound webhooks').fill('203.0.113.0/24\n2001:db8::/32');
      await page.getByLabel('Keep delivered messages for (days)').fill('14');
      await page.getByLabel('Notify by e-mail (endpoint disabled, failed runs)').fill('ops@example.com');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await shown(page.getByText('Settings saved'));
      await screenshot(page, '16-settings');
      expect(await settings()).toMatchObject({
        ip_allowlist: ['203.0.113.0/24', '2001:db8::/32'],
        retention_days: 14,
        notify: { emails: ['ops@example.com'] },
      });
      // This test's requests come from 127.0.0.1: refused now.
      await eventually(async () => (await post()) === 403, 10_000, 'webhook refused by the allowlist');

      await page.getByLabel('IP allowlist for inbound webhooks').fill('');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await expect.poll(async () => (await settings()).ip_allowlist).toEqual([]);
      await eventually(async () => (await post()) === 200, 10_000, 'webhook accepted again');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a value the API refuses is shown in the API's words and nothing is changed",
    async () => {
      const page = await settingsPage();
      await page.getByLabel('IP allowlist for inbound webhooks').fill('10.0.0.0/8\nnot-an-address');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await shown(page.getByRole('alert').filter({ hasText: 'IP address or CIDR' }));
      await screenshot(page, '17-settings-invalid');
      expect((await settings()).ip_allowlist).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
