/**
 * The flow canvas in a real browser (Chromium, see helpers/chromium.ts) against a real Hookflow app on 127.0.0.1
 * with a worker: a flow built by dragging components and connecting them answers real requests;
 * the URL copies; a sample listened for is captured and its fields become parameters whose
 * Required toggle makes the inbound endpoint refuse requests without them; the API's validation
 * errors land on the node they name; every node type has its panel, built from the node catalog;
 * a node's retries and error path are set in its panel and its "error" dot draws the error edge.
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

const TEST_TIMEOUT_MS = 90_000;

describe('Flow canvas in Chromium', () => {
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
    expect(res.status).toBe(201);
    return res.body as { id: string; webhooks: { node_id: string; url: string }[] };
  };
  const getFlow = async (id: string) => (await t.api('GET', `/api/v1/flows/${id}`)).body;

  /** Signed in, on the Flows list, then into the flow's canvas by its name. */
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

  /** Waits until the node lies wholly inside the visible canvas (the canvas may be panning to it). */
  const inView = async (page: Page, id: string) => {
    const canvas = page.getByRole('application', { name: 'Flow canvas' });
    await eventually(
      async () => {
        const c = await canvas.boundingBox();
        const n = await node(page, id).boundingBox();
        return (
          !!c &&
          !!n &&
          n.x >= c.x &&
          n.y >= c.y &&
          n.x + n.width <= c.x + c.width &&
          n.y + n.height <= c.y + c.height
        );
      },
      5_000,
      `${id} inside the visible canvas`,
    );
  };

  /** Drags from a node's source handle (an If node's "true" or "false", an "error" one) to another node with the mouse. */
  const connect = async (page: Page, from: string, to: string, handle?: 'true' | 'false' | 'error') => {
    const source = node(page, from)
      .locator(
        handle ? `.react-flow__handle.source[data-handleid="${handle}"]` : '.react-flow__handle.source',
      )
      .first();
    const target = node(page, to).locator('.react-flow__handle.target');
    const a = (await source.boundingBox())!;
    const b = (await target.boundingBox())!;
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2 + 10, { steps: 5 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
  };

  it(
    'a flow built by dragging a Webhook and a Respond node and connecting them answers with the Respond node',
    async () => {
      const flow = await createFlow({ name: 'Dragged together' });
      const page = await openCanvas('Dragged together');
      const canvas = page.getByRole('application', { name: 'Flow canvas' });
      const box = (await canvas.boundingBox())!;
      const components = page.getByRole('complementary', { name: 'Components' });

      await components
        .getByRole('button', { name: 'Webhook', exact: true })
        .dragTo(canvas, { targetPosition: { x: 100, y: box.height / 2 } });
      await shown(node(page, 'webhook_1'));
      await components
        .getByRole('button', { name: 'Respond', exact: true })
        .dragTo(canvas, { targetPosition: { x: box.width - 110, y: box.height / 2 + 60 } });
      await shown(node(page, 'respond_1'));
      await expect(node(page, 'webhook_1').textContent()).resolves.toContain('webhook_1');
      await expect(node(page, 'respond_1').textContent()).resolves.toContain('respond_1');

      await connect(page, 'webhook_1', 'respond_1');
      await shown(page.locator('.react-flow__edge'));

      // The webhook waits for the Respond node; the Respond node answers 201 with a template.
      await node(page, 'webhook_1').click();
      await inspector(page, 'webhook_1').getByLabel('Response mode').selectOption('flow');
      await node(page, 'respond_1').click();
      const respond = inspector(page, 'respond_1');
      await respond.getByLabel('Status', { exact: true }).fill('201');
      await respond.getByLabel('Body', { exact: true }).fill('{"got": "${Webhook::Body.name}"}');
      await screenshot(page, 'canvas');
      await save(page);

      const saved = await getFlow(flow.id);
      expect(saved.nodes.map((n: { id: string; type: string }) => [n.id, n.type])).toEqual([
        ['webhook_1', 'webhook'],
        ['respond_1', 'respond'],
      ]);
      expect(saved.edges).toEqual([{ from: 'webhook_1', to: 'respond_1' }]);

      const res = await fetch(saved.webhooks[0].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ada' }),
      });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ got: 'Ada' });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the webhook panel shows the URL and Copy URL puts it on the clipboard',
    async () => {
      const flow = await createFlow({
        name: 'Copy me',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
        ],
      });
      const page = await openCanvas('Copy me');
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
      await node(page, 'webhook_1').click();
      const panel = inspector(page, 'webhook_1');
      await expect(panel.getByTestId('webhook-url').textContent()).resolves.toBe(flow.webhooks[0].url);
      await panel.getByRole('button', { name: 'Copy URL' }).click();
      await shown(page.getByText('URL copied'));
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(flow.webhooks[0].url);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a sample listened for is captured after a POST, and a field marked Required makes a POST without it fail',
    async () => {
      const flow = await createFlow({
        name: 'Orders',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
        ],
      });
      const url = flow.webhooks[0].url;
      const page = await openCanvas('Orders');
      await node(page, 'webhook_1').click();
      const panel = inspector(page, 'webhook_1');
      await panel.getByRole('button', { name: 'Listen for a sample' }).click();
      const countdown = await shown(panel.getByTestId('countdown'));
      expect(await countdown.textContent()).toMatch(/^(3:00|2:5\d)$/);

      const sample = await fetch(`${url}?shop=berlin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ order: { id: 'A-17', total: 12.5 } }),
      });
      expect(sample.status).toBe(200);
      expect(await sample.json()).toEqual({ status: 'sample captured' });

      await shown(panel.getByText('Sample captured; its fields are below.'));
      expect(await panel.getByTestId('captured-request').textContent()).toContain('A-17');
      const required = panel.getByLabel('Required: body.order.id', { exact: true });
      await shown(required);
      await shown(panel.getByLabel('Required: query.shop', { exact: true }));
      await screenshot(page, 'webhook-panel-sample');
      await required.check({ force: true });
      await save(page);

      const saved = await getFlow(flow.id);
      const params = saved.nodes[0].config.parameters as {
        source: string;
        path: string;
        required: boolean;
      }[];
      expect(params.find((p) => p.path === 'order.id')).toMatchObject({ source: 'body', required: true });
      expect(params.find((p) => p.path === 'order.total')).toMatchObject({ required: false });

      const without = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ order: { total: 3 } }),
      });
      expect(without.status).toBe(400);
      expect(await without.json()).toMatchObject({ missing: ['body.order.id'] });
      const withIt = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ order: { id: 'A-18', total: 3 } }),
      });
      expect(withIt.status).toBe(200);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'fields derived from JSON join the table without a request',
    async () => {
      await createFlow({
        name: 'From JSON',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
        ],
      });
      const page = await openCanvas('From JSON');
      await node(page, 'webhook_1').click();
      const panel = inspector(page, 'webhook_1');
      await panel.getByRole('tab', { name: 'From JSON' }).click();
      await panel.getByLabel('Sample body (JSON)').fill('{"customer": {"email": "a@example.com"}, "qty": 2}');
      await panel.getByRole('button', { name: 'Derive fields' }).click();
      await shown(panel.getByLabel('Required: body.customer.email', { exact: true }));
      await shown(panel.getByLabel('Required: body.qty', { exact: true }));

      await panel.getByRole('tab', { name: 'From JSON' }).click();
      await panel.getByLabel('Sample body (JSON)').fill('{"broken": ');
      await panel.getByRole('button', { name: 'Derive fields' }).click();
      await shown(panel.getByText(/That is not JSON/));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the plus button opens a searchable picker and the picked component follows the selected node',
    async () => {
      const flow = await createFlow({
        name: 'Picked',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
        ],
      });
      const page = await openCanvas('Picked');
      await node(page, 'webhook_1').click();
      await page.getByRole('button', { name: 'Add a component' }).click();
      const picker = page.getByRole('dialog', { name: 'Add a component' });
      await picker.getByLabel('Search components').fill('trans');
      const found = picker.getByRole('list', { name: 'Components found' }).getByRole('button');
      await expect(found.count()).resolves.toBe(1);
      await picker.getByLabel('Search components').press('Enter');
      await shown(node(page, 'transform_1'));
      await shown(inspector(page, 'transform_1').getByLabel('JSONata expression'));
      await save(page);
      expect((await getFlow(flow.id)).edges).toEqual([{ from: 'webhook_1', to: 'transform_1' }]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'validation errors from the API are shown on the node they name and nothing is saved',
    async () => {
      const flow = await createFlow({
        name: 'Invalid',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
        ],
      });
      const page = await openCanvas('Invalid');
      await page
        .getByRole('complementary', { name: 'Components' })
        .getByRole('button', { name: 'Transform' })
        .click();
      const panel = inspector(page, 'transform_1');
      // A node added with nothing selected goes after the rightmost one, not on top of it, in view.
      await inView(page, 'transform_1');
      const a = (await node(page, 'webhook_1').boundingBox())!;
      const b = (await node(page, 'transform_1').boundingBox())!;
      expect(b.x).toBeGreaterThanOrEqual(a.x + a.width);
      await panel.getByLabel('Into').fill('result');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const problem = node(page, 'transform_1').getByRole('alert');
      await shown(problem);
      expect(await problem.textContent()).toContain('into');
      await shown(page.getByText(/Not saved: Invalid flow: node transform_1/));
      await shown(page.getByText('Unsaved changes'));
      await screenshot(page, 'canvas-invalid');
      expect((await getFlow(flow.id)).nodes).toHaveLength(1);
      // Not kept as a draft either.
      expect((await t.api('GET', `/api/v1/flows/${flow.id}/draft`)).status).toBe(404);

      await panel.getByLabel('Into').fill('vars.result');
      await save(page);
      await expect(node(page, 'transform_1').getByRole('alert').count()).resolves.toBe(0);
      expect((await getFlow(flow.id)).nodes).toHaveLength(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'every node type has a panel with its fields, and template hints name the webhook fields',
    async () => {
      await createFlow({
        name: 'All kinds',
        nodes: [
          {
            id: 'webhook_1',
            type: 'webhook',
            position: { x: 0, y: 0 },
            config: { methods: ['POST'], parameters: [{ source: 'body', path: 'order.id', required: true }] },
          },
        ],
      });
      const page = await openCanvas('All kinds');
      const components = page.getByRole('complementary', { name: 'Components' });
      const expected: [string, string, string][] = [
        ['Set values', 'set_1', 'Values'],
        ['If', 'if_1', 'Condition'],
        ['Switch', 'switch_1', 'Value'],
        ['Transform', 'transform_1', 'JSONata expression'],
        ['HTTP request', 'http_1', 'URL'],
        ['Call webhook', 'webhook_call_1', 'Outbound webhook'],
        ['Emit event', 'emit_1', 'Event type'],
        ['Delay', 'delay_1', 'Milliseconds'],
        ['Respond', 'respond_1', 'Status'],
        ['Fail', 'fail_1', 'Message'],
      ];
      for (const [label, id, field] of expected) {
        await components.getByRole('button', { name: label, exact: true }).click();
        await shown(node(page, id));
        // Each one is placed after the last, and the canvas pans so the new node can be seen.
        await inView(page, id);
        const panel = inspector(page, id);
        await shown(panel.getByText(field, { exact: true }).first());
        if (id !== 'set_1') await shown(panel.getByRole('button', { name: '${Webhook::Body.order.id}' }));
        if (id === 'transform_1') {
          // In a JSONata expression a hint goes in as a bare path, which is how JSONata names it.
          const expression = panel.getByLabel('JSONata expression');
          await expression.fill('$string(');
          await panel.getByRole('button', { name: '${Webhook::Body.order.id}' }).click();
          expect(await expression.inputValue()).toBe('$string(Webhook::Body.order.id');
        }
      }
      // A hint goes in where the cursor is.
      await node(page, 'fail_1').click();
      const message = inspector(page, 'fail_1').getByLabel('Message');
      await message.fill('Order ');
      await inspector(page, 'fail_1').getByRole('button', { name: '${Webhook::Body.order.id}' }).click();
      expect(await message.inputValue()).toBe('Order ${Webhook::Body.order.id}');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the credential dropdown offers stored credentials and None, and a chosen one guards the URL',
    async () => {
      const cred = await t.api('POST', '/api/v1/credentials', {
        name: 'Shop login',
        type: 'basic',
        data: { username: 'shop', password: 'pw-123456' },
      });
      expect(cred.status).toBe(201);
      const flow = await createFlow({
        name: 'Guarded',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
        ],
      });
      const page = await openCanvas('Guarded');
      await node(page, 'webhook_1').click();
      const select = inspector(page, 'webhook_1').getByLabel('Credential');
      const options = await select.locator('option').allTextContents();
      expect(options[0]).toMatch(/^None/);
      expect(options).toContain('Shop login (basic)');
      await select.selectOption({ label: 'Shop login (basic)' });
      await save(page);
      expect((await getFlow(flow.id)).nodes[0].config.auth).toEqual({
        type: 'basic',
        credential_id: cred.body.id,
      });

      const url = flow.webhooks[0].url;
      expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(401);
      const auth = `Basic ${Buffer.from('shop:pw-123456').toString('base64')}`;
      expect(
        (await fetch(url, { method: 'POST', body: '{}', headers: { authorization: auth } })).status,
      ).toBe(200);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "an If node's true and false dots make the two branches, and the run takes the one the condition picks",
    async () => {
      const flow = await createFlow({
        name: 'Branches',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
          {
            id: 'if_1',
            type: 'if',
            position: { x: 260, y: 0 },
            config: { condition: '${= Webhook::Body.amount > 100}' },
          },
          {
            id: 'set_1',
            type: 'set',
            position: { x: 540, y: -120 },
            config: { values: { 'vars.big': true } },
          },
          { id: 'fail_1', type: 'fail', position: { x: 540, y: 140 }, config: { message: 'too small' } },
        ],
        edges: [{ from: 'webhook_1', to: 'if_1' }],
      });
      const page = await openCanvas('Branches');
      await connect(page, 'if_1', 'set_1', 'true');
      await connect(page, 'if_1', 'fail_1', 'false');
      await expect(page.locator('.react-flow__edge').count()).resolves.toBe(3);
      await save(page);
      expect((await getFlow(flow.id)).edges).toEqual([
        { from: 'webhook_1', to: 'if_1' },
        { from: 'if_1', to: 'set_1', when: true },
        { from: 'if_1', to: 'fail_1', when: false },
      ]);

      const post = async (amount: number) => {
        const res = await fetch(flow.webhooks[0].url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ amount }),
        });
        return (await res.json()).run_id as string;
      };
      const finished = (id: string) =>
        eventually(async () => {
          const run = (await t.api('GET', `/api/v1/runs/${id}`)).body;
          return run.status === 'succeeded' || run.status === 'failed' ? run : null;
        }, 20_000);
      const big = await finished(await post(500));
      expect(big.status).toBe('succeeded');
      expect(big.vars).toEqual({ big: true });
      const small = await finished(await post(5));
      expect(small.status).toBe('failed');
      expect(small.error).toContain('too small');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'retries and "Take the error path" set in the panel are saved on the node, its "error" dot draws the error edge, and a reload shows them again',
    async () => {
      const flow = await createFlow({
        name: 'Stock check',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
          {
            id: 'http_1',
            type: 'http',
            position: { x: 260, y: 0 },
            config: { method: 'GET', url: 'https://stock.example.com/items' },
          },
          {
            id: 'set_1',
            type: 'set',
            position: { x: 540, y: 160 },
            config: { values: { 'vars.out': true } },
          },
        ],
        edges: [{ from: 'webhook_1', to: 'http_1' }],
      });
      const errorDot = (page: Page) =>
        node(page, 'http_1').locator('.react-flow__handle.source[data-handleid="error"]');
      const page = await openCanvas('Stock check');
      await node(page, 'http_1').click();
      const section = inspector(page, 'http_1').getByRole('region', { name: 'Errors and retries' });
      // One attempt and "Fail the run" until changed: no back-off fields, no error dot.
      expect(await section.getByLabel('Retries', { exact: true }).inputValue()).toBe('1');
      expect(await section.getByLabel('First wait (ms)').count()).toBe(0);
      expect(await section.getByLabel('On error').inputValue()).toBe('fail');
      expect(await errorDot(page).count()).toBe(0);

      await section.getByLabel('Retries', { exact: true }).fill('3');
      await shown(section.getByText('Waits 1 s, 2 s between attempts', { exact: true }));
      await section.getByLabel('First wait (ms)').fill('500');
      await shown(section.getByText('Waits 500 ms, 1 s between attempts', { exact: true }));
      await section.getByLabel('On error').selectOption({ label: 'Take the error path' });
      await shown(errorDot(page));
      await shown(node(page, 'http_1').getByText('error', { exact: true }));
      await connect(page, 'http_1', 'set_1', 'error');
      await shown(page.locator('.react-flow__edge-text', { hasText: 'error' }));
      await screenshot(page, 'canvas-error-path');
      await save(page);

      const saved = await getFlow(flow.id);
      const http = saved.nodes.find((n: { id: string }) => n.id === 'http_1');
      expect(http.retry).toEqual({ max_attempts: 3, backoff_ms: 500, factor: 2, max_backoff_ms: 600000 });
      expect(http.on_error).toBe('branch');
      expect(saved.edges).toEqual([
        { from: 'webhook_1', to: 'http_1' },
        { from: 'http_1', to: 'set_1', when: 'error' },
      ]);
      // Nodes the panel did not touch carry neither key.
      for (const n of saved.nodes.filter((x: { id: string }) => x.id !== 'http_1')) {
        expect(n.retry).toBeUndefined();
        expect(n.on_error).toBeUndefined();
      }

      // Reloaded: the same settings, and the error edge leaves the error dot.
      await page.reload();
      await shown(node(page, 'http_1'));
      await shown(errorDot(page));
      const edgeLabel = page.locator('.react-flow__edge-text', { hasText: 'error' });
      await shown(edgeLabel);
      const dot = (await errorDot(page).boundingBox())!;
      const path = (await page
        .locator('.react-flow__edge')
        .filter({ has: edgeLabel })
        .locator('.react-flow__edge-path')
        .boundingBox())!;
      expect(Math.abs(path.y - (dot.y + dot.height / 2))).toBeLessThan(4);
      await node(page, 'http_1').click();
      const again = inspector(page, 'http_1').getByRole('region', { name: 'Errors and retries' });
      expect(await again.getByLabel('Retries', { exact: true }).inputValue()).toBe('3');
      expect(await again.getByLabel('First wait (ms)').inputValue()).toBe('500');
      expect(await again.getByLabel('Factor').inputValue()).toBe('2');
      expect(await again.getByLabel('Longest wait (ms)').inputValue()).toBe('600000');
      expect(await again.getByLabel('On error').inputValue()).toBe('branch');
      // Saved (as a draft) and published again as loaded, the document is unchanged.
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await shown(page.getByText('Flow “Stock check” saved as a draft'));
      await saveAndPublish(page);
      const resaved = await getFlow(flow.id);
      expect(resaved.version).toBe(saved.version + 1);
      expect(resaved.nodes).toEqual(saved.nodes);
      expect(resaved.edges).toEqual(saved.edges);

      // Away from "Take the error path", the error edge stays (and says so); the save is refused on the node.
      await again.getByLabel('On error').selectOption({ label: 'Fail the run' });
      await shown(again.getByText(/An error connection still leaves this node/));
      await expect(page.locator('.react-flow__edge').count()).resolves.toBe(2);
      await shown(errorDot(page));
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const problem = node(page, 'http_1').getByRole('alert');
      await shown(problem);
      expect(await problem.textContent()).toContain('edges[1].when');
      expect((await getFlow(flow.id)).version).toBe(resaved.version);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a Switch node's connections are its cases, named in its panel",
    async () => {
      const flow = await createFlow({
        name: 'Tiers',
        nodes: [
          {
            id: 'switch_1',
            type: 'switch',
            position: { x: 0, y: 0 },
            config: { value: '${Webhook::Body.tier}' },
          },
          {
            id: 'set_1',
            type: 'set',
            position: { x: 280, y: -120 },
            config: { values: { 'vars.gold': true } },
          },
          {
            id: 'set_2',
            type: 'set',
            position: { x: 280, y: 140 },
            config: { values: { 'vars.other': true } },
          },
        ],
      });
      const page = await openCanvas('Tiers');
      await connect(page, 'switch_1', 'set_1');
      await connect(page, 'switch_1', 'set_2');
      await node(page, 'switch_1').click();
      const panel = inspector(page, 'switch_1');
      expect(await panel.getByLabel('Case for set_1').inputValue()).toBe('case_1');
      await panel.getByLabel('Case for set_1').fill('gold');
      await panel.getByLabel('Case for set_2').fill('default');
      await save(page);
      expect((await getFlow(flow.id)).edges).toEqual([
        { from: 'switch_1', to: 'set_1', when: 'gold' },
        { from: 'switch_1', to: 'set_2', when: 'default' },
      ]);
      await shown(page.locator('.react-flow__edge-text', { hasText: 'gold' }));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "the palette and every node's panel come from GET /api/v1/node-types",
    async () => {
      type Entry = {
        type: string;
        label: string;
        description: string;
        trigger: boolean;
        terminal: boolean;
        edges: 'plain' | 'boolean' | 'cases' | 'timeout';
        fields: { label: string }[];
        note: string | null;
      };
      const res = await t.api('GET', '/api/v1/node-types');
      expect(res.status).toBe(200);
      const entries = (res.body as { data: Entry[] }).data;
      expect(entries.length).toBeGreaterThan(0);
      await createFlow({ name: 'Catalog' });

      // Seen through a catalog with one label changed, the palette, node and panel follow it.
      const opened = await openSignedIn(browser, t.url, t.adminKey, 'Flows');
      contexts.push(opened.context);
      pageErrors = opened.errors;
      const page = opened.page;
      const renamed = entries.map((e, i) =>
        i === entries.length - 1
          ? {
              ...e,
              label: `${e.label} (renamed)`,
              fields: e.fields.map((f, j) => (j === 0 ? { ...f, label: `${f.label} (renamed)` } : f)),
            }
          : e,
      );
      await page.route('**/api/v1/node-types', (route) => route.fulfill({ json: { data: renamed } }));
      await page.getByRole('link', { name: 'Catalog', exact: true }).click();
      await shown(page.getByRole('application', { name: 'Flow canvas' }));
      const components = page.getByRole('complementary', { name: 'Components' });
      await shown(components.getByRole('button').first());
      expect(await components.getByRole('button').allTextContents()).toEqual(renamed.map((e) => e.label));

      for (const e of renamed.filter((x) => !x.trigger)) {
        const id = `${e.type}_1`;
        await components.getByRole('button', { name: e.label, exact: true }).click();
        await shown(node(page, id));
        expect(await node(page, id).locator('.step-kind').textContent()).toBe(e.label);
        // An edge comes in unless it is a trigger; none leaves a terminal node, two leave a boolean
        // one (true, false) and a timeout one (plain, timeout).
        await expect(node(page, id).locator('.react-flow__handle.target').count()).resolves.toBe(1);
        await expect(node(page, id).locator('.react-flow__handle.source').count()).resolves.toBe(
          e.terminal ? 0 : e.edges === 'boolean' || e.edges === 'timeout' ? 2 : 1,
        );
        const panel = inspector(page, id);
        await shown(panel.getByText(e.description, { exact: true }));
        await shown(panel.getByText(e.fields[0].label, { exact: true }).first());
        if (e.note) await shown(panel.getByText(e.note.replaceAll('{id}', id), { exact: true }));
        if (e.edges === 'cases') await shown(panel.getByRole('group', { name: 'Cases' }));
      }
      const trigger = renamed.find((x) => x.trigger)!;
      await components.getByRole('button', { name: trigger.label, exact: true }).click();
      await shown(node(page, `${trigger.type}_1`));
      await expect(
        node(page, `${trigger.type}_1`).locator('.react-flow__handle.target').count(),
      ).resolves.toBe(0);
      await screenshot(page, 'canvas-catalog');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'leaving the canvas with unsaved changes asks first',
    async () => {
      await createFlow({
        name: 'Half done',
        nodes: [
          { id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } },
        ],
      });
      const page = await openCanvas('Half done');
      await page
        .getByRole('complementary', { name: 'Components' })
        .getByRole('button', { name: 'Delay' })
        .click();
      await shown(page.getByText('Unsaved changes'));
      const questions: string[] = [];
      page.once('dialog', (d) => {
        questions.push(d.message());
        void d.dismiss();
      });
      await page.getByRole('link', { name: '← Flows' }).click();
      await expect
        .poll(() => questions)
        .toEqual(['This flow has unsaved changes. Leave without saving them?']);
      expect(new URL(page.url()).pathname).toMatch(/^\/flows\/flw_/);
      await shown(node(page, 'delay_1'));

      page.once('dialog', (d) => void d.accept());
      await page.getByRole('link', { name: '← Flows' }).click();
      await shown(page.getByRole('heading', { name: 'Flows', level: 1, exact: true }));
    },
    TEST_TIMEOUT_MS,
  );
});
