/**
 * The Settings screen in a real browser (Chromium, see helpers/chromium.ts) against a real Hookflow app on
 * 127.0.0.1: the IP allowlist saved from the form takes effect on the inbound endpoint, a value
 * the API refuses is shown in the API's words and nothing changes, retention (of messages, and of
 * runs, which the purge then follows), the tenant's maximum of concurrent runs and notification
 * addresses are saved.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, webhookFlow } from '../../test/helpers/app.ts';
import { eventually } from '../../test/helpers/receiver.ts';
import { purgeFinishedRuns } from '../../src/flows/runsStore.ts';
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
    'run retention saved in the form decides which finished runs the purge removes, and "keep for good" keeps them',
    async () => {
      const flow = await t.api('POST', '/api/v1/flows', webhookFlow({}, { name: 'retained' }));
      const hook = flow.body.webhooks[0].url as string;
      /** A run of the flow that finished `days` ago. */
      const finishedRun = async (days: number): Promise<string> => {
        const res = await fetch(hook, {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json' },
        });
        const { run_id } = (await res.json()) as { run_id: string };
        await t.db.database.pool.query(
          `update runs set status = 'succeeded', finished_at = now() - make_interval(days => $2) where id = $1`,
          [run_id, days],
        );
        return run_id;
      };
      const runStatus = async (id: string) => (await t.api('GET', `/api/v1/runs/${id}`)).status;
      const purge = async () => {
        while ((await purgeFinishedRuns(t.db.database)) > 0) {}
      };

      const page = await settingsPage();
      const days = page.getByLabel('Keep finished runs for (days)');
      expect(await days.inputValue()).toBe('30');
      await days.fill('7');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await shown(page.getByText('Settings saved'));
      expect((await settings()).run_retention_days).toBe(7);
      const eightDaysOld = await finishedRun(8);
      const sixDaysOld = await finishedRun(6);
      await purge();
      expect(await runStatus(eightDaysOld)).toBe(404);
      expect(await runStatus(sixDaysOld)).toBe(200);

      await page.getByLabel('Keep finished runs for good').check();
      expect(await days.isDisabled()).toBe(true);
      await page.getByRole('button', { name: 'Save settings' }).click();
      await expect.poll(async () => (await settings()).run_retention_days).toBeNull();
      await screenshot(page, '18-settings-runs-kept');
      const yearOld = await finishedRun(365);
      await purge();
      expect(await runStatus(yearOld)).toBe(200);
      // Shown as saved after a reload too.
      await page.reload();
      await shown(page.getByRole('button', { name: 'Save settings' }));
      expect(await page.getByLabel('Keep finished runs for good').isChecked()).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'max concurrent runs saved in the form is the tenant cap, shown again after a reload; emptied, there is no cap',
    async () => {
      const page = await settingsPage();
      const field = page.getByLabel('Max concurrent runs');
      expect(await field.inputValue()).toBe('');
      expect((await settings()).max_concurrent_runs).toBeNull();
      await field.fill('3');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await shown(page.getByText('Settings saved'));
      expect((await settings()).max_concurrent_runs).toBe(3);
      await screenshot(page, '19-settings-max-runs');
      // The other fields were saved as they were.
      expect(await settings()).toMatchObject({
        retention_days: 30,
        run_retention_days: 30,
        ip_allowlist: [],
      });

      await page.reload();
      await shown(page.getByRole('button', { name: 'Save settings' }));
      expect(await page.getByLabel('Max concurrent runs').inputValue()).toBe('3');

      await page.getByLabel('Max concurrent runs').fill('');
      await page.getByRole('button', { name: 'Save settings' }).click();
      await expect.poll(async () => (await settings()).max_concurrent_runs).toBeNull();
      await page.reload();
      await shown(page.getByRole('button', { name: 'Save settings' }));
      expect(await page.getByLabel('Max concurrent runs').inputValue()).toBe('');
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
