/**
 * The admin UI in a real browser (Chromium, see helpers/chromium.ts) against a real Hookflow app and database on
 * 127.0.0.1: sign in and out, and the Flows list — add, search (by id and by a pasted hook URL),
 * disable and enable, copy the URL, delete with a confirmation. Screenshots of every screen go to
 * web/test/screenshots/ (not committed).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, webhookFlow } from '../../test/helpers/app.ts';
import { collectPageErrors, launchChromium, requireBuiltUi, screenshot, shown } from './helpers/browser.ts';

const STEP_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 90_000;

describe('admin UI in Chromium', () => {
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

  /** A new browser context (its own sessionStorage) with one page on the app. */
  const openPage = async (path = '/'): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    pageErrors = collectPageErrors(page);
    await page.goto(t.url + path);
    return page;
  };

  const signIn = async (page: Page, key: string) => {
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  /** Signed in with the admin key on the Flows screen, the list loaded. */
  const flowsPage = async (): Promise<Page> => {
    const page = await openPage('/');
    await signIn(page, t.adminKey);
    await shown(page.getByRole('heading', { name: 'Flows', level: 1 }));
    await page.waitForFunction(() => !document.body.textContent?.includes('Loading flows'));
    return page;
  };

  const flowRow = (page: Page, flowId: string) => page.locator(`tr[data-flow-id="${flowId}"]`);

  const createFlowByApi = async (name: string) => {
    const res = await t.api('POST', '/api/v1/flows', webhookFlow({}, { name }));
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string; webhooks: { url: string }[] };
  };

  it(
    'signs in with the admin key, keeps the key for the tab, and signs out',
    async () => {
      const page = await openPage('/flows');
      await shown(page.getByRole('heading', { name: 'Sign in' }));
      await screenshot(page, '01-sign-in');

      await signIn(page, t.adminKey);
      await shown(page.getByRole('navigation', { name: 'Main' }));
      await shown(page.getByRole('heading', { name: 'Flows', level: 1 }));
      expect(await page.evaluate(() => sessionStorage.getItem('hookflow.apiKey'))).toBe(t.adminKey);

      // A reload (and a deep link) keeps the session.
      await page.reload();
      await shown(page.getByRole('heading', { name: 'Flows', level: 1 }));
      expect(new URL(page.url()).pathname).toBe('/flows');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await shown(page.getByRole('heading', { name: 'Sign in' }));
      expect(await page.evaluate(() => sessionStorage.getItem('hookflow.apiKey'))).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'shows the API’s message for a wrong key and stays on the sign-in screen',
    async () => {
      const page = await openPage('/');
      await signIn(page, 'hf_not_a_real_key');
      const alert = await shown(page.getByRole('alert'));
      expect(await alert.textContent()).toBe('Invalid or revoked API key');
      await screenshot(page, '02-sign-in-wrong-key');
      expect(await page.evaluate(() => sessionStorage.getItem('hookflow.apiKey'))).toBeNull();
      expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'shows an empty state to a tenant without flows',
    async () => {
      const tenant = await t.api('POST', '/api/v1/tenants', { name: 'Empty tenant' });
      expect(tenant.status).toBe(201);
      const key = await t.api('POST', '/api/v1/api-keys', { name: 'ui test', tenant_id: tenant.body.id });
      expect(key.status).toBe(201);

      const page = await openPage('/');
      await signIn(page, key.body.key);
      await shown(page.getByRole('heading', { name: 'No flows yet' }));
      await shown(page.getByRole('button', { name: 'Add your first flow' }));
      await screenshot(page, '03-flows-empty');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'adds a flow from the UI and lists it with its webhook URL',
    async () => {
      const page = await flowsPage();
      await page.getByRole('button', { name: 'Add flow', exact: true }).click();
      const dialog = await shown(page.getByRole('dialog', { name: 'Add flow' }));
      await dialog.getByLabel('Name').fill('Orders from UI');
      await screenshot(page, '04-add-flow-dialog');
      await dialog.getByRole('button', { name: 'Create flow' }).click();

      await shown(page.getByRole('status').filter({ hasText: 'Flow “Orders from UI” created' }));
      const listed = await t.api('GET', '/api/v1/flows?search=Orders%20from%20UI');
      expect(listed.body.data).toHaveLength(1);
      const flow = listed.body.data[0];
      expect(flow.webhooks).toHaveLength(1);

      const row = await shown(flowRow(page, flow.id));
      expect(await row.getByRole('cell').first().textContent()).toBe('Orders from UI');
      expect(await row.textContent()).toContain(flow.webhooks[0].url);
      expect(await row.getByRole('switch').isChecked()).toBe(true);
      expect(await page.getByRole('dialog').count()).toBe(0);
      await screenshot(page, '05-flows-list');

      // The flow the UI made takes webhooks.
      const hook = await fetch(flow.webhooks[0].url, { method: 'POST', body: '{"a":1}' });
      expect(hook.status).toBe(200);

      expect((await t.api('DELETE', `/api/v1/flows/${flow.id}`)).status).toBe(204);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'shows the API’s message when a flow cannot be created',
    async () => {
      const page = await flowsPage();
      await page.getByRole('button', { name: 'Add flow', exact: true }).click();
      const dialog = await shown(page.getByRole('dialog', { name: 'Add flow' }));
      // Longer than any name the API accepts: the dialog shows the API's own sentence.
      await dialog.getByLabel('Name').fill('x'.repeat(5000));
      await dialog.getByRole('button', { name: 'Create flow' }).click();
      const alert = await shown(dialog.getByRole('alert'));
      expect(await alert.textContent()).toMatch(/^Invalid flow: name/);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await page.getByRole('dialog').waitFor({ state: 'hidden' });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'finds a flow by its id and by a pasted webhook URL',
    async () => {
      const wanted = await createFlowByApi('Search target');
      const other = await createFlowByApi('Some other flow');
      const page = await flowsPage();
      const search = page.getByRole('searchbox', { name: 'Search flows' });

      await search.fill(wanted.id);
      await flowRow(page, other.id).waitFor({ state: 'detached' });
      await shown(flowRow(page, wanted.id));
      expect(await page.locator('tbody tr').count()).toBe(1);

      await search.fill('');
      await shown(flowRow(page, other.id));

      await search.fill(wanted.webhooks[0].url);
      await flowRow(page, other.id).waitFor({ state: 'detached' });
      await shown(flowRow(page, wanted.id));
      expect(await page.locator('tbody tr').count()).toBe(1);
      await screenshot(page, '06-flows-search-by-url');

      await search.fill('no flow is called this');
      await shown(page.getByRole('heading', { name: 'No flow matches “no flow is called this”' }));
      await screenshot(page, '07-flows-search-no-match');

      for (const f of [wanted, other]) await t.api('DELETE', `/api/v1/flows/${f.id}`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'disables and enables a flow, and its webhook follows',
    async () => {
      const flow = await createFlowByApi('Toggle me');
      const page = await flowsPage();
      const toggle = page.getByRole('switch', { name: 'Enabled: Toggle me' });
      await shown(toggle);
      expect(await toggle.isChecked()).toBe(true);

      await toggle.click();
      await shown(page.getByRole('status').filter({ hasText: '“Toggle me” disabled' }));
      expect(await toggle.isChecked()).toBe(false);
      expect((await t.api('GET', `/api/v1/flows/${flow.id}`)).body.enabled).toBe(false);
      // docs/api.md §3.4: a disabled flow's hook is refused (409) and starts no run.
      await expect
        .poll(async () => (await fetch(flow.webhooks[0].url, { method: 'POST', body: '{}' })).status)
        .toBe(409);
      await screenshot(page, '08-flow-disabled');

      await toggle.click();
      await shown(page.getByRole('status').filter({ hasText: '“Toggle me” enabled' }));
      expect(await toggle.isChecked()).toBe(true);
      expect((await t.api('GET', `/api/v1/flows/${flow.id}`)).body.enabled).toBe(true);
      await expect
        .poll(async () => (await fetch(flow.webhooks[0].url, { method: 'POST', body: '{}' })).status)
        .toBe(200);

      await t.api('DELETE', `/api/v1/flows/${flow.id}`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'copies a flow’s webhook URL to the clipboard',
    async () => {
      const flow = await createFlowByApi('Copy my URL');
      const page = await flowsPage();
      await page.getByRole('button', { name: 'Copy URL of Copy my URL' }).click();
      await shown(page.getByRole('status').filter({ hasText: `Copied ${flow.webhooks[0].url}` }));
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(flow.webhooks[0].url);
      await screenshot(page, '09-flow-url-copied');
      await t.api('DELETE', `/api/v1/flows/${flow.id}`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'deletes a flow only after the confirmation',
    async () => {
      const flow = await createFlowByApi('Delete me');
      const page = await flowsPage();
      const row = await shown(flowRow(page, flow.id));

      // Cancel keeps it.
      await row.getByRole('button', { name: 'Delete Delete me' }).click();
      let dialog = await shown(page.getByRole('dialog', { name: 'Delete flow' }));
      expect(await dialog.textContent()).toContain(flow.id);
      await screenshot(page, '10-delete-flow-dialog');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect((await t.api('GET', `/api/v1/flows/${flow.id}`)).status).toBe(200);

      await row.getByRole('button', { name: 'Delete Delete me' }).click();
      dialog = await shown(page.getByRole('dialog', { name: 'Delete flow' }));
      await dialog.getByRole('button', { name: 'Delete flow' }).click();
      await shown(page.getByRole('status').filter({ hasText: 'Flow “Delete me” deleted' }));
      await row.waitFor({ state: 'detached' });
      expect((await t.api('GET', `/api/v1/flows/${flow.id}`)).status).toBe(404);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'sends a revoked key back to the sign-in screen with the API’s message',
    async () => {
      const created = await t.api('POST', '/api/v1/api-keys', { name: 'short-lived' });
      expect(created.status).toBe(201);
      const page = await openPage('/');
      await signIn(page, created.body.key);
      await shown(page.getByRole('heading', { name: 'Flows', level: 1 }));
      await page.waitForFunction(() => !document.body.textContent?.includes('Loading flows'));

      expect((await t.api('DELETE', `/api/v1/api-keys/${created.body.id}`)).status).toBeLessThan(300);
      await page.getByRole('button', { name: 'Add flow', exact: true }).click();
      const dialog = await shown(page.getByRole('dialog', { name: 'Add flow' }));
      await dialog.getByLabel('Name').fill('Never made');
      await dialog.getByRole('button', { name: 'Create flow' }).click();
      await shown(page.getByRole('heading', { name: 'Sign in' }));
      await shown(page.getByText('Invalid or revoked API key'));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'answers an unknown page of the app inside the layout',
    async () => {
      const page = await openPage('/');
      await signIn(page, t.adminKey);
      await shown(page.getByRole('heading', { name: 'Flows', level: 1 }));
      await page.goto(`${t.url}/no/such/page`);
      await shown(page.getByRole('heading', { name: 'Nothing here' }));
      await page.getByRole('link', { name: 'Go to Flows' }).click();
      await shown(page.getByRole('heading', { name: 'Flows', level: 1 }));
    },
    TEST_TIMEOUT_MS,
  );
});
