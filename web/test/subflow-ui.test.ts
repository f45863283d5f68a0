/**
 * Sub-flows in a real browser (Chromium, see helpers/chromium.ts) against a real app with a worker:
 * the subflow node's panel picks the flow to run from the tenant's flows, and the run page links a
 * parent run to its sub-flow runs and each back to its parent.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
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

describe('Sub-flows on the canvas and the run page in Chromium', () => {
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

  const open = async (section: string): Promise<Page> => {
    const opened = await openSignedIn(browser, t.url, t.adminKey, section);
    contexts.push(opened.context);
    pageErrors = opened.errors;
    return opened.page;
  };

  it('the panel picks the flow to run, and the run page links parent and sub-flow runs both ways', async () => {
    const child = await t.api('POST', '/api/v1/flows', {
      name: 'Reserve stock',
      nodes: [
        { id: 'webhook_1', type: 'webhook' },
        { id: 'set_1', type: 'set', config: { values: { 'vars.sku': '${Webhook::Body.sku}' } } },
      ],
      edges: [{ from: 'webhook_1', to: 'set_1' }],
    });
    expect(child.status, child.text).toBe(201);
    const parent = await t.api('POST', '/api/v1/flows', {
      name: 'Order',
      nodes: [
        { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 } },
        {
          id: 'subflow_1',
          type: 'subflow',
          position: { x: 300, y: 0 },
          config: { flow_id: '', input: { sku: '${Webhook::Body.sku}' } },
        },
      ],
      edges: [{ from: 'webhook_1', to: 'subflow_1' }],
    });
    // An empty flow_id is refused: the canvas is where it gets chosen.
    expect(parent.status).toBe(400);
    const draft = await t.api('POST', '/api/v1/flows', {
      name: 'Order',
      nodes: [{ id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 } }],
    });
    expect(draft.status, draft.text).toBe(201);

    const page = await open('Flows');
    await page.getByRole('link', { name: 'Order', exact: true }).click();
    await shown(page.getByRole('application', { name: 'Flow canvas' }));
    await page.getByTestId('node-webhook_1').click();
    const components = page.getByRole('complementary', { name: 'Components' });
    await components.getByRole('button', { name: 'Run a flow', exact: true }).click();
    const panel = page.getByRole('complementary', { name: 'Settings of subflow_1' });
    await shown(panel);
    const flowSelect = panel.getByLabel('Flow', { exact: true });
    expect(await flowSelect.locator('option').allTextContents()).toEqual(
      expect.arrayContaining(['Choose a flow…', 'Reserve stock', 'Order']),
    );
    await flowSelect.selectOption({ label: 'Reserve stock' });
    await saveAndPublish(page);
    const saved = (await t.api('GET', `/api/v1/flows/${draft.body.id}`)).body;
    expect(saved.nodes[1]).toMatchObject({ type: 'subflow', config: { flow_id: child.body.id, wait: true } });

    const ack = await (
      await fetch(draft.body.webhooks[0].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"sku":"A-1"}',
      })
    ).json();
    const run = await eventually(
      async () => {
        const r = (await t.api('GET', `/api/v1/runs/${ack.run_id}`)).body;
        return r.status === 'succeeded' ? r : undefined;
      },
      15_000,
      'the parent to succeed',
    );
    const childRunId = run.children[0].id as string;

    await page.goto(`${t.url}/runs/${ack.run_id}`);
    const links = page.getByRole('list', { name: 'Sub-flow runs' });
    await shown(links);
    await screenshot(page, 'subflow-parent-run');
    await links.getByRole('link', { name: childRunId }).click();
    await shown(page.getByText('Sub-flow run of'));
    await page.getByRole('link', { name: ack.run_id }).click();
    await shown(page.getByRole('list', { name: 'Sub-flow runs' }));
  });
});
