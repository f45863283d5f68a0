/**
 * Provider presets in the webhook panel, in a real browser (Chromium, see helpers/chromium.ts) against
 * a real Hookflow app on 127.0.0.1 with a worker (docs/api.md §3.10): the searchable provider list,
 * the steps and the URL to give the provider, the secret pasted into a credential made inline, and
 * then a request signed as the provider signs it (Slack's published v0 scheme, twilio's own
 * library) reaching a run, its handshake answered without one, a repeated delivery dropped.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import twilio from 'twilio';
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

describe('Provider presets in the webhook panel, in Chromium', () => {
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

  /** A flow with one webhook node, made through the API; the canvas opened on it, the node selected. */
  const openWebhookNode = async (name: string) => {
    const res = await t.api('POST', '/api/v1/flows', {
      name,
      nodes: [{ id: 'webhook_1', type: 'webhook', position: { x: 0, y: 0 }, config: { methods: ['POST'] } }],
      edges: [],
    });
    expect(res.status, res.text).toBe(201);
    const flow = res.body as { id: string; webhooks: { url: string }[] };
    const opened = await openSignedIn(browser, t.url, t.adminKey, 'Flows');
    contexts.push(opened.context);
    pageErrors = opened.errors;
    const page = opened.page;
    await page.getByRole('link', { name, exact: true }).click();
    await shown(page.getByRole('application', { name: 'Flow canvas' }));
    await page.getByTestId('node-webhook_1').click();
    const panel = page.getByRole('complementary', { name: 'Settings of webhook_1' });
    return { page, panel, flow, url: flow.webhooks[0]?.url as string };
  };

  /** Save keeps a draft: publish it too, so the live flow has what the canvas shows. */
  const save = async (page: Page) => {
    await saveAndPublish(page);
  };

  const runsOf = async (flowId: string) =>
    (await t.api('GET', `/api/v1/runs?flow_id=${flowId}`)).body.data as { id: string; status: string }[];

  /** Chooses a provider from the panel's list by typing part of its name. */
  const choosePreset = async (panel: ReturnType<Page['getByRole']>, search: string, name: string) => {
    const provider = panel.getByRole('region', { name: 'Provider' });
    await provider.getByLabel('Receive from a provider').fill(search);
    const list = provider.getByRole('list', { name: 'Providers' });
    await expect.poll(() => list.getByRole('button').count()).toBe(1);
    await list.getByRole('button', { name: new RegExp(`^${name}`) }).click();
    await shown(provider.getByTestId('preset-name'));
    expect(await provider.getByTestId('preset-name').textContent()).toBe(name);
    return provider;
  };

  /** Pastes the secret into the inline form and creates the credential; returns it as the API lists it. */
  const createInline = async (
    page: Page,
    provider: ReturnType<Page['getByRole']>,
    fields: Record<string, string>,
  ) => {
    for (const [label, value] of Object.entries(fields))
      await provider.getByLabel(label, { exact: true }).fill(value);
    await provider.getByRole('button', { name: 'Create credential' }).click();
    await shown(page.getByText(/^Credential “.*” saved; save the flow to use it$/));
    return (await t.api('GET', '/api/v1/credentials')).body.data as {
      id: string;
      type: string;
      hint: string;
    }[];
  };

  it(
    'the provider list filters as one types, and a search that matches nothing says so',
    async () => {
      const { page, panel } = await openWebhookNode('Provider search');
      const provider = panel.getByRole('region', { name: 'Provider' });
      const list = provider.getByRole('list', { name: 'Providers' });
      await expect.poll(() => list.getByRole('button').count()).toBe(15);
      await provider.getByLabel('Receive from a provider').fill('graph');
      await expect.poll(() => list.getByRole('button').count()).toBe(1);
      await shown(list.getByRole('button', { name: /^Microsoft Graph/ }));
      await provider.getByLabel('Receive from a provider').fill('no such provider');
      await shown(provider.getByText('No provider matches “no such provider”.'));
      await screenshot(page, 'preset-search');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Slack end to end: chosen from the list, secret pasted into a new credential, url_verification answered without a run, a signed event reaches a run once',
    async () => {
      const { page, panel, flow, url } = await openWebhookNode('Slack events');
      const provider = await choosePreset(panel, 'sla', 'Slack');
      // The steps name where the URL and the secret go; the URL to paste is the node's.
      const steps = await provider.getByRole('list', { name: 'Setting up Slack' }).textContent();
      expect(steps).toContain('Signing Secret');
      expect(steps).toContain('Request URL');
      expect(await provider.getByTestId('provider-url').textContent()).toBe(url);

      const signingSecret = `slack_${randomBytes(16).toString('hex')}`;
      const creds = await createInline(page, provider, { 'Signing secret': signingSecret });
      const cred = creds.find((c) => c.type === 'slack');
      expect(cred?.hint).toBe(`…${signingSecret.slice(-4)}`);
      expect(await page.content()).not.toContain(signingSecret);
      await screenshot(page, 'preset-slack');
      await save(page);

      const saved = (await t.api('GET', `/api/v1/flows/${flow.id}`)).body;
      expect(saved.nodes[0].config).toMatchObject({
        preset: 'slack',
        auth: { type: 'slack', credential_id: cred?.id },
      });

      // Signed as Slack documents it: v0=hex HMAC-SHA256 of "v0:{timestamp}:{body}".
      const signed = (body: string, key = signingSecret) => {
        const ts = String(Math.floor(Date.now() / 1000));
        return fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-slack-request-timestamp': ts,
            'x-slack-signature': `v0=${createHmac('sha256', key).update(`v0:${ts}:${body}`).digest('hex')}`,
          },
          body,
        });
      };

      const challenge = await signed(
        JSON.stringify({ token: 'x', challenge: 'ch4ll3nge-from-slack', type: 'url_verification' }),
      );
      expect(challenge.status).toBe(200);
      expect(await challenge.json()).toEqual({ challenge: 'ch4ll3nge-from-slack' });

      const wrong = await signed(
        JSON.stringify({ type: 'event_callback', event_id: 'Ev0' }),
        'not-the-secret',
      );
      expect(wrong.status).toBe(401);

      const event = JSON.stringify({
        type: 'event_callback',
        event_id: 'Ev08MFMKH6',
        event: { type: 'app_mention', text: 'hello hookflow' },
      });
      expect((await signed(event)).status).toBe(200);
      await eventually(async () => (await runsOf(flow.id))[0]?.status === 'succeeded', 10_000, 'the run');
      const [run] = await runsOf(flow.id);
      const detail = (await t.api('GET', `/api/v1/runs/${run?.id}`)).body;
      expect(detail.trigger.body.event.text).toBe('hello hookflow');

      // Slack retries the same event_id: answered like the first, no second run.
      const again = await signed(event);
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await runsOf(flow.id)).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "Twilio end to end: chosen from the list, auth token pasted into a new credential, a form post signed by twilio's library reaches a run",
    async () => {
      const { page, panel, flow, url } = await openWebhookNode('Twilio SMS');
      const provider = await choosePreset(panel, 'twil', 'Twilio');
      expect(await provider.getByRole('list', { name: 'Setting up Twilio' }).textContent()).toContain(
        'PUBLIC_URL',
      );
      expect(await provider.getByTestId('provider-url').textContent()).toBe(url);
      const authToken = randomBytes(16).toString('hex');
      const creds = await createInline(page, provider, { 'Auth token': authToken });
      const cred = creds.find((c) => c.type === 'twilio');
      expect(cred).toBeDefined();
      await save(page);
      expect((await t.api('GET', `/api/v1/flows/${flow.id}`)).body.nodes[0].config).toMatchObject({
        preset: 'twilio',
        auth: { type: 'twilio', credential_id: cred?.id },
      });

      const params = {
        MessageSid: 'SM1234567890',
        From: '+15551234567',
        To: '+15557654321',
        Body: 'Hi there',
      };
      const post = (signature: string) =>
        fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': signature,
            'i-twilio-idempotency-token': 'idem-1',
          },
          body: new URLSearchParams(params).toString(),
        });
      expect((await post(twilio.getExpectedTwilioSignature('wrong-token', url, params))).status).toBe(401);
      expect(await runsOf(flow.id)).toHaveLength(0);

      const ok = await post(twilio.getExpectedTwilioSignature(authToken, url, params));
      expect(ok.status).toBe(200);
      await eventually(async () => (await runsOf(flow.id))[0]?.status === 'succeeded', 10_000, 'the run');
      const [run] = await runsOf(flow.id);
      const detail = (await t.api('GET', `/api/v1/runs/${run?.id}`)).body;
      expect(detail.trigger.body).toMatchObject({ Body: 'Hi there', From: '+15551234567' });
      await screenshot(page, 'preset-twilio');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'an existing credential of the provider type is picked on choosing the preset, and No provider removes the preset',
    async () => {
      const made = await t.api('POST', '/api/v1/credentials', {
        name: 'Our GitHub secret',
        type: 'github',
        data: { secret: randomBytes(16).toString('hex') },
      });
      expect(made.status).toBe(201);
      try {
        const { page, panel, flow } = await openWebhookNode('GitHub pushes');
        const provider = await choosePreset(panel, 'github', 'GitHub');
        await expect.poll(() => provider.getByLabel('GitHub credential').inputValue()).toBe(made.body.id);
        await save(page);
        expect((await t.api('GET', `/api/v1/flows/${flow.id}`)).body.nodes[0].config).toMatchObject({
          preset: 'github',
          auth: { type: 'github', credential_id: made.body.id },
        });
        await provider.getByRole('button', { name: 'No provider' }).click();
        await shown(provider.getByLabel('Receive from a provider'));
        await save(page);
        const config = (await t.api('GET', `/api/v1/flows/${flow.id}`)).body.nodes[0].config;
        expect(config.preset).toBeUndefined();
        expect(config.auth).toMatchObject({ type: 'github', credential_id: made.body.id });
      } finally {
        await t.api('DELETE', `/api/v1/credentials/${made.body.id}`);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
