/**
 * The schedule trigger in a real browser (Chromium, see helpers/chromium.ts) against a real app
 * with a worker and a fake server clock: the Schedule component from the palette (the node
 * catalog), its panel's next five runs (worked out by the server as you type, an invalid cron
 * named under the field), saved; at the next tick a run starts, and the run page shows the tick.
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

const FIVE_MIN = 300_000;
const BASE = Math.ceil(Date.now() / FIVE_MIN) * FIVE_MIN + 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('Schedule trigger on the canvas and the run page in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let pageErrors: string[] = [];
  let offset = 0;
  const setClock = (ms: number) => {
    offset = ms - Date.now();
  };

  beforeAll(async () => {
    await requireBuiltUi();
    setClock(BASE + 10_000);
    t = await startTestApp({ worker: { pollMs: 50 }, now: () => Date.now() + offset });
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

  const node = (page: Page, id: string) => page.getByTestId(`node-${id}`);
  const connect = async (page: Page, from: string, to: string) => {
    const a = (await node(page, from).locator('.react-flow__handle.source').first().boundingBox())!;
    const b = (await node(page, to).locator('.react-flow__handle.target').boundingBox())!;
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2 + 10, { steps: 5 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
  };

  it('a Schedule from the palette shows its next five runs, saves, and starts a run at its tick that the run page shows', async () => {
    const created = await t.api('POST', '/api/v1/flows', {
      name: 'Every five minutes',
      nodes: [
        {
          id: 'set_1',
          type: 'set',
          position: { x: 320, y: 0 },
          config: { values: { 'vars.at': '${Schedule.time}' } },
        },
      ],
      edges: [],
    });
    expect(created.status, created.text).toBe(201);
    const flowId = created.body.id as string;

    const opened = await openSignedIn(browser, t.url, t.adminKey, 'Flows');
    contexts.push(opened.context);
    pageErrors = opened.errors;
    const page = opened.page;
    await page.getByRole('link', { name: 'Every five minutes', exact: true }).click();
    await shown(page.getByRole('application', { name: 'Flow canvas' }));
    await page
      .getByRole('complementary', { name: 'Components' })
      .getByRole('button', { name: 'Schedule', exact: true })
      .click();
    await shown(node(page, 'schedule_1'));
    // A trigger: nothing connects into it.
    await expect(node(page, 'schedule_1').locator('.react-flow__handle.target').count()).resolves.toBe(0);
    const panel = page.getByRole('complementary', { name: 'Settings of schedule_1' });
    const nextRuns = panel.getByRole('region', { name: 'Next runs' });

    // A wrong cron is named under the field, and there are no next runs.
    await panel.getByLabel('Cron', { exact: true }).fill('*/5 * * *');
    await shown(panel.getByText(/"\*\/5 \* \* \*" has 4 fields/));
    await shown(nextRuns.getByText('None until the cron is valid.'));
    await panel.getByLabel('Time zone').fill('Europe/Oslo');
    await panel.getByRole('button', { name: 'every 5 minutes' }).click();
    await expect(panel.getByLabel('Cron', { exact: true }).inputValue()).resolves.toBe('*/5 * * * *');
    // The next five ticks, from the server's clock.
    const times = nextRuns.locator('li time');
    await eventually(async () => (await times.count()) === 5, 10_000, 'five next runs');
    const expected = [1, 2, 3, 4, 5].map((i) => iso(BASE + i * FIVE_MIN));
    expect(await times.evaluateAll((els) => els.map((e) => e.getAttribute('datetime')))).toEqual(expected);
    await screenshot(page, 'schedule-panel');
    // The other nodes' templates are offered the tick.
    await node(page, 'set_1').click();
    await shown(
      page
        .getByRole('complementary', { name: 'Settings of set_1' })
        .getByRole('button', { name: '${Schedule.time}', exact: true }),
    );

    await connect(page, 'schedule_1', 'set_1');
    await eventually(
      async () => (await page.locator('[data-testid="rf__edge-schedule_1->set_1"]').count()) === 1,
      10_000,
      'the edge drawn',
    );
    await saveAndPublish(page);
    const saved = (await t.api('GET', `/api/v1/flows/${flowId}`)).body;
    expect(saved.nodes.find((n: { id: string }) => n.id === 'schedule_1')).toMatchObject({
      type: 'schedule',
      config: { cron: '*/5 * * * *', timezone: 'Europe/Oslo', catch_up: 'one' },
      next_runs: expected,
    });
    expect(saved.edges).toEqual([{ from: 'schedule_1', to: 'set_1' }]);

    // The tick: one run, which the run page shows as started by the schedule at that time.
    setClock(BASE + FIVE_MIN + 500);
    await t.app.hookflow.scheduler!.runOnce();
    const run = await eventually(async () => {
      const r = await t.api('GET', `/api/v1/runs?flow_id=${flowId}`);
      const first = r.body.data[0];
      return first?.status === 'succeeded' ? first : undefined;
    });
    await page.goto(`${t.url}/runs/${run.id}`);
    const trigger = page.getByRole('region', { name: 'Trigger: schedule' });
    await shown(trigger.getByText('SCHEDULE', { exact: true }));
    await shown(trigger.getByText(/tick of/));
    await shown(trigger.getByText('*/5 * * * *', { exact: true }));
    await shown(page.getByText(iso(BASE + FIVE_MIN)).first());
    await screenshot(page, 'schedule-run');

    // The flows list shows the schedule where a webhook flow shows its URL.
    await page.goto(`${t.url}/flows`);
    const row = page.getByRole('row', { name: /Every five minutes/ });
    await shown(row.getByText('*/5 * * * *', { exact: true }));
    await shown(row.getByText(/· next /));
  }, 90_000);
});
