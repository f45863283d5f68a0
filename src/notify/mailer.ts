/**
 * E-mail notifications (docs/api.md §4.5 "Notifications") over SMTP with nodemailer.
 *
 * Mail is a side channel: nothing here may throw into, or hold up, the run engine. `send()`
 * always resolves (true = delivered, false = disabled or given up after the retry schedule),
 * `enqueue()` is fire-and-forget, and every network step has a bounded timeout so a dead or
 * silent SMTP server costs at most a few failed attempts, never a hung worker.
 */

import type { Transporter } from 'nodemailer';
import nodemailer from 'nodemailer';

export type MailMessage = { to: string[]; subject: string; text: string; html?: string };

export type MailLogger = {
  info(o: unknown, m?: string): void;
  warn(o: unknown, m?: string): void;
  error(o: unknown, m?: string): void;
};

export type MailerOptions = {
  /** SMTP_URL, e.g. smtp://user:pass@127.0.0.1:2525 or smtps://…; absent → mail is disabled. */
  smtpUrl?: string;
  /** Sender; default the URL's `?from=` parameter, else 'Hookflow <hookflow@localhost>'. */
  from?: string;
  /** Delays before the attempts after the first; default [1000, 5000, 15000]. */
  retryDelaysMs?: number[];
  log?: MailLogger;
  /** Injectable for tests; default is an unref'd setTimeout. */
  sleep?: (ms: number) => Promise<void>;
};

export const DEFAULT_FROM = 'Hookflow <hookflow@localhost>';
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 5000, 15000];
/** Connection, greeting and socket-inactivity timeout for every SMTP attempt. */
export const SMTP_TIMEOUT_MS = 10_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

const noopLog: MailLogger = { info() {}, warn() {}, error() {} };

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref?.();
  });
}

type ParsedSmtpUrl = {
  /** What nodemailer gets: the URL minus `from`, plus default timeouts unless the URL sets them. */
  transportUrl: string;
  /** host:port for logs — never the credentials. */
  target: string;
  from: string | undefined;
  /** The password as written and decoded, to scrub from error texts. */
  secrets: string[];
};

function parseSmtpUrl(smtpUrl: string): ParsedSmtpUrl {
  const url = new URL(smtpUrl);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error(`unsupported scheme ${url.protocol} (expected smtp: or smtps:)`);
  }
  if (!url.hostname) throw new Error('no host');
  const from = url.searchParams.get('from') ?? undefined;
  url.searchParams.delete('from');
  for (const key of ['connectionTimeout', 'greetingTimeout', 'socketTimeout']) {
    if (!url.searchParams.has(key)) url.searchParams.set(key, String(SMTP_TIMEOUT_MS));
  }
  const secrets: string[] = [];
  if (url.password) {
    secrets.push(url.password);
    try {
      const decoded = decodeURIComponent(url.password);
      if (decoded !== url.password) secrets.push(decoded);
    } catch {
      // malformed escape: the raw form is all we can scrub
    }
  }
  const port = url.port || (url.protocol === 'smtps:' ? '465' : '587');
  return {
    transportUrl: url.toString(),
    target: `${url.hostname}:${port}`,
    from: from || undefined,
    secrets,
  };
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

function describeError(
  err: unknown,
  secrets: string[],
): { reason: string; code?: string; responseCode?: number } {
  const e = err as { message?: unknown; code?: unknown; responseCode?: unknown } | null;
  const reason = scrub(String(e && typeof e === 'object' && 'message' in e ? e.message : err), secrets);
  const out: { reason: string; code?: string; responseCode?: number } = { reason };
  if (e && typeof e === 'object') {
    if (typeof e.code === 'string') out.code = e.code;
    if (typeof e.responseCode === 'number') out.responseCode = e.responseCode;
  }
  return out;
}

export class Mailer {
  readonly enabled: boolean;
  private readonly transport: Transporter | null = null;
  private readonly from: string;
  private readonly target: string = '';
  private readonly secrets: string[] = [];
  private readonly retryDelaysMs: number[];
  private readonly log: MailLogger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly pending = new Set<Promise<boolean>>();
  private loggedDisabled = false;
  private closed = false;

  constructor(opts: MailerOptions) {
    this.log = opts.log ?? noopLog;
    this.sleep = opts.sleep ?? defaultSleep;
    this.retryDelaysMs = [...(opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS)];
    let urlFrom: string | undefined;
    if (opts.smtpUrl) {
      try {
        const parsed = parseSmtpUrl(opts.smtpUrl);
        this.transport = nodemailer.createTransport(parsed.transportUrl);
        this.target = parsed.target;
        this.secrets = parsed.secrets;
        urlFrom = parsed.from;
      } catch (err) {
        // Never crash the process over notifications; say loudly that mail is off.
        this.log.error(
          { reason: err instanceof Error ? err.message : String(err) },
          'SMTP_URL could not be parsed; e-mail notifications are disabled',
        );
        this.loggedDisabled = true;
      }
    }
    this.enabled = this.transport !== null;
    this.from = opts.from ?? urlFrom ?? DEFAULT_FROM;
  }

