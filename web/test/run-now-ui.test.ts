/**
 * The canvas's Run button in a real browser (Chromium, see helpers/chromium.ts) against a real
 * Hookflow app with a run worker on 127.0.0.1: the dialog's JSON editor (prefilled, invalid JSON
 * disables Run, the API's refusal shown in the dialog), the run it starts and its page; the
 * trigger picker, the prefill from the last run and the note about unsaved changes.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.ts';
import { eventually } from '../../test/helpers/receiver.ts';
import { launchChromium, openSignedIn, requireBuiltUi, screenshot, shown } from './helpers/browser.ts';

const TEST_TIMEOUT_MS = 90_000;

describe('Run now on the canvas in Chromium', () => {
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
    const res = await t.api('POST', '/api/v1/flows', { edges: [], ...doc });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; webhooks: { node_id: string; url: string }[] };
  };

  const openCanvas = async (flowName: string): Promise<Page> => {
    const opened = await openSignedIn(browser, t.url, t.adminKey, 'Flows');
    contexts.push(opened.context);
    pageErrors = opened.errors;
    const page = opened.page;
    await page.getByRole('link', { name: flowName, exact: true }).click();
    await shown(page.getByRole('application', { name: 'Flow canvas' }));
    return page;
  };
  const openRunDialog = async (page: Page) => {
    await page.locator('.editor-actions').getByRole('button', { name: 'Run', exact: true }).click();
    const dialog = await shown(page.getByRole('dialog', { name: 'Run the flow' }));
    const input = dialog.getByLabel('Input (JSON)');
    // Prefilled once the sample and the last runs were looked at.
    await eventually(async () => (await input.inputValue()).trim().startsWith('{'), 10_000, 'the prefill');
    return { dialog, input, run: dialog.getByRole('button', { name: 'Run', exact: true }) };
  };

  it(
    'Run opens a JSON editor, refuses invalid JSON and a missing parameter, and starts a run that can be opened',
    async () => {
      await createFlow({
        name: 'Run me',
        nodes: [
          {
            id: 'webhook_1',
            type: 'webhook',
            position: { x: 0, y: 0 },
            config: {
              methods: ['POST'],
              parameters: [{ source: 'body', path: 'order.id', type: 'string', required: true }],
            },
          },
          {
            id: 'set_1',
            type: 'set',
            position: { x: 300, y: 0 },
            config: { values: { 'vars.order': '${Webhook::Body.order.id}' } },
          },
        ],
        edges: [{ from: 'webhook_1', to: 'set_1' }],
      });
      const page = await openCanvas('Run me');
      const { dialog, input, run } = await openRunDialog(page);
      // Nothing captured and no runs yet: an empty POST.
      expect(JSON.parse(await input.inputValue())).toEqual({
        method: 'POST',
        headers: {},
        query: {},
        body: {},
      });

      await input.fill('{"body": {');
      await shown(dialog.getByText(/Not valid JSON/));
      expect(await run.isDisabled()).toBe(true);

      await input.fill('{"body": {"order": {}}}');
      expect(await run.isDisabled()).toBe(false);
      await run.click();
      await shown(dialog.getByText('Not started: Missing required parameter(s): body.order.id'));
      await screenshot(page, 'run-now-refused');

      await input.fill(JSON.stringify({ method: 'POST', body: { order: { id: 'R-1' } } }));
      await run.click();
      await shown(page.getByText(/^Run run_\w+ started$/));
      expect(await dialog.isVisible()).toBe(false);
      await page.getByRole('link', { name: 'Open run', exact: true }).click();
      await shown(page.getByRole('heading', { name: /^Run run_/, level: 1 }));
      await shown(page.getByText('started by hand with the API key “test admin”', { exact: false }));
      await shown(page.getByText('succeeded', { exact: true }).first());
      await screenshot(page, 'run-now-run');
      const runId = new URL(page.url()).pathname.split('/').pop()!;
      const stored = await t.api('GET', `/api/v1/runs/${runId}`);
      expect(stored.body.vars).toEqual({ order: 'R-1' });
      expect(stored.body.trigger).toMatchObject({ manual: true, body: { order: { id: 'R-1' } } });

      // The Runs list marks it.
      await page.goto(`${t.url}/runs`);
      const row = page.locator(`tr[data-run-id="${runId}"]`);
      await shown(row.getByText('manual', { exact: true }));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'with two triggers the picker chooses one, the input comes from its last run, and unsaved changes are named',
    async () => {
      const flow = await createFlow({
        name: 'Two doors',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 } },
          { id: 'webhook_2', type: 'webhook', position: { x: 0, y: 200 }, config: { methods: ['PUT'] } },
        ],
      });
      const second = flow.webhooks.find((w) => w.node_id === 'webhook_2')!;
      const sent = await fetch(t.url + new URL(second.url).pathname + '?src=shop', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-shop': 'north' },
        body: JSON.stringify({ sku: 'S-9' }),
      });
      expect(sent.status).toBe(200);
      const sentRun = ((await sent.json()) as { run_id: string }).run_id;

      const page = await openCanvas('Two doors');
      // An unsaved change: the flow's name.
      await page.getByLabel('Flow name', { exact: true }).fill('Two doors, renamed');
      const { dialog, input, run } = await openRunDialog(page);
      await shown(dialog.getByText(/unsaved changes: Run uses the/));
      await dialog.getByLabel('Trigger').selectOption('webhook_2');
      await shown(dialog.getByText(`Prefilled from the last run, ${sentRun}.`));
      const prefilled = JSON.parse(await input.inputValue());
      expect(prefilled).toMatchObject({
        method: 'PUT',
        headers: { 'x-shop': 'north', 'content-type': 'application/json' },
        query: { src: 'shop' },
        body: { sku: 'S-9' },
      });
      expect(prefilled.headers.host).toBeUndefined();
      await screenshot(page, 'run-now-picker');
      await run.click();
      await shown(page.getByText(/^Run run_\w+ started$/));
      const runs = await eventually(async () => {
        const r = await t.api('GET', `/api/v1/runs?flow_id=${flow.id}`);
        return r.body.data.length === 2 ? r.body.data : undefined;
      });
      expect(runs[0]).toMatchObject({ trigger_node_id: 'webhook_2', method: 'PUT', manual: true });
      // The run used the saved flow; the rename is still unsaved.
      expect((await t.api('GET', `/api/v1/flows/${flow.id}`)).body.name).toBe('Two doors');
      await shown(page.getByText('Unsaved changes', { exact: true }));
    },
    TEST_TIMEOUT_MS,
  );
});
