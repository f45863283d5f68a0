/**
 * Versions, drafts and shadow replay in the admin UI, in a real browser (Chromium, see
 * helpers/chromium.ts) against a real Hookflow app with a run worker on 127.0.0.1: Save keeps a
 * draft and leaves the live flow alone, Publish makes it the next version, Discard draft drops it;
 * History compares two versions side by side; Replay runs stored requests against the draft and
 * its report names what came out different.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.ts';
import { eventually } from '../../test/helpers/receiver.ts';
import { launchChromium, openSignedIn, requireBuiltUi, screenshot, shown } from './helpers/browser.ts';

const TEST_TIMEOUT_MS = 90_000;

describe('Versions, drafts and replay in Chromium', () => {
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

  /** webhook_1 → set_1, which sets vars.x. */
  const createFlow = async (name: string, x: string) => {
    const res = await t.api('POST', '/api/v1/flows', {
      name,
      nodes: [
        { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 } },
        { id: 'set_1', type: 'set', position: { x: 300, y: 0 }, config: { values: { 'vars.x': x } } },
      ],
      edges: [{ from: 'webhook_1', to: 'set_1' }],
    });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; version: number; webhooks: { node_id: string; url: string }[] };
  };
  const getFlow = async (id: string) => (await t.api('GET', `/api/v1/flows/${id}`)).body;
  const setValueOf = (flow: { nodes: { id: string; config: { values?: Record<string, unknown> } }[] }) =>
    flow.nodes.find((n) => n.id === 'set_1')?.config.values?.['vars.x'];

  const openCanvas = async (flowName: string): Promise<Page> => {
    const opened = await openSignedIn(browser, t.url, t.adminKey, 'Flows');
    contexts.push(opened.context);
    pageErrors = opened.errors;
    const page = opened.page;
    await page.getByRole('link', { name: flowName, exact: true }).click();
    await shown(page.getByRole('application', { name: 'Flow canvas' }));
    return page;
  };
  const state = (page: Page) => page.getByTestId('version-state');
  const actions = (page: Page) => page.locator('.editor-actions');
  /** Selects set_1 and types its vars.x value. */
  const changeSetValue = async (page: Page, value: string) => {
    await page.getByTestId('node-set_1').click();
    const panel = page.getByRole('complementary', { name: 'Settings of set_1' });
    await panel.getByLabel('Values 1 value').fill(value);
    await shown(page.getByText('Unsaved changes', { exact: true }));
  };
  const save = async (page: Page) => {
    await actions(page).getByRole('button', { name: 'Save', exact: true }).click();
    await shown(page.getByText('Saved', { exact: true }));
  };

  it(
    'publish: Save keeps a draft and leaves the live flow alone; Publish makes it the next version',
    async () => {
      const flow = await createFlow('Publish me', 'one');
      const page = await openCanvas('Publish me');
      await shown(state(page).getByText('Live: version 1', { exact: true }));

      await changeSetValue(page, 'two');
      await save(page);
      await shown(state(page).getByText('Draft (unpublished changes) — based on version 1', { exact: true }));
      // The draft's test URL, with what it does.
      const bar = page.getByRole('region', { name: 'Draft' });
      await shown(bar.getByText(/\/hooks-test\//));
      await shown(bar.getByText(/events are not delivered and its e-mails not sent/));
      await screenshot(page, 'versions-draft');

      // The live flow is unchanged; the draft has the change.
      const live = await getFlow(flow.id);
      expect(live.version).toBe(1);
      expect(setValueOf(live)).toBe('one');
      const draft = (await t.api('GET', `/api/v1/flows/${flow.id}/draft`)).body;
      expect(setValueOf(draft)).toBe('two');

      // Opened again, the canvas shows the draft.
      await page.reload();
      await shown(state(page).getByText('Draft (unpublished changes) — based on version 1', { exact: true }));
      await page.getByTestId('node-set_1').click();
      expect(
        await page
          .getByRole('complementary', { name: 'Settings of set_1' })
          .getByLabel('Values 1 value')
          .inputValue(),
      ).toBe('two');

      // Publish with a note.
      await actions(page).getByRole('button', { name: 'Publish', exact: true }).click();
      const dialog = await shown(page.getByRole('dialog', { name: 'Publish the draft' }));
      await dialog.getByLabel('Note (optional)').fill('x is two now');
      await dialog.getByRole('button', { name: 'Publish', exact: true }).click();
      await shown(page.getByText('Published as version 2', { exact: true }));
      await shown(state(page).getByText('Live: version 2', { exact: true }));
      expect(await page.getByRole('region', { name: 'Draft' }).count()).toBe(0);

      const published = await getFlow(flow.id);
      expect(published.version).toBe(2);
      expect(setValueOf(published)).toBe('two');
      expect(published.draft_revision).toBeNull();
      const versions = (await t.api('GET', `/api/v1/flows/${flow.id}/versions`)).body.data;
      expect(versions[0]).toMatchObject({ version: 2, note: 'x is two now' });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a call to the test URL runs the draft as a test run: only the "Test runs" filter lists it, marked test',
    async () => {
      const flow = await createFlow('Test me', 'live');
      const page = await openCanvas('Test me');
      await changeSetValue(page, 'drafted');
      await save(page);
      const testUrl = (await t.api('GET', `/api/v1/flows/${flow.id}/draft`)).body.test_url as string;
      const res = await fetch(t.url + new URL(testUrl).pathname, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(200);
      const runId = ((await res.json()) as { run_id: string }).run_id;
      await eventually(
        async () => (await t.api('GET', `/api/v1/runs/${runId}`)).body.status === 'succeeded',
        20_000,
        'the test run to succeed',
      );

      await page.goto(`${t.url}/runs`);
      await shown(page.getByRole('heading', { name: 'Runs', level: 1 }));
      await page.getByLabel('Test runs').check();
      const row = page.locator(`tr[data-run-id="${runId}"]`);
      await shown(row.getByText('test', { exact: true }));
      expect(new URL(page.url()).search).toBe('?test=true');
      await page.getByLabel('Test runs').uncheck();
      await shown(page.getByRole('heading', { name: 'No runs yet' }));
      expect(await row.count()).toBe(0);

      await page.goto(`${t.url}/runs/${runId}`);
      await shown(
        page.getByRole('heading', { name: /^Run run_/, level: 1 }).getByText('test', { exact: true }),
      );
      await shown(page.getByText(/^draft rev \d+$/));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Discard draft (asked first) drops the draft and the canvas shows the live version again',
    async () => {
      const flow = await createFlow('Discard me', 'one');
      const page = await openCanvas('Discard me');
      await changeSetValue(page, 'scrapped');
      await save(page);
      await shown(state(page).getByText(/^Draft \(unpublished changes\)/));

      await actions(page).getByRole('button', { name: 'Discard draft', exact: true }).click();
      const dialog = await shown(page.getByRole('dialog', { name: 'Discard the draft' }));
      await dialog.getByRole('button', { name: 'Discard draft', exact: true }).click();
      await shown(state(page).getByText('Live: version 1', { exact: true }));
      await page.getByTestId('node-set_1').click();
      expect(
        await page
          .getByRole('complementary', { name: 'Settings of set_1' })
          .getByLabel('Values 1 value')
          .inputValue(),
      ).toBe('one');
      expect((await t.api('GET', `/api/v1/flows/${flow.id}/draft`)).status).toBe(404);
      expect((await getFlow(flow.id)).version).toBe(1);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'diff: History compares two versions side by side — the added node, the changed field old → new, a move ignored',
    async () => {
      const flow = await createFlow('Compare me', 'one');
      // Version 2: set_1's value changed, set_2 added after it, webhook_1 only moved.
      const v2 = await t.api('PUT', `/api/v1/flows/${flow.id}`, {
        name: 'Compare me',
        enabled: true,
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 40, y: 60 } },
          { id: 'set_1', type: 'set', position: { x: 300, y: 0 }, config: { values: { 'vars.x': 'two' } } },
          { id: 'set_2', type: 'set', position: { x: 600, y: 0 }, config: { values: { 'vars.y': 'new' } } },
        ],
        edges: [
          { from: 'webhook_1', to: 'set_1' },
          { from: 'set_1', to: 'set_2' },
        ],
      });
      expect(v2.status, v2.text).toBe(200);
      expect(v2.body.version).toBe(2);

      const page = await openCanvas('Compare me');
      await actions(page).getByRole('button', { name: 'History', exact: true }).click();
      const history = await shown(page.getByRole('dialog', { name: 'History' }));
      const list = history.getByRole('list', { name: 'Versions' });
      await shown(list.locator('[data-version="2"]').getByText('live', { exact: true }));
      await list.getByLabel('Pick version 1 to compare').check();
      await list.getByLabel('Pick version 2 to compare').check();
      await screenshot(page, 'versions-history');
      await history.getByRole('button', { name: 'Compare', exact: true }).click();

      await shown(page.getByRole('heading', { name: 'Version 1 → Version 2', level: 1 }));
      expect(new URL(page.url()).search).toBe('?a=1&b=2');
      const diff = page.getByLabel('Differences');
      // The added node, on the right.
      const added = await shown(diff.getByLabel('Node set_2 added'));
      await shown(added.getByText('"vars.y": "new"', { exact: false }));
      // The changed field: old on the left, new on the right.
      const changed = await shown(diff.getByLabel('Node set_1 changed'));
      const field = changed.getByLabel('Change config.values["vars.x"]');
      await shown(field.locator('.diff-old').getByText('one', { exact: true }));
      await shown(field.locator('.diff-new').getByText('two', { exact: true }));
      // The new edge; webhook_1 only moved: not a change.
      await shown(diff.getByLabel('Edge set_1 → set_2 added'));
      expect(await diff.getByLabel('Node webhook_1 changed').count()).toBe(0);
      await shown(diff.getByText('1 unchanged node', { exact: true }));
      await screenshot(page, 'versions-compare');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'replay: runs of the live version replayed against a draft that changes vars.x come out different, vars.x highlighted',
    async () => {
      const flow = await createFlow('Replay me', '${Webhook::Body.n}');
      const hook = t.url + new URL(flow.webhooks[0].url).pathname;
      const sent: string[] = [];
      for (const n of ['1', '2', '3']) {
        const res = await fetch(hook, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ n }),
        });
        expect(res.status).toBe(200);
        sent.push(((await res.json()) as { run_id: string }).run_id);
      }
      await eventually(
        async () => {
          const r = await t.api('GET', `/api/v1/runs?flow_id=${flow.id}`);
          return (
            r.body.data.length === 3 && r.body.data.every((x: { status: string }) => x.status === 'succeeded')
          );
        },
        20_000,
        'the three runs to succeed',
      );

      const page = await openCanvas('Replay me');
      await changeSetValue(page, '${Webhook::Body.n}-changed');
      await save(page);
      await shown(state(page).getByText(/^Draft \(unpublished changes\)/));

      await actions(page).getByRole('button', { name: 'Replay', exact: true }).click();
      const dialog = await shown(page.getByRole('dialog', { name: 'Replay traffic' }));
      expect(await dialog.getByLabel('Replay against').inputValue()).toBe('draft');
      expect(await dialog.getByLabel(/^Number of runs/).inputValue()).toBe('100');
      await dialog.getByRole('button', { name: 'Start replay', exact: true }).click();

      await page.waitForURL(/\/replays\/[^/]+$/);
      await shown(page.getByRole('heading', { name: /^Replay \S+$/, level: 1 }));
      await page
        .locator('.replay-report .page-header')
        .getByText('done', { exact: true })
        .waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('count-different').textContent()).toBe('3');
      expect(await page.getByTestId('count-same').textContent()).toBe('0');
      expect(await page.getByTestId('count-failed').textContent()).toBe('0');
      expect(
        await page.getByRole('progressbar', { name: 'Replay progress' }).getAttribute('aria-valuenow'),
      ).toBe('3');

      const items = page.getByRole('list', { name: 'Replayed runs' }).locator('li');
      expect(await items.count()).toBe(3);
      for (const runId of sent) {
        const item = page.locator(`li[data-run-id="${runId}"]`);
        const table = await shown(item.getByRole('table', { name: `Differences of ${runId}` }));
        const row = table.getByRole('row').filter({ hasText: 'vars.x' });
        const n = String(sent.indexOf(runId) + 1);
        await shown(row.locator('.diff-old').getByText(n, { exact: true }));
        await shown(row.locator('.diff-new').getByText(`${n}-changed`, { exact: true }));
        await shown(item.getByRole('link', { name: 'Original run' }));
        await shown(item.getByRole('link', { name: 'Replay run' }));
      }
      await screenshot(page, 'versions-replay');

      // The replay run is marked, and links back to its report.
      await page.locator(`li[data-run-id="${sent[0]}"]`).getByRole('link', { name: 'Replay run' }).click();
      await shown(
        page.getByRole('heading', { name: /^Run run_/, level: 1 }).getByText('replay', { exact: true }),
      );
      await shown(page.getByText(/^draft rev \d+$/));
    },
    TEST_TIMEOUT_MS,
  );
});
