/**
 * The code node's panel in a real browser (Chromium, see helpers/chromium.ts) against a real app with
 * a worker: the editor shows the shape of `input`, Tab indents, and code written there runs in the
 * sandbox — its result answers the request, its console lines are on the run page.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.ts';
import {
  launchChromium,
  openSignedIn,
  requireBuiltUi,
  saveAndPublish,
  screenshot,
  shown,
} from './helpers/browser.ts';

const TEST_TIMEOUT_MS = 90_000;

describe('Code node panel in Chromium', () => {
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

  it(
    'the code panel shows the input shape, and code typed in it runs in the sandbox and answers the request',
    async () => {
      const created = await t.api('POST', '/api/v1/flows', {
        name: 'Totals',
        nodes: [
          {
            id: 'webhook_1',
            type: 'webhook',
            position: { x: 0, y: 0 },
            config: { methods: ['POST'], response: { mode: 'flow', timeout_ms: 10000 } },
          },
          { id: 'code_1', type: 'code', position: { x: 260, y: 0 }, config: { source: 'return 1;' } },
          {
            id: 'respond_1',
            type: 'respond',
            position: { x: 520, y: 0 },
            config: { body: '${steps.code_1}' },
          },
        ],
        edges: [
          { from: 'webhook_1', to: 'code_1' },
          { from: 'code_1', to: 'respond_1' },
        ],
      });
      expect(created.status, created.text).toBe(201);
      const url = created.body.webhooks[0].url as string;

      const opened = await openSignedIn(browser, t.url, t.adminKey, 'Flows');
      contexts.push(opened.context);
      pageErrors = opened.errors;
      const page = opened.page;
      await page.getByRole('link', { name: 'Totals', exact: true }).click();
      await shown(page.getByRole('application', { name: 'Flow canvas' }));
      await page.getByTestId('node-code_1').click();
      const panel = page.getByRole('complementary', { name: 'Settings of code_1' });
      const shape = await shown(panel.getByLabel('Input shape'));
      expect(await shape.textContent()).toContain('Webhook: { Body, Headers, Query, Method, Path }');

      const editor = panel.getByLabel('JavaScript', { exact: true });
      await editor.fill('const items = input.Webhook.Body.items;\nif (items.length) {');
      await editor.press('End');
      await editor.press('Enter');
      await editor.press('Tab');
      await editor.pressSequentially('console.log("items", items.length);');
      await editor.press('Enter');
      await editor.pressSequentially('}\nreturn { total: items.reduce((s, i) => s + i.price, 0) };');
      expect(await editor.inputValue()).toContain('\n  console.log("items", items.length);');
      await screenshot(page, 'code-panel');
      await saveAndPublish(page);

      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ price: 2.5 }, { price: 4 }] }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ total: 6.5 });
      const runs = (await t.api('GET', `/api/v1/runs?flow_id=${created.body.id}`)).body.data;
      const run = (await t.api('GET', `/api/v1/runs/${runs[0].id}`)).body;
      expect(run.nodes.find((n: any) => n.id === 'code_1').logs).toEqual(['items 2']);

      // The run page shows the node's console lines.
      await page.goto(`${t.url}/runs/${run.id}`);
      expect(await (await shown(page.getByLabel('code_1 console'))).textContent()).toBe('items 2');
    },
    TEST_TIMEOUT_MS,
  );
});
