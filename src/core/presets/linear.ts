/** Linear: `Linear-Signature`, hex HMAC-SHA256 of the body. */
import type { Preset } from './types.ts';
import { headerKey } from './util.ts';

export const linearPreset: Preset = {
  id: 'linear',
  name: 'Linear',
  credential_type: 'linear',
  secret_fields: [{ key: 'secret', label: 'Webhook signing secret' }],
  headers: ['Linear-Signature', 'Linear-Delivery', 'Linear-Event'],
  handshake: null,
  dedupe: 'Linear-Delivery header',
  docs_url: 'https://linear.app/developers/webhooks',
  setup: [
    'In Linear → Settings → API → Webhooks → New webhook, paste the URL and pick the resources.',
    'Open the webhook, copy its signing secret and paste it here.',
  ],
  dedupeKey: headerKey('Linear-Delivery'),
};
