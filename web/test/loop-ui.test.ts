/**
 * The loop node in a real browser (Chromium, see helpers/chromium.ts) against a real app with a
 * worker: a loop is a group on the canvas with its body steps inside it — components dropped onto
 * it or picked with its + go into the body, body steps connect inside it, and the document saved
 * holds them in `config.nodes` / `config.edges` with positions relative to the group; a reload draws
 * them inside it again. Save's problems land on the body step they name, and a deleted body step
 * leaves the document. The run page lists the loop's items, each opening to its body's steps, the
 * first 100 at once and the rest on request.
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

const TEST_TIMEOUT_MS = 120_000;

type DocNode = {
  id: string;
  type: string;
  position?: { x: number; y: number };
  config: Record<string, any>;
};

describe('Loop node on the canvas and the run page in Chromium', () => {
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

  const webhook = {
    id: 'webhook_1',
    type: 'webhook',
    position: { x: 0, y: 0 },
    config: { methods: ['POST'] },
  };
  const createFlow = async (doc: Record<string, unknown>) => {
    const res = await t.api('POST', '/api/v1/flows', { nodes: [], edges: [], ...doc });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; webhooks: { node_id: string; url: string }[] };
  };
  const getFlow = async (id: string) => (await t.api('GET', `/api/v1/flows/${id}`)).body;

  /** POSTs the body to the flow's hook and waits for the run to end; returns the run. */
  const runWith = async (flow: { id: string; webhooks: { url: string }[] }, body: unknown) => {
    const res = await fetch(flow.webhooks[0].url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return eventually(
      async () => {
        const runs = (await t.api('GET', `/api/v1/runs?flow_id=${flow.id}`)).body.data;
        if (!runs[0] || !['succeeded', 'failed'].includes(runs[0].status)) return null;
        return (await t.api('GET', `/api/v1/runs/${runs[0].id}`)).body;
      },
      30_000,
      'the run to end',
    );
  };

  const openCanvas = async (flowName: string): Promise<Page> => {
    const opened = await openSignedIn(browser, t.url, t.adminKey, 'Flows');
    contexts.push(opened.context);
    pageErrors = opened.errors;
    const page = opened.page;
    await page.getByRole('link', { name: flowName, exact: true }).click();
    await shown(page.getByRole('application', { name: 'Flow canvas' }));
    await shown(page.getByRole('button', { name: 'Save', exact: true }));
    return page;
  };
  /** Save keeps a draft: publish it too, so the live flow has what the canvas shows. */
  const save = async (page: Page) => {
    await saveAndPublish(page);
  };
  const node = (page: Page, id: string) => page.getByTestId(`node-${id}`);
  const inspector = (page: Page, nodeId: string) =>
    page.getByRole('complementary', { name: `Settings of ${nodeId}` });
  /** Selects a loop by its header (its middle may be covered by a body step). */
  const selectGroup = async (page: Page, id: string) => {
    await node(page, id).locator('.step-id').click();
    await shown(inspector(page, id));
  };

  /** Waits until the step is drawn wholly inside the group's frame. */
  const insideGroup = async (page: Page, group: string, step: string) => {
    await eventually(
      async () => {
        const g = await node(page, group).boundingBox();
        const n = await node(page, step).boundingBox();
        return (
          !!g &&
          !!n &&
          n.x >= g.x &&
          n.y >= g.y &&
          n.x + n.width <= g.x + g.width + 1 &&
          n.y + n.height <= g.y + g.height + 1
        );
      },
      5_000,
      `${step} inside ${group}`,
    );
  };

  const connect = async (page: Page, from: string, to: string) => {
    const source = node(page, from).locator('.react-flow__handle.source').first();
    const target = node(page, to).locator('.react-flow__handle.target');
    const a = (await source.boundingBox())!;
    const b = (await target.boundingBox())!;
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2 + 10, { steps: 5 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
  };

  /** Fills the first row of a Set node's values. */
  const setValue = async (page: Page, id: string, key: string, value: string) => {
    const panel = inspector(page, id);
    await panel.getByLabel('Values 1 key').fill(key);
    await panel.getByLabel('Values 1 value').fill(value);
  };

  it(
    'a loop built on the canvas runs its body once per item, the run page lists each item with its body steps, and a reload draws the body inside the group',
    async () => {
      const flow = await createFlow({ name: 'Per item', nodes: [webhook] });
      const page = await openCanvas('Per item');
      const components = page.getByRole('complementary', { name: 'Components' });

      // Picked with the webhook selected: the loop follows it, connected to its own in-handle.
      await node(page, 'webhook_1').click();
      await components.getByRole('button', { name: 'Loop', exact: true }).click();
      await shown(node(page, 'loop_1'));
      await shown(page.locator('.react-flow__edge'));
      await shown(node(page, 'loop_1').getByText(/Drop components here/));
      await inspector(page, 'loop_1').getByLabel('Items', { exact: true }).fill('${Webhook::Body.items}');

      // A component dropped onto the group goes into its body.
      await components
        .getByRole('button', { name: 'Set values', exact: true })
        .dragTo(node(page, 'loop_1'), { targetPosition: { x: 120, y: 110 } });
      await shown(node(page, 'set_1'));
      await insideGroup(page, 'loop_1', 'set_1');
      await node(page, 'set_1').click();
      // Inside the body a template can name the item.
      await shown(inspector(page, 'set_1').getByRole('button', { name: '${loop.item}', exact: true }));
      expect(
        await inspector(page, 'set_1').getByRole('button', { name: '${steps.loop_1.results}' }).count(),
      ).toBe(0);
      await setValue(page, 'set_1', 'vars.sku', '${loop.item.sku}');

      // The group's + offers what a body may hold: no trigger, no Respond.
      await node(page, 'loop_1').getByRole('button', { name: 'Add a step to the body' }).click();
      const picker = page.getByRole('dialog', { name: 'Add to the body of loop_1' });
      const offered = await picker
        .getByRole('list', { name: 'Components found' })
        .getByRole('button')
        .allTextContents();
      expect(offered.some((o) => o.startsWith('Set values'))).toBe(true);
      expect(offered.some((o) => o.startsWith('Webhook'))).toBe(false);
      expect(offered.some((o) => o.startsWith('Respond'))).toBe(false);
      await picker.getByLabel('Search components').fill('set values');
      await picker.getByLabel('Search components').press('Enter');
      await shown(node(page, 'set_2'));
      await insideGroup(page, 'loop_1', 'set_2');
      await setValue(page, 'set_2', 'vars.label', 'item ${loop.index}: ${loop.item.sku}');

      // Body steps connect inside the group.
      await connect(page, 'set_1', 'set_2');
      await eventually(
        async () => (await page.locator('.react-flow__edge').count()) === 2,
        5_000,
        'two edges',
      );
      await screenshot(page, 'loop-canvas');
      await save(page);

      const saved = await getFlow(flow.id);
      expect(saved.nodes.map((n: DocNode) => n.id)).toEqual(['webhook_1', 'loop_1']);
      expect(saved.edges).toEqual([{ from: 'webhook_1', to: 'loop_1' }]);
      const loop = saved.nodes[1] as DocNode;
      expect(loop.config.items).toBe('${Webhook::Body.items}');
      const body = loop.config.nodes as DocNode[];
      expect(body.map((n) => [n.id, n.type])).toEqual([
        ['set_1', 'set'],
        ['set_2', 'set'],
      ]);
      expect(body[0].config.values).toEqual({ 'vars.sku': '${loop.item.sku}' });
      // Relative to the group's top-left: small, non-negative, below its header.
      for (const n of body) {
        expect(n.position!.x).toBeGreaterThanOrEqual(0);
        expect(n.position!.x).toBeLessThan(600);
        expect(n.position!.y).toBeGreaterThanOrEqual(40);
        expect(n.position!.y).toBeLessThan(300);
      }
      expect(loop.config.edges).toEqual([{ from: 'set_1', to: 'set_2' }]);

      const run = await runWith(flow, { items: [{ sku: 'a' }, { sku: 'b' }, { sku: 'c' }] });
      expect(run.status, run.error).toBe('succeeded');
      const record = run.nodes.find((n: { id: string }) => n.id === 'loop_1');
      expect(record.output.count).toBe(3);
      expect(record.iterations).toHaveLength(3);

      // The run page: the loop's items, each opening to its body's steps.
      await page.goto(`${t.url}/runs/${run.id}`);
      const items = await shown(page.getByRole('list', { name: 'loop_1 items' }));
      expect(await items.locator(':scope > li').count()).toBe(3);
      expect(await page.getByLabel('loop_1 item counts').textContent()).toContain('3 items · 0 failed');
      const second = items.getByRole('listitem', { name: 'loop_1 item 1' });
      await second.locator('summary').first().click();
      const output = await shown(second.getByRole('figure', { name: 'set_2 output' }));
      expect(await output.textContent()).toContain('item 1: b');
      await shown(second.getByRole('figure', { name: 'set_1 output' }));
      await screenshot(page, 'loop-run');

      // Reloaded, the editor draws the body inside the group, with the edge between its steps.
      await page.goto(`${t.url}/flows/${flow.id}`);
      await shown(node(page, 'set_2'));
      await insideGroup(page, 'loop_1', 'set_1');
      await insideGroup(page, 'loop_1', 'set_2');
      expect(await page.locator('.react-flow__edge').count()).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a problem Save finds in a body step is shown on that step, and a body step deleted leaves the saved loop',
    async () => {
      const flow = await createFlow({
        name: 'Body problems',
        nodes: [
          webhook,
          {
            id: 'loop_1',
            type: 'loop',
            position: { x: 260, y: 0 },
            config: {
              items: '${Webhook::Body.items}',
              nodes: [
                {
                  id: 'set_1',
                  type: 'set',
                  position: { x: 24, y: 76 },
                  config: { values: { 'vars.sku': '${loop.item.sku}' } },
                },
                {
                  id: 'set_2',
                  type: 'set',
                  position: { x: 284, y: 76 },
                  config: { values: { 'vars.n': '${loop.index}' } },
                },
              ],
              edges: [{ from: 'set_1', to: 'set_2' }],
            },
          },
        ],
        edges: [{ from: 'webhook_1', to: 'loop_1' }],
      });
      const page = await openCanvas('Body problems');
      await insideGroup(page, 'loop_1', 'set_2');

      // A Respond node dropped onto the group is refused: a body runs once per item.
      const group = (await node(page, 'loop_1').boundingBox())!;
      await page
        .getByRole('complementary', { name: 'Components' })
        .getByRole('button', { name: 'Respond', exact: true })
        .dragTo(node(page, 'loop_1'), { targetPosition: { x: 20, y: group.height - 8 } });
      await shown(page.getByText('Respond cannot go inside loop_1', { exact: false }));
      expect(await node(page, 'respond_1').count()).toBe(0);

      await node(page, 'set_1').click();
      await inspector(page, 'set_1').getByLabel('Values 1 key').fill('sku');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const alert = await shown(node(page, 'set_1').getByRole('alert'));
      expect(await alert.textContent()).toContain('values');
      await shown(inspector(page, 'set_1').getByRole('alert'));
      expect(await node(page, 'set_2').getByRole('alert').count()).toBe(0);

      await inspector(page, 'set_1').getByLabel('Values 1 key').fill('vars.sku');
      await selectGroup(page, 'loop_1');
      const bodySection = inspector(page, 'loop_1').getByRole('region', { name: 'Body' });
      expect(await bodySection.textContent()).toContain('2 steps');
      await node(page, 'set_2').click();
      await inspector(page, 'set_2').getByRole('button', { name: 'Delete node' }).click();
      expect(await node(page, 'set_2').count()).toBe(0);
      await selectGroup(page, 'loop_1');
      expect(await bodySection.textContent()).toContain('1 step,');
      await save(page);

      const loop = (await getFlow(flow.id)).nodes.find((n: DocNode) => n.id === 'loop_1') as DocNode;
      expect(loop.config.nodes.map((n: DocNode) => n.id)).toEqual(['set_1']);
      expect(loop.config.nodes[0].config.values).toEqual({ 'vars.sku': '${loop.item.sku}' });
      expect(loop.config.edges).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the run page lists the first 100 items of a large loop and the rest on "Show more"',
    async () => {
      const flow = await createFlow({
        name: 'Many items',
        nodes: [
          webhook,
          {
            id: 'loop_1',
            type: 'loop',
            position: { x: 260, y: 0 },
            config: {
              items: '${Webhook::Body.items}',
              concurrency: 10,
              nodes: [
                {
                  id: 'set_1',
                  type: 'set',
                  position: { x: 24, y: 76 },
                  config: { values: { 'vars.n': '${loop.item}' } },
                },
              ],
              edges: [],
            },
          },
        ],
        edges: [{ from: 'webhook_1', to: 'loop_1' }],
      });
      const run = await runWith(flow, { items: Array.from({ length: 150 }, (_, i) => i) });
      expect(run.status, run.error).toBe('succeeded');

      const opened = await openSignedIn(browser, t.url, t.adminKey, 'Runs');
      contexts.push(opened.context);
      pageErrors = opened.errors;
      const page = opened.page;
      await page.goto(`${t.url}/runs/${run.id}`);
      const items = await shown(page.getByRole('list', { name: 'loop_1 items' }));
      expect(await page.getByLabel('loop_1 item counts').textContent()).toContain('150 items · 0 failed');
      expect(await items.locator(':scope > li').count()).toBe(100);
      await page.getByRole('button', { name: /^Show more/ }).click();
      await eventually(async () => (await items.locator(':scope > li').count()) === 150, 5_000, '150 items');
      expect(await page.getByRole('button', { name: /^Show more/ }).count()).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