  /** Never throws and never blocks the caller's work: resolves true when delivered, false after the last retry failed (logged). */
  send(msg: MailMessage): Promise<boolean> {
    const p = this.deliver(msg).catch((err: unknown) => {
      // Defensive: deliver() handles its own errors; this only guards against bugs.
      this.log.error(describeError(err, this.secrets), 'e-mail notification failed unexpectedly');
      return false;
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }

  /** Fire-and-forget variant: starts send() and returns at once; pending sends are tracked. */
  enqueue(msg: MailMessage): void {
    void this.send(msg);
  }

  /** Number of sends still in flight (for tests and shutdown diagnostics). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Waits for pending sends (bounded by timeoutMs, default 10 s) then closes the transport. */
  async close(timeoutMs: number = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    if (this.pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([
        Promise.allSettled([...this.pending]).then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), timeoutMs);
          timer.unref?.();
        }),
      ]);
      if (timer) clearTimeout(timer);
      if (gaveUp) {
        this.log.warn(
          { pending: this.pending.size, timeoutMs },
          'closing the mailer with e-mail notifications still pending; they will not be retried',
        );
      }
    }
    this.closed = true;
    this.transport?.close();
  }

  private async deliver(msg: MailMessage): Promise<boolean> {
    if (!this.transport) {
      if (!this.loggedDisabled) {
        this.loggedDisabled = true;
        this.log.info({}, 'SMTP_URL is not set; e-mail notifications are disabled');
      }
      return false;
    }
    const to = msg.to.map((a) => a.trim()).filter((a) => a.length > 0);
    if (to.length === 0) {
      this.log.warn({ subject: msg.subject }, 'e-mail notification has no recipients; not sent');
      return false;
    }
    const attempts = this.retryDelaysMs.length + 1;
    let last: ReturnType<typeof describeError> = { reason: 'not attempted' };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        await this.sleep(this.retryDelaysMs[attempt - 2] ?? 0);
      }
      if (this.closed) {
        last = { reason: 'mailer closed before the message could be delivered' };
        break;
      }
      try {
        const info = await this.transport.sendMail({
          from: this.from,
          to,
          subject: msg.subject,
          text: msg.text,
          ...(msg.html !== undefined ? { html: msg.html } : {}),
        });
        const rejected = Array.isArray(info.rejected) ? info.rejected.length : 0;
        if (rejected > 0) {
          this.log.warn(
            { recipients: to.length, rejected, smtp: this.target },
            'e-mail notification delivered, but the server rejected some recipients',
          );
        }
        return true;
      } catch (err) {
        last = describeError(err, this.secrets);
        if (attempt < attempts) {
          this.log.warn(
            { ...last, attempt, of: attempts, retryInMs: this.retryDelaysMs[attempt - 1], smtp: this.target },
            'e-mail notification attempt failed; will retry',
          );
        }
      }
    }
    this.log.error(
      { ...last, recipients: to.length, attempts, smtp: this.target },
      'e-mail notification could not be delivered',
    );
    return false;
  }
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** One line, no control characters (header-safe), bounded length. */
function oneLine(s: string, max: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const flat = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const MAX_ERROR_CHARS = 4000;

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function runNotification(input: {
  flowName: string;
  flowId: string;
  runId: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  error: string | null;
  publicUrl: string;
  startedAt?: Date | null;
  finishedAt?: Date | null;
}): { subject: string; text: string; html: string } {
  const link = `${input.publicUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(input.runId)}`;
  const flowName = oneLine(input.flowName, 200) || input.flowId;
  const subject = `[Hookflow] Flow "${flowName}" ${input.status} (run ${oneLine(input.runId, 100)})`;
  const error =
    input.error == null || input.error === ''
      ? null
      : input.error.length > MAX_ERROR_CHARS
        ? `${input.error.slice(0, MAX_ERROR_CHARS)}…`
        : input.error;

  const rows: [string, string][] = [
    ['Flow', `${flowName} (${input.flowId})`],
    ['Run', input.runId],
    ['Status', input.status],
  ];
  if (input.startedAt) rows.push(['Started', input.startedAt.toISOString()]);
  if (input.finishedAt) rows.push(['Finished', input.finishedAt.toISOString()]);
  if (input.startedAt && input.finishedAt) {
    rows.push([
      'Duration',
      formatDuration(Math.max(0, input.finishedAt.getTime() - input.startedAt.getTime())),
    ]);
  }

  const text = [
    `Flow "${flowName}" ${input.status}.`,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    ...(error !== null ? ['', 'Error:', error] : []),
    '',
    `View the run: ${link}`,
    '',
  ].join('\n');

  const color = input.status === 'succeeded' ? '#1a7f37' : input.status === 'failed' ? '#cf222e' : '#6e7781';
  const html = [
    '<!doctype html>',
    '<html><body style="font-family:sans-serif">',
    `<p>Flow <strong>${escapeHtml(flowName)}</strong> <span style="color:${color}">${escapeHtml(input.status)}</span>.</p>`,
    '<table cellpadding="4">',
    ...rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    '</table>',
    ...(error !== null
      ? ['<p><strong>Error:</strong></p>', `<pre style="white-space:pre-wrap">${escapeHtml(error)}</pre>`]
      : []),
    `<p><a href="${escapeHtml(link)}">View the run</a></p>`,
    '</body></html>',
    '',
  ].join('\n');

  return { subject, text, html };
}
