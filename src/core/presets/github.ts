/** GitHub: `X-Hub-Signature-256`; the `ping` event sent on creating the hook is answered 200. */
import type { Preset } from './types.ts';
import { header, headerKey } from './util.ts';

export const githubPreset: Preset = {
  id: 'github',
  name: 'GitHub',
  credential_type: 'github',
  secret_fields: [{ key: 'secret', label: 'Webhook secret' }],
  headers: ['X-Hub-Signature-256', 'X-GitHub-Event', 'X-GitHub-Delivery', 'X-GitHub-Hook-ID'],
  handshake: 'The "ping" event (X-GitHub-Event: ping), once signed, is answered 200 {"status":"ok"}',
  dedupe: 'X-GitHub-Delivery header',
  docs_url: 'https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries',
  dedupeKey: headerKey('X-GitHub-Delivery'),
  answerAfterAuth: (req) =>
    header(req, 'X-GitHub-Event') === 'ping' ? { status: 200, json: { status: 'ok' } } : undefined,
};
