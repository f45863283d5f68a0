import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailer } from '../src/notify/mailer.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { eventually } from './helpers/receiver.ts';
import { startSmtp } from './helpers/smtp.ts';

async function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const failingFlow = (notify: Record<string, string[]>) => ({
  name: 'Orders notify',
  nodes: [
    { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
    { id: 'fail_1', type: 'fail', config: { message: 'out of stock' } },
  ],
  edges: [{ from: 'webhook_1', to: 'fail_1' }],
  settings: { notify },
});

describe('run notifications by e-mail', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let t: TestApp;
  beforeAll(async () => {
    smtp = await startSmtp();
    t = await startTestApp({
      worker: { pollMs: 100 },
      env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, PUBLIC_URL: 'https://hooks.example.test' },
    });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  it('a failed run mails the on_failure addresses with flow name, run id, status, error and a link', async () => {
    const f = await t.api('POST', '/api/v1/flows', failingFlow({ on_failure: ['ops@example.com'] }));
    const ack = await (
      await fetch(`${t.url}/hooks/default/${f.body.id}`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      })
    ).json();
    const mail = await eventually(
      () => smtp.mails.find((m) => m.raw.includes(ack.run_id)),
      15_000,
      'notification mail',
    );
    expect(mail.to).toEqual(['ops@example.com']);
    const raw = mail.raw.replace(/=\r?\n/g, '');
    expect(raw).toContain('Orders notify');
    expect(raw).toContain('failed');
    expect(raw).toContain('out of stock');
    expect(raw).toContain(`https://hooks.example.test/runs/${ack.run_id}`);
  });

  it('a succeeded run mails on_success only', async () => {
    const f = await t.api('POST', '/api/v1/flows', {
      name: 'quiet',
      nodes: [{ id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } }],
      edges: [],
      settings: { notify: { on_failure: ['ops@example.com'], on_success: ['sales@example.com'] } },
    });
    const ack = await (
      await fetch(`${t.url}/hooks/default/${f.body.id}`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      })
    ).json();
    const mail = await eventually(
      () => smtp.mails.find((m) => m.raw.includes(ack.run_id)),
      15_000,
      'success mail',
    );
    expect(mail.to).toEqual(['sales@example.com']);
  });
});

describe('a dead SMTP server', () => {
  it('never fails or blocks the run: runs end normally and the worker keeps going', async () => {
    const port = await deadPort();
    const mailer = new Mailer({ smtpUrl: `smtp://127.0.0.1:${port}`, retryDelaysMs: [20, 20] });
    const t = await startTestApp({ worker: { pollMs: 100 }, mailer });
    try {
      const f = await t.api('POST', '/api/v1/flows', {
        name: 'mail down',
        nodes: [
          { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
          { id: 'set_1', type: 'set', config: { values: { 'vars.ok': true } } },
        ],
        edges: [{ from: 'webhook_1', to: 'set_1' }],
        settings: { notify: { on_success: ['ops@example.com'] } },
      });
      for (let i = 0; i < 3; i++) {
        const ack = await (
          await fetch(`${t.url}/hooks/default/${f.body.id}`, {
            method: 'POST',
            body: '{}',
            headers: { 'content-type': 'application/json' },
          })
        ).json();
        const run = await eventually(async () => {
          const r = await t.api('GET', `/api/v1/runs/${ack.run_id}`);
          return r.body.status === 'succeeded' ? r.body : undefined;
        }, 10_000);
        expect(run.vars).toEqual({ ok: true });
      }
    } finally {
      await t.close();
    }
  });
});
