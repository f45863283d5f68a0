/**
 * The Credentials screen in a real browser (Chromium, see helpers/chromium.ts) against a real Hookflow app on
 * 127.0.0.1: empty state, a credential created from the form and listed masked (the secret never
 * shown again), the API's own sentence for invalid data, delete only after the confirmation.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.ts';
import { launchChromium, openSignedIn, requireBuiltUi, screenshot, shown } from './helpers/browser.ts';

const TEST_TIMEOUT_MS = 90_000;

describe('Credentials screen in Chromium', () => {
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
    const errors = pageErrors;
    pageErrors = [];
    expect(errors).toEqual([]);
  });

  /** Signed in with the admin key, on the Credentials screen with its list loaded. */
  const credentialsPage = async (): Promise<Page> => {
    const opened = await openSignedIn(browser, t.url, t.adminKey, 'Credentials');
    contexts.push(opened.context);
    pageErrors = opened.errors;
    const page = opened.page;
    await page.waitForFunction(() => !document.body.textContent?.includes('Loading credentials'));
    return page;
  };

  const listed = async () => (await t.api('GET', '/api/v1/credentials')).body.data as any[];

  it(
    'a basic credential made in the form is listed masked: name, type, last four characters, never the password',
    async () => {
      const page = await credentialsPage();
      await shown(page.getByRole('heading', { name: 'No credentials yet' }));
      await screenshot(page, '11-credentials-empty');

      await page.getByRole('button', { name: 'Add credential' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add credential' });
      await dialog.getByLabel('Name', { exact: true }).fill('Partner basic auth');
      await dialog.getByLabel('Type', { exact: true }).selectOption('basic');
      await dialog.getByLabel('Username', { exact: true }).fill('partner');
      await dialog.getByLabel('Password', { exact: true }).fill('s3cret-pass-9876');
      await screenshot(page, '12-credentials-add');
      await dialog.getByRole('button', { name: 'Save credential' }).click();
      // The toast comes after the API's answer: only then is the credential there to be listed.
      await shown(page.getByText('Credential “Partner basic auth” saved'));

      const made = (await listed()).find((c) => c.name === 'Partner basic auth');
      expect(made).toMatchObject({ type: 'basic', hint: '…9876' });
      const row = page.locator(`tr[data-credential-id="${made.id}"]`);
      await shown(row);
      await expect.poll(() => row.textContent()).toContain('••••9876');
      expect(await row.textContent()).toContain('Basic auth');
      expect(await page.content()).not.toContain('s3cret-pass-9876');
      await screenshot(page, '13-credentials-list');
      await t.api('DELETE', `/api/v1/credentials/${made.id}`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a provider's credential (Meta: app secret and verify token) made in the form is stored with both fields, hinted by the app secret",
    async () => {
      const page = await credentialsPage();
      await page.getByRole('button', { name: 'Add credential' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add credential' });
      const types = await dialog.getByLabel('Type', { exact: true }).locator('option').allTextContents();
      for (const label of [
        'Slack signing secret',
        'Twilio auth token',
        'Zoom secret token',
        'Square signature key',
      ])
        expect(types).toContain(label);
      await dialog.getByLabel('Name', { exact: true }).fill('Meta app');
      await dialog.getByLabel('Type', { exact: true }).selectOption('meta');
      await dialog.getByLabel('App secret', { exact: true }).fill('meta-app-secret-4321');
      await dialog.getByLabel('Verify token', { exact: true }).fill('my-verify-token-0000');
      await dialog.getByRole('button', { name: 'Save credential' }).click();
      await shown(page.getByText('Credential “Meta app” saved'));

      const made = (await listed()).find((c) => c.name === 'Meta app');
      expect(made).toMatchObject({ type: 'meta', hint: '…4321' });
      const row = page.locator(`tr[data-credential-id="${made.id}"]`);
      await expect.poll(() => row.textContent()).toContain('Meta (Facebook, Instagram, WhatsApp) app');
      expect(await page.content()).not.toContain('meta-app-secret-4321');
      expect(await page.content()).not.toContain('my-verify-token-0000');
      await t.api('DELETE', `/api/v1/credentials/${made.id}`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "invalid data gets the API's own sentence in the form, and nothing is stored",
    async () => {
      const before = (await listed()).length;
      const page = await credentialsPage();
      await page.getByRole('button', { name: 'Add credential' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add credential' });
      await dialog.getByLabel('Name', { exact: true }).fill('Broken HMAC');
      await dialog.getByLabel('Type', { exact: true }).selectOption('hmac');
      await dialog.getByLabel('Secret', { exact: true }).fill('0123456789abcdef');
      await dialog.getByLabel('Signature header').fill('not a header');
      await dialog.getByRole('button', { name: 'Save credential' }).click();
      await shown(dialog.getByRole('alert').filter({ hasText: 'header is not a valid HTTP header name' }));
      await screenshot(page, '14-credentials-invalid');
      expect((await listed()).length).toBe(before);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'delete asks first: Cancel keeps the credential, Delete removes it',
    async () => {
      const res = await t.api('POST', '/api/v1/credentials', {
        name: 'GitHub org hook',
        type: 'github',
        data: { secret: 'gh-secret-value-4321' },
      });
      expect(res.status).toBe(201);
      const id = res.body.id as string;
      const page = await credentialsPage();
      const row = page.locator(`tr[data-credential-id="${id}"]`);
      await shown(row);

      await row.getByRole('button', { name: 'Delete GitHub org hook' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete credential' });
      await shown(confirm);
      await screenshot(page, '15-credentials-delete');
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      expect((await listed()).some((c) => c.id === id)).toBe(true);

      await row.getByRole('button', { name: 'Delete GitHub org hook' }).click();
      await confirm.getByRole('button', { name: 'Delete credential' }).click();
      await shown(page.getByText('Credential “GitHub org hook” deleted'));
      await expect.poll(() => row.count()).toBe(0);
      expect((await listed()).some((c) => c.id === id)).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );
});
