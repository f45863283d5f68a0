import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailer, type MailLogger, runNotification } from './mailer.ts';

type Received = { from: string; to: string[]; raw: string; user?: string };

type TestServer = {
  server: SMTPServer;
  port: number;
  url: string;
  received: Received[];
  rcptCalls: number;
};

async function startServer(opts: { rejectFirstRcpt?: boolean; auth?: { user: string; pass: string } } = {}) {
  const state: TestServer = {
    server: null as unknown as SMTPServer,
    port: 0,
    url: '',
    received: [],
    rcptCalls: 0,
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) {
        cb(null, { user: auth.username });
      } else {
        cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onRcptTo(_address, _session, cb) {
      state.rcptCalls++;
      if (opts.rejectFirstRcpt && state.rcptCalls === 1) {
        cb(Object.assign(new Error('Mailbox temporarily unavailable'), { responseCode: 550 }));
        return;
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        state.received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // smtp-server keeps the net.Server on `.server`
  const address = (server as unknown as { server: net.Server }).server.address() as net.AddressInfo;
  state.server = server;
  state.port = address.port;
  state.url = `smtp://127.0.0.1:${address.port}`;
  return state;
}

function closeServer(s: TestServer | undefined): Promise<void> {
  return new Promise((resolve) => (s ? s.server.close(() => resolve()) : resolve()));
}

async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Undo quoted-printable so assertions see the text as written (tests only use ASCII). */
function decodeQp(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

/** The value of one header, unfolded, with RFC 2047 encoded-words decoded. */
function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (line === undefined) return undefined;
  return line
    .slice(name.length + 1)
    .trim()
    .replace(/\?=\s+=\?/g, '?==?') // whitespace between adjacent encoded-words is not content
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _charset: string, enc: string, data: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : Buffer.from(
            data
              .replace(/_/g, ' ')
              .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
}

function recordingLog() {
  const lines: { level: 'info' | 'warn' | 'error'; o: unknown; m?: string }[] = [];
  const log: MailLogger = {
    info: (o, m) => lines.push({ level: 'info', o, m }),
    warn: (o, m) => lines.push({ level: 'warn', o, m }),
    error: (o, m) => lines.push({ level: 'error', o, m }),
  };
  return { log, lines };
}

const sample = {
  flowName: 'Orders',
  flowId: 'flw_123',
  runId: 'run_abc123',
  status: 'failed' as const,
  error: 'http step "charge" answered 502',
  publicUrl: 'https://hooks.example.com/',
  startedAt: new Date('2025-01-01T10:00:00Z'),
  finishedAt: new Date('2025-01-01T10:00:02.5Z'),
};

describe('runNotification', () => {
  it('builds subject, text and html with flow, run, status, error and link', () => {
    const n = runNotification(sample);
    expect(n.subject).toBe('[Hookflow] Flow "Orders" failed (run run_abc123)');
    for (const body of [n.text, n.html]) {
      expect(body).toContain('Orders');
      expect(body).toContain('run_abc123');
      expect(body).toContain('failed');
      expect(body).toContain('https://hooks.example.com/runs/run_abc123');
    }
    expect(n.text).toContain('http step "charge" answered 502');
    expect(n.html).toContain('http step &quot;charge&quot; answered 502');
    expect(n.text).toContain('Duration: 2.5 s');
  });

  it('leaves the error out when there is none', () => {
    const n = runNotification({
      ...sample,
      status: 'succeeded',
      error: null,
      startedAt: null,
      finishedAt: null,
    });
    expect(n.subject).toBe('[Hookflow] Flow "Orders" succeeded (run run_abc123)');
    expect(n.text).not.toContain('Error');
    expect(n.html).not.toContain('Error');
  });

  it('HTML-escapes user strings and keeps the subject on one line', () => {
    const n = runNotification({
      ...sample,
      flowName: '<script>alert("x")</script>\r\nBcc: evil@example.com',
      error: '<img src=x onerror=alert(1)> & more',
    });
    expect(n.html).not.toContain('<script>');
    expect(n.html).not.toContain('<img');
    expect(n.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(n.html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; more');
    expect(n.subject).not.toMatch(/[\r\n]/);
    // the plain-text part is not HTML, so it carries the name as written
    expect(n.text).toContain('<script>alert("x")</script>');
  });
});

describe('Mailer with a real SMTP server', () => {
  let ok: TestServer;
  let flaky: TestServer;
  let authed: TestServer;

  beforeAll(async () => {
    ok = await startServer();
    flaky = await startServer({ rejectFirstRcpt: true });
    authed = await startServer({ auth: { user: 'hook', pass: 's3cr3t-pw' } });
  });

  afterAll(async () => {
    await Promise.all([closeServer(ok), closeServer(flaky), closeServer(authed)]);
  });

  it('delivers a run notification with the right recipients, subject and body', async () => {
    const mailer = new Mailer({ smtpUrl: ok.url, retryDelaysMs: [10, 10] });
    const n = runNotification(sample);
    const before = ok.received.length;
    await expect(mailer.send({ to: ['ops@example.com', 'dev@example.com'], ...n })).resolves.toBe(true);
    await mailer.close();

    expect(ok.received.length).toBe(before + 1);
    const got = ok.received[ok.received.length - 1]!;
    expect(got.to).toEqual(['ops@example.com', 'dev@example.com']);
    expect(got.from).toBe('hookflow@localhost');
    expect(header(got.raw, 'Subject')).toBe('[Hookflow] Flow "Orders" failed (run run_abc123)');
    expect(header(got.raw, 'To')).toBe('ops@example.com, dev@example.com');
    expect(header(got.raw, 'From')).toBe('Hookflow <hookflow@localhost>');
    const raw = decodeQp(got.raw);
    expect(raw).toContain('multipart/alternative');
    expect(raw).toContain('run_abc123');
    expect(raw).toContain('Status: failed');
    expect(raw).toContain('http step "charge" answered 502');
    expect(raw).toContain('https://hooks.example.com/runs/run_abc123');
    expect(raw).toContain('<a href="https://hooks.example.com/runs/run_abc123">');
  });

  it('takes the sender from ?from= and authenticates with the URL credentials', async () => {
    const from = encodeURIComponent('Alerts <alerts@example.com>');
    const mailer = new Mailer({ smtpUrl: `smtp://hook:s3cr3t-pw@127.0.0.1:${authed.port}?from=${from}` });
    await expect(mailer.send({ to: ['a@example.com'], subject: 'hi', text: 'hello' })).resolves.toBe(true);
    await mailer.close();
    const got = authed.received[authed.received.length - 1]!;
    expect(got.user).toBe('hook');
    expect(got.from).toBe('alerts@example.com');
    expect(header(got.raw, 'From')).toBe('Alerts <alerts@example.com>');
  });

  it('never logs the password when authentication fails', async () => {
    const { log, lines } = recordingLog();
    const sleeps: number[] = [];
    const mailer = new Mailer({
      smtpUrl: `smtp://hook:wrong-pw-XYZ@127.0.0.1:${authed.port}`,
      retryDelaysMs: [10],
      log,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    await expect(mailer.send({ to: ['a@example.com'], subject: 'hi', text: 'hello' })).resolves.toBe(false);
    await mailer.close();
    expect(sleeps).toEqual([10]);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain('wrong-pw-XYZ');
    expect(errors[0]!.o).toMatchObject({ recipients: 1, attempts: 2 });
  });

  it('retries after a rejected attempt and delivers on the retry', async () => {
    const { log, lines } = recordingLog();
    const sleeps: number[] = [];
    const mailer = new Mailer({
      smtpUrl: flaky.url,
      retryDelaysMs: [10, 10],
      log,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    await expect(mailer.send({ to: ['ops@example.com'], ...runNotification(sample) })).resolves.toBe(true);
    await mailer.close();
    expect(sleeps).toEqual([10]);
    expect(flaky.rcptCalls).toBe(2);
    expect(flaky.received).toHaveLength(1);
    expect(flaky.received[0]!.to).toEqual(['ops@example.com']);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(0);
  });

  it('enqueue() returns at once and close() waits for the pending send', async () => {
    const mailer = new Mailer({ smtpUrl: ok.url });
    const before = ok.received.length;
    mailer.enqueue({ to: ['q@example.com'], subject: 'queued', text: 'body' });
    expect(mailer.pendingCount).toBe(1);
    await mailer.close();
    expect(mailer.pendingCount).toBe(0);
    expect(ok.received.length).toBe(before + 1);
    expect(ok.received[ok.received.length - 1]!.to).toEqual(['q@example.com']);
  });
});

describe('Mailer failure modes', () => {
  it('a dead SMTP server → false after the configured retries, without throwing', async () => {
    const port = await deadPort();
    const { log, lines } = recordingLog();
    const sleeps: number[] = [];
    const mailer = new Mailer({
      smtpUrl: `smtp://user:hunter2pw@127.0.0.1:${port}`,
      retryDelaysMs: [10, 10],
      log,
      sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((r) => setTimeout(r, ms));
      },
    });
    const result = await mailer.send({ to: ['a@example.com', 'b@example.com'], ...runNotification(sample) });
    expect(result).toBe(false);
    expect(sleeps).toEqual([10, 10]);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(2);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.o).toMatchObject({ recipients: 2, attempts: 3, code: 'ESOCKET' });
    expect(String((errors[0]!.o as { reason: string }).reason)).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify(lines)).not.toContain('hunter2pw');
    await mailer.close();
  });

  it('close() is bounded while a send is stuck in its retry schedule', async () => {
    const port = await deadPort();
    const mailer = new Mailer({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      retryDelaysMs: [60_000],
      sleep: () => new Promise((r) => setTimeout(r, 200)), // stands in for the long delay
    });
    const p = mailer.send({ to: ['a@example.com'], subject: 's', text: 't' });
    const t0 = Date.now();
    await mailer.close(50);
    expect(Date.now() - t0).toBeLessThan(1000);
    // once closed, the pending send gives up instead of retrying
    await expect(p).resolves.toBe(false);
  });

  it('no smtpUrl → send resolves false without network and logs once at info', async () => {
    const { log, lines } = recordingLog();
    const mailer = new Mailer({ log });
    expect(mailer.enabled).toBe(false);
    await expect(mailer.send({ to: ['a@example.com'], subject: 's', text: 't' })).resolves.toBe(false);
    await expect(mailer.send({ to: ['b@example.com'], subject: 's', text: 't' })).resolves.toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('info');
    await mailer.close();
  });

  it('an unparseable SMTP_URL disables mail instead of throwing', async () => {
    const { log, lines } = recordingLog();
    const mailer = new Mailer({ smtpUrl: 'smtp://', log });
    expect(mailer.enabled).toBe(false);
    await expect(mailer.send({ to: ['a@example.com'], subject: 's', text: 't' })).resolves.toBe(false);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });

  it('no recipients → false without network', async () => {
    const { log, lines } = recordingLog();
    const mailer = new Mailer({ smtpUrl: 'smtp://127.0.0.1:1', log });
    await expect(mailer.send({ to: [' '], subject: 's', text: 't' })).resolves.toBe(false);
    expect(lines.map((l) => l.level)).toEqual(['warn']);
  });
});
