/**
 * The wait node in a real browser (Chromium, see helpers/chromium.ts) against a real app with a
 * worker: its panel names the template of its resume URL (`${resume.<id>}`), it has a "timeout"
 * handle whose edges are saved as `"when": "timeout"`, and the run page shows a waiting run's resume
 * URL — which, called, resumes the run.
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

describe('Wait node on the canvas and the run page in Chromium', () => {
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
  const node = (page: Page, id: string) => page.getByTestId(`node-${id}`);

  it('the panel names ${resume.<id>}, the timeout handle saves a "timeout" edge, and the run page shows the resume URL to call', async () => {
    const created = await t.api('POST', '/api/v1/flows', {
      name: 'Approval',
      nodes: [
        { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
        { id: 'wait_1', type: 'wait', position: { x: 280, y: 0 }, config: { timeout_ms: 3_600_000 } },
        {
          id: 'set_1',
          type: 'set',
          position: { x: 560, y: 0 },
          config: { values: { 'vars.ok': '${steps.wait_1.body.ok}' } },
        },
        { id: 'set_2', type: 'set', position: { x: 560, y: 200 }, config: { values: { 'vars.late': true } } },
      ],
      edges: [
        { from: 'webhook_1', to: 'wait_1' },
        { from: 'wait_1', to: 'set_1' },
      ],
    });
    expect(created.status, created.text).toBe(201);
    const flow = created.body;

    const page = await open('Flows');
    await page.getByRole('link', { name: 'Approval', exact: true }).click();
    await shown(page.getByRole('application', { name: 'Flow canvas' }));
    await node(page, 'wait_1').click();
    const panel = page.getByRole('complementary', { name: 'Settings of wait_1' });
    await shown(panel.getByText(/Its resume URL is \$\{resume\.wait_1\} in every template of the run/));
    // Every node's templates are offered the resume URL (an http node before the wait sends it).
    await shown(panel.getByRole('button', { name: '${resume.wait_1}', exact: true }));
    await node(page, 'webhook_1').click();
    await node(page, 'set_1').click();
    await shown(
      page
        .getByRole('complementary', { name: 'Settings of set_1' })
        .getByRole('button', { name: '${resume.wait_1}', exact: true }),
    );
    await node(page, 'wait_1').click();

    // The timeout handle: an edge from it is a "timeout" edge.
    const handle = node(page, 'wait_1').locator('.react-flow__handle.source[data-handleid="timeout"]');
    await shown(node(page, 'wait_1').getByText('timeout', { exact: true }));
    const target = node(page, 'set_2').locator('.react-flow__handle.target');
    const a = (await handle.boundingBox())!;
    const b = (await target.boundingBox())!;
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
    await eventually(
      async () => (await page.locator('.react-flow__edge').count()) === 3,
      5_000,
      'three edges',
    );
    await screenshot(page, 'wait-canvas');
    await saveAndPublish(page);
    const saved = (await t.api('GET', `/api/v1/flows/${flow.id}`)).body;
    expect(saved.edges).toEqual(
      expect.arrayContaining([
        { from: 'wait_1', to: 'set_2', when: 'timeout' },
        { from: 'wait_1', to: 'set_1' },
      ]),
    );

    // A run waits; its page shows where to call.
    const ack = await (
      await fetch(flow.webhooks[0].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
    ).json();
    await eventually(
      async () =>
        (await t.api('GET', `/api/v1/runs/${ack.run_id}`)).body.nodes?.some(
          (n: any) => n.status === 'waiting',
        ),
      10_000,
      'the run waiting',
    );
    await page.goto(`${t.url}/runs/${ack.run_id}`);
    const note = page.getByRole('note', { name: 'wait_1 resume URL' });
    await shown(note);
    const url = (await note.locator('code').textContent())!;
    expect(url).toContain(`/resume/${ack.run_id}/wait_1/`);
    await shown(note.getByRole('button', { name: 'Copy' }));
    await screenshot(page, 'wait-run');

    const res = await fetch(url.replace(/^https?:\/\/[^/]+/, t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"ok":"approved"}',
    });
    expect(res.status).toBe(200);
    const run = await eventually(
      async () => {
        const r = (await t.api('GET', `/api/v1/runs/${ack.run_id}`)).body;
        return r.status === 'succeeded' ? r : undefined;
      },
      10_000,
      'the run to succeed',
    );
    expect(run.vars).toEqual({ ok: 'approved' });
    await page.reload();
    await shown(page.getByText('succeeded').first());
    expect(await page.getByRole('note', { name: 'wait_1 resume URL' }).count()).toBe(0);
  });
});
