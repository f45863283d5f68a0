/**
 * The error flow in a real browser (Chromium, see helpers/chromium.ts) against a real Hookflow app
 * on 127.0.0.1 with a worker: the flow settings' "Error flow" picker offers the tenant's other
 * flows (and none), its choice is saved as `settings.error_flow_id`, and a failed run and the error
 * run it started link to each other on the run page (docs/api.md §4.4).
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.ts';
import { eventually } from '../../test/helpers/receiver.ts';
import {
  launchChromium,
  openSignedIn,
  requireBuiltUi,
  saveAndPublish,
  screenshot,
  shown,
} from './helpers/browser.ts';

const TEST_TIMEOUT_MS = 90_000;

describe('Error flow in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let pageErrors: string[] = [];

  beforeAll(async () => {
    await requireBuiltUi();
    t = await startTestApp({ worker: { pollMs: 50 } });
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

  const createFlow = async (doc: Record<string, unknown>) => {
    const res = await t.api('POST', '/api/v1/flows', { nodes: [], edges: [], ...doc });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; webhooks: { node_id: string; url: string }[] };
  };

  it(
    'the Error flow picker saves another flow of the tenant, and the failed run and its error run link to each other',
    async () => {
      const handler = await createFlow({
        name: 'alert on-call',
        nodes: [{ id: 'webhook_1', type: 'webhook' }],
      });
      const orders = await createFlow({
        name: 'orders to fail',
        nodes: [
          { id: 'webhook_1', type: 'webhook' },
          { id: 'fail_1', type: 'fail', config: { message: 'no stock' } },
        ],
        edges: [{ from: 'webhook_1', to: 'fail_1' }],
      });

      const opened = await openSignedIn(browser, t.url, t.adminKey, 'Flows');
      contexts.push(opened.context);
      pageErrors = opened.errors;
      const page = opened.page;
      await page.getByRole('link', { name: 'orders to fail', exact: true }).click();
      await shown(page.getByRole('heading', { name: 'Flow settings' }));
      const picker = page.getByLabel('Error flow');
      await expect
        .poll(async () => picker.locator('option').allTextContents())
        .toEqual(['None', `alert on-call (${handler.id})`]);
      await picker.selectOption(handler.id);
      await saveAndPublish(page);
      await screenshot(page, 'error-flow-picker');
      expect((await t.api('GET', `/api/v1/flows/${orders.id}`)).body.settings.error_flow_id).toBe(handler.id);

      const res = await fetch(orders.webhooks[0]!.url, { method: 'POST', body: '{}' });
      const runId = ((await res.json()) as { run_id: string }).run_id;
      const failed = await eventually(
        async () => {
          const r = (await t.api('GET', `/api/v1/runs/${runId}`)).body;
          return r.status === 'failed' ? r : undefined;
        },
        10_000,
        'the run to fail',
      );
      const errorRunId = failed.error_flow.run_id as string;

      await page.goto(`${t.url}/runs/${errorRunId}`);
      const back = page.getByRole('link', { name: runId });
      await shown(back);
      await back.click();
      await shown(page.getByRole('link', { name: errorRunId }));

      // Back to none.
      await page.goto(`${t.url}/flows/${orders.id}`);
      await shown(page.getByRole('heading', { name: 'Flow settings' }));
      await expect.poll(async () => page.getByLabel('Error flow').inputValue()).toBe(handler.id);
      await page.getByLabel('Error flow').selectOption('');
      await saveAndPublish(page);
      expect((await t.api('GET', `/api/v1/flows/${orders.id}`)).body.settings.error_flow_id).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );
});
