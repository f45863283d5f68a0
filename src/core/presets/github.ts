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
  setup: [
    "In the repository's (or organization's) Settings → Webhooks → Add webhook, paste the URL as the Payload URL and choose Content type application/json.",
    'Type a long random string as the Secret there, and paste the same string here as the secret.',
    "GitHub's ping on creation is answered 200 without a run; the recent deliveries list shows it green.",
  ],
  dedupeKey: headerKey('X-GitHub-Delivery'),
  answerAfterAuth: (req) =>
    header(req, 'X-GitHub-Event') === 'ping' ? { status: 200, json: { status: 'ok' } } : undefined,
};
