/**
 * The Webhook Settings screen in a real browser (Chromium, see helpers/chromium.ts) against a real Hookflow app on
 * 127.0.0.1 and a real receiver whose answers the test controls: the Check button's green tick and
 * its errors, the signing secret shown once (and verified against a signed ping with
 * standardwebhooks), the API's own sentence for a bad URL, rotation, editing events and the
 * default, the on/off switch, delete only after the confirmation; "Max in flight" in the form, and
 * the circuit breaker (docs/api.md §5.7) as it opens against a receiver that answers 500.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, startTestApp, type TestApp } from '../../test/helpers/app.ts';
import { eventually, type Received, type Receiver, startReceiver } from '../../test/helpers/receiver.ts';
import { launchChromium, openSignedIn, requireBuiltUi, screenshot, shown } from './helpers/browser.ts';

const TEST_TIMEOUT_MS = 90_000;

const headersOf = (r: Received) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

describe('Webhook Settings screen in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let receiver: Receiver;
  let answer: { status: number; body: string };
  const contexts: BrowserContext[] = [];
  let pageErrors: string[] = [];

  beforeAll(async () => {
    await requireBuiltUi();
    // The receiver is on 127.0.0.1, which the SSRF guard refuses unless allowed.
    t = await startTestApp({ env: { HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' } });
    receiver = await startReceiver((_req, res) => {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver?.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    answer = { status: 200, body: '{"ok":true}' };
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    for (const ep of await listed()) await t.api('DELETE', `/api/v1/endpoints/${ep.id}`);
    const errors = pageErrors;
    pageErrors = [];
    expect(errors).toEqual([]);
  });

  const listed = async () => (await t.api('GET', '/api/v1/endpoints')).body.data as any[];

  /** Signed in with the admin key, on Webhook Settings with its list loaded. */
  const endpointsPage = async (): Promise<Page> => {
    const opened = await openSignedIn(browser, t.url, t.adminKey, 'Webhook Settings');
    contexts.push(opened.context);
    pageErrors = opened.errors;
    const page = opened.page;
    await page.waitForFunction(() => !document.body.textContent?.includes('Loading endpoints'));
    return page;
  };

  const createByApi = async (body: Record<string, unknown>) => {
    const r = await t.api('POST', '/api/v1/endpoints', { url: `${receiver.url}/hook`, ...body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { id: string; name: string; signing_secret: string };
  };

  it(
    'creating an outbound endpoint shows a green check against a local receiver, then the signing secret once',
    async () => {
      const page = await endpointsPage();
      await shown(page.getByRole('heading', { name: 'No endpoints yet' }));

      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const form = page.getByRole('form', { name: 'New webhook' });
      await form.getByLabel('Name', { exact: true }).fill('CRM sync');
      // All events is the default; narrow it to two types from the catalog.
      await form.getByLabel('All events').uncheck();
      await form.getByLabel('flow.completed').check();
      await form.getByLabel('flow.failed').check();
      expect(await form.getByLabel('Notification type').inputValue()).toBe('rest');
      await form.getByLabel('URL', { exact: true }).fill(`${receiver.url}/crm`);
      await form.getByLabel('Method').selectOption('PUT');
      await form.getByLabel('Auth').selectOption('basic');
      await form.getByLabel('Username').fill('hookflow');
      await form.getByLabel('Password').fill('pa55-word');
      await form.getByRole('button', { name: 'Check' }).click();

      const tick = await shown(form.getByRole('status').filter({ hasText: 'Answered 200 in' }));
      await shown(tick.getByRole('img', { name: 'Check passed' }));
      expect(await tick.textContent()).toMatch(/Answered 200 in \d+ ms/);
      // The ping arrived as the endpoint will be called: method, path, auth, signed envelope.
      expect(receiver.received).toHaveLength(1);
      const ping = receiver.received[0];
      expect(ping.method).toBe('PUT');
      expect(ping.url).toBe('/crm');
      expect(ping.headers.authorization).toBe(
        `Basic ${Buffer.from('hookflow:pa55-word').toString('base64')}`,
      );
      expect(JSON.parse(ping.body).event_type).toBe('ping');
      expect(ping.headers['webhook-signature']).toMatch(/^v1,/);
      await screenshot(page, 'endpoint-form');

      await form.getByRole('button', { name: 'Create' }).click();
      const dialog = await shown(page.getByRole('dialog', { name: 'Signing secret of “CRM sync”' }));
      await shown(dialog.getByText('you will not see this secret again'));
      const secret = (await dialog.locator('.secret-value').textContent()) ?? '';
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
      await screenshot(page, 'endpoint-secret');
      await dialog.getByRole('button', { name: 'Copy' }).click();
      await shown(page.getByText('Signing secret copied'));
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'hidden' });
      // Once: gone from the page, and the API never returns it.
      expect(await page.content()).not.toContain(secret);

      const [made] = await listed();
      expect(made).toMatchObject({
        name: 'CRM sync',
        url: `${receiver.url}/crm`,
        method: 'PUT',
        events: ['flow.completed', 'flow.failed'],
        auth: { type: 'basic', username: 'hookflow', has_password: true },
        is_default: false,
        enabled: true,
      });
      expect(JSON.stringify(made)).not.toContain(secret);
      const row = await shown(page.locator(`tr[data-endpoint-id="${made.id}"]`));
      expect(await row.textContent()).toContain('flow.completed, flow.failed');
      await shown(page.getByText('Endpoint “CRM sync” created'));
      await screenshot(page, 'endpoints');

      // Check from the saved endpoint: the ping is signed with the secret that was shown, and the
      // stored password is used without the form ever having it.
      receiver.received.length = 0;
      await row.getByRole('button', { name: 'Edit CRM sync' }).click();
      const edit = page.getByRole('form', { name: 'Edit “CRM sync”' });
      expect(await edit.getByLabel('Password').inputValue()).toBe('');
      await edit.getByRole('button', { name: 'Check' }).click();
      await shown(edit.getByRole('status').filter({ hasText: 'Answered 200 in' }));
      const signed = await eventually(() => receiver.received[0], 10_000, 'the signed ping');
      const payload = new Webhook(secret).verify(signed.body, headersOf(signed)) as { event_type: string };
      expect(payload.event_type).toBe('ping');
      expect(signed.headers.authorization).toBe(
        `Basic ${Buffer.from('hookflow:pa55-word').toString('base64')}`,
      );
      await edit.getByRole('button', { name: 'Cancel' }).click();
      await edit.waitFor({ state: 'hidden' });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Check shows the error when the receiver is down or answers 500',
    async () => {
      const page = await endpointsPage();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const form = page.getByRole('form', { name: 'New webhook' });
      await form.getByLabel('Name', { exact: true }).fill('Flaky');

      answer = { status: 500, body: '{"error":"down"}' };
      await form.getByLabel('URL', { exact: true }).fill(`${receiver.url}/flaky`);
      await form.getByRole('button', { name: 'Check' }).click();
      const failed = await shown(form.getByRole('alert').filter({ hasText: 'Answered 500' }));
      expect(await failed.textContent()).toContain('a webhook URL must answer 2xx');
      expect(await form.getByRole('img', { name: 'Check passed' }).count()).toBe(0);
      expect(receiver.received).toHaveLength(1);

      // Nothing listens on this port: the check says it could not reach it.
      const port = await freePort();
      await form.getByLabel('URL', { exact: true }).fill(`http://127.0.0.1:${port}/hook`);
      // Editing the URL clears the previous result.
      await form.getByRole('alert').waitFor({ state: 'detached' });
      await form.getByRole('button', { name: 'Check' }).click();
      await shown(form.getByRole('alert').filter({ hasText: `Could not reach 127.0.0.1:${port}` }));

      await form.getByRole('button', { name: 'Cancel' }).click();
      await shown(page.getByRole('heading', { name: 'No endpoints yet' }));
      expect(await listed()).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "the form shows the API's error for a bad URL and creates nothing",
    async () => {
      const page = await endpointsPage();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const form = page.getByRole('form', { name: 'New webhook' });
      await form.getByLabel('Name', { exact: true }).fill('Bad URL');
      await form.getByLabel('URL', { exact: true }).fill('ftp://files.example.com/drop');

      await form.getByRole('button', { name: 'Check' }).click();
      await shown(form.getByRole('alert').filter({ hasText: 'Only http and https URLs can be called' }));

      await form.getByRole('button', { name: 'Create' }).click();
      const error = await shown(form.locator('.form-error'));
      expect(await error.textContent()).toBe(
        'Invalid body: url: Only http and https URLs can be called (got ftp:)',
      );
      // The form stays open with what was typed; nothing was made.
      expect(await form.getByLabel('Name', { exact: true }).inputValue()).toBe('Bad URL');
      expect(await listed()).toEqual([]);
      await screenshot(page, 'endpoint-form-error');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'rotate secret shows a new secret once',
    async () => {
      const ep = await createByApi({ name: 'Rotated' });
      const page = await endpointsPage();
      const row = await shown(page.locator(`tr[data-endpoint-id="${ep.id}"]`));
      await row.getByRole('button', { name: 'Rotate secret of Rotated' }).click();
      const confirm = await shown(page.getByRole('dialog', { name: 'Rotate signing secret' }));
      await confirm.getByRole('button', { name: 'Rotate secret' }).click();

      const dialog = await shown(page.getByRole('dialog', { name: 'New signing secret of “Rotated”' }));
      await shown(dialog.getByText('you will not see this secret again'));
      expect(await dialog.textContent()).toContain('signed with both the new and the old secret until');
      const secret = (await dialog.locator('.secret-value').textContent()) ?? '';
      expect(secret).toMatch(/^whsec_/);
      expect(secret).not.toBe(ep.signing_secret);
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect(await page.content()).not.toContain(secret);

      // The endpoint now signs with the new secret (and the old one, for 24 h).
      const check = await t.api('POST', '/api/v1/endpoints/check', {
        url: `${receiver.url}/hook`,
        endpoint_id: ep.id,
      });
      expect(check.body.ok).toBe(true);
      const got = receiver.received[0];
      expect(new Webhook(secret).verify(got.body, headersOf(got))).toMatchObject({ event_type: 'ping' });
      expect(new Webhook(ep.signing_secret).verify(got.body, headersOf(got))).toMatchObject({
        event_type: 'ping',
      });
      expect((await listed())[0].previous_secret_expires_at).not.toBeNull();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "edit an endpoint's events and default toggle",
    async () => {
      const first = await createByApi({ name: 'First', is_default: true });
      const second = await createByApi({ name: 'Second', events: ['*'] });
      const page = await endpointsPage();
      const firstRow = await shown(page.locator(`tr[data-endpoint-id="${first.id}"]`));
      const secondRow = page.locator(`tr[data-endpoint-id="${second.id}"]`);
      await shown(firstRow.locator('.badge-default'));
      expect(await secondRow.textContent()).toContain('All events');

      await secondRow.getByRole('button', { name: 'Edit Second' }).click();
      const form = page.getByRole('form', { name: 'Edit “Second”' });
      await form.getByLabel('All events').uncheck();
      await form.getByLabel('run.started').check();
      await form.getByLabel('Another event type').fill('order.created');
      await form.getByRole('button', { name: 'Add', exact: true }).click();
      await form.getByRole('switch', { name: 'Default endpoint' }).check();
      await form.getByRole('button', { name: 'Save' }).click();
      await shown(page.getByText('Endpoint “Second” saved'));
      await form.waitFor({ state: 'detached' });

      const byId = new Map((await listed()).map((e) => [e.id, e]));
      expect(byId.get(second.id)).toMatchObject({
        events: ['run.started', 'order.created'],
        is_default: true,
      });
      // Only one default: the other one lost it.
      expect(byId.get(first.id)).toMatchObject({ is_default: false });
      await shown(secondRow.locator('.badge-default'));
      expect(await firstRow.locator('.badge-default').count()).toBe(0);
      expect(await secondRow.textContent()).toContain('run.started, order.created');

      // The on/off switch in the list.
      await firstRow.getByRole('switch', { name: 'Enabled: First' }).click();
      await shown(page.getByText('“First” disabled'));
      expect(byIdOf(await listed(), first.id).enabled).toBe(false);

      // Delete asks first.
      await firstRow.getByRole('button', { name: 'Delete First' }).click();
      const confirm = await shown(page.getByRole('dialog', { name: 'Delete endpoint' }));
      expect((await listed()).length).toBe(2);
      await confirm.getByRole('button', { name: 'Delete endpoint' }).click();
      await shown(page.getByText('Endpoint “First” deleted'));
      await firstRow.waitFor({ state: 'detached' });
      expect((await listed()).map((e) => e.id)).toEqual([second.id]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('Webhook Settings: max in flight and the circuit breaker', () => {
  let t: TestApp;
  let browser: Browser;
  let receiver: Receiver;
  const contexts: BrowserContext[] = [];
  let pageErrors: string[] = [];

  beforeAll(async () => {
    await requireBuiltUi();
    // A delivery worker, a long first cool-down (so the open circuit stays open while the test
    // looks at it) and the receiver on 127.0.0.1, which the SSRF guard refuses unless allowed.
    t = await startTestApp({
      worker: true,
      delivery: { pollMs: 50 },
      env: {
        HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32',
        HOOKFLOW_CIRCUIT_FAILURES: '5',
        HOOKFLOW_CIRCUIT_COOLDOWN_S: '300',
      },
    });
    receiver = await startReceiver((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"down"}');
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver?.close();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    for (const ep of (await t.api('GET', '/api/v1/endpoints')).body.data as any[])
      await t.api('DELETE', `/api/v1/endpoints/${ep.id}`);
    const errors = pageErrors;
    pageErrors = [];
    expect(errors).toEqual([]);
  });

  const endpointsPage = async (): Promise<Page> => {
    const opened = await openSignedIn(browser, t.url, t.adminKey, 'Webhook Settings');
    contexts.push(opened.context);
    pageErrors = opened.errors;
    await opened.page.waitForFunction(() => !document.body.textContent?.includes('Loading endpoints'));
    return opened.page;
  };
  const endpointOf = async (id: string) => {
    const r = await t.api('GET', `/api/v1/endpoints/${id}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };

  it(
    'max in flight: set to 3 in the create form, shown again after a reload, 0 refused with a message',
    async () => {
      const page = await endpointsPage();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const form = page.getByRole('form', { name: 'New webhook' });
      await form.getByLabel('Name', { exact: true }).fill('Limited');
      await form.getByLabel('URL', { exact: true }).fill(`${receiver.url}/limited`);
      const maxInFlight = form.getByLabel('Max in flight');
      expect(await maxInFlight.inputValue()).toBe('10');
      await shown(form.getByText('attempts sent to this endpoint at the same time, per worker process'));

      // 0 is refused in the form: a clear message, the field marked, nothing made.
      await maxInFlight.fill('0');
      await form.getByRole('button', { name: 'Create' }).click();
      const error = await shown(form.locator('.form-error'));
      expect(await error.textContent()).toBe('Max in flight must be a whole number from 1 to 1000');
      expect(await maxInFlight.getAttribute('aria-invalid')).toBe('true');
      expect((await t.api('GET', '/api/v1/endpoints')).body.data).toEqual([]);

      await maxInFlight.fill('3');
      await form.getByRole('button', { name: 'Create' }).click();
      const dialog = await shown(page.getByRole('dialog', { name: 'Signing secret of “Limited”' }));
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'hidden' });
      const [made] = (await t.api('GET', '/api/v1/endpoints')).body.data as any[];
      expect(made).toMatchObject({ name: 'Limited', max_in_flight: 3 });
      expect((await endpointOf(made.id)).max_in_flight).toBe(3);

      // After a reload the edit form shows the stored 3; an edit to 25 is saved.
      await page.reload();
      await shown(page.getByRole('heading', { name: 'Webhook Settings', level: 1 }));
      const row = await shown(page.locator(`tr[data-endpoint-id="${made.id}"]`));
      await row.getByRole('button', { name: 'Edit Limited' }).click();
      const edit = page.getByRole('form', { name: 'Edit “Limited”' });
      expect(await edit.getByLabel('Max in flight').inputValue()).toBe('3');
      await edit.getByLabel('Max in flight').fill('1001');
      await edit.getByRole('button', { name: 'Save' }).click();
      await shown(edit.locator('.form-error').filter({ hasText: 'from 1 to 1000' }));
      expect((await endpointOf(made.id)).max_in_flight).toBe(3);
      await edit.getByLabel('Max in flight').fill('25');
      await edit.getByRole('button', { name: 'Save' }).click();
      await shown(page.getByText('Endpoint “Limited” saved'));
      expect((await endpointOf(made.id)).max_in_flight).toBe(25);

      // The API itself refuses a bad value with a 400 naming the field.
      const bad = await t.api('PATCH', `/api/v1/endpoints/${made.id}`, { max_in_flight: 0 });
      expect(bad.status).toBe(400);
      expect(bad.body.msg).toContain('max_in_flight');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'failed attempts show as recent failures, then the page follows the circuit to open with its retry time',
    async () => {
      const made = await t.api('POST', '/api/v1/endpoints', {
        name: 'Broken',
        url: `${receiver.url}/broken`,
        // The first attempt at once, the retries far away: each event is one failed attempt.
        retry_schedule: [0, 3600],
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      const id = made.body.id as string;
      const publish = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const r = await t.api('POST', '/api/v1/events', { event_type: 'order.created', data: { i } });
          expect(r.status, JSON.stringify(r.body)).toBe(202);
        }
      };

      // Two failures: the circuit is still closed, the row says so quietly.
      await publish(2);
      await eventually(
        async () => (await endpointOf(id)).circuit.consecutive_failures === 2,
        20_000,
        'two failed attempts',
      );
      expect((await endpointOf(id)).circuit).toEqual({
        state: 'closed',
        consecutive_failures: 2,
        until: null,
      });
      const page = await endpointsPage();
      const row = await shown(page.locator(`tr[data-endpoint-id="${id}"]`));
      const failing = await shown(row.locator('.circuit-failing'));
      expect(await failing.textContent()).toBe('2 recent failures');
      expect(await row.locator('.circuit-open').count()).toBe(0);

      // Three more: the fifth failure in a row opens the circuit.
      await publish(3);
      const open = await eventually(
        async () => {
          const ep = await endpointOf(id);
          return ep.circuit.state === 'open' ? ep : undefined;
        },
        20_000,
        'the circuit open',
      );
      expect(open.circuit.consecutive_failures).toBe(5);
      expect(new Date(open.circuit.until).getTime()).toBeGreaterThan(Date.now());
      expect(receiver.received).toHaveLength(5);

      // The page is polling while failures add up: the badge appears without a reload.
      const badge = await shown(row.locator('.circuit-open'));
      expect(await badge.locator('.circuit-badge').textContent()).toBe('Circuit open');
      expect(await badge.locator('time').getAttribute('datetime')).toBe(open.circuit.until);
      const clock = await page.evaluate(
        (iso) => new Date(iso).toLocaleTimeString(undefined, { timeStyle: 'medium' }),
        open.circuit.until as string,
      );
      const when = (await badge.locator('.circuit-when').textContent()) ?? '';
      expect(when.startsWith(`retries at ${clock} (in `), when).toBe(true);
      expect(when).toMatch(/\(in (\d+ s|\d+ min( \d+ s)?)\)$/);
      expect(await badge.getAttribute('title')).toContain('waiting uses none of their attempts');
      expect(await row.locator('.circuit-failing').count()).toBe(0);
      await screenshot(page, 'endpoint-circuit-open');

      // The edit panel shows it too, with the explanation written out.
      await row.getByRole('button', { name: 'Edit Broken' }).click();
      const edit = page.getByRole('form', { name: 'Edit “Broken”' });
      const detail = await shown(edit.locator('.circuit-detail'));
      await shown(detail.getByText('Circuit open'));
      expect(await detail.textContent()).toContain('5 failed attempts in a row so far.');
      expect(await detail.locator('time').getAttribute('datetime')).toBe(open.circuit.until);
      await screenshot(page, 'endpoint-circuit-edit');
      await edit.getByRole('button', { name: 'Cancel' }).click();

      // Waiting on the open circuit sent nothing more.
      expect(receiver.received).toHaveLength(5);
    },
    TEST_TIMEOUT_MS,
  );
});

function byIdOf(all: any[], id: string) {
  return all.find((e) => e.id === id);
}
