/**
 * Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` — or Svix's `svix-*`
 * names — checked by the `standard_webhooks` credential; de-duplicated on the message id.
 */
import type { Preset } from './types.ts';
import { headerKey } from './util.ts';

export const standardWebhooksPreset: Preset = {
  id: 'standard_webhooks',
  name: 'Standard Webhooks',
  credential_type: 'standard_webhooks',
  secret_fields: [{ key: 'secret', label: 'Signing secret (whsec_…)' }],
  headers: [
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
    'svix-id',
    'svix-timestamp',
    'svix-signature',
  ],
  handshake: null,
  dedupe: 'webhook-id (or svix-id) header',
  docs_url: 'https://www.standardwebhooks.com/',
  setup: [
    "In the sender's webhook settings, add an endpoint with the URL.",
    "Copy the endpoint's signing secret (whsec_…) and paste it here.",
  ],
  dedupeKey: headerKey('webhook-id', 'svix-id'),
};
