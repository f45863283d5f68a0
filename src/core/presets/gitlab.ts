/** GitLab: `X-Gitlab-Token` equals the secret token. */
import type { Preset } from './types.ts';
import { headerKey } from './util.ts';

export const gitlabPreset: Preset = {
  id: 'gitlab',
  name: 'GitLab',
  credential_type: 'gitlab',
  secret_fields: [{ key: 'token', label: 'Secret token' }],
  headers: ['X-Gitlab-Token', 'X-Gitlab-Event', 'X-Gitlab-Event-UUID', 'X-Gitlab-Webhook-UUID'],
  handshake: null,
  dedupe: 'X-Gitlab-Event-UUID header',
  docs_url: 'https://docs.gitlab.com/user/project/integrations/webhooks/',
  setup: [
    "In the project's (or group's) Settings → Webhooks → Add new webhook, paste the URL.",
    'Type a long random string as the Secret token there, and paste the same string here as the token.',
  ],
  dedupeKey: headerKey('X-Gitlab-Event-UUID'),
};
