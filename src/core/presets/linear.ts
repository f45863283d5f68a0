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
  dedupeKey: headerKey('Linear-Delivery'),
};
