/** Stripe: `Stripe-Signature` (`t=`, `v1=`, 300 s); events carry their id (`evt_…`) in the body. */
import type { Preset } from './types.ts';
import { bodyKey } from './util.ts';

export const stripePreset: Preset = {
  id: 'stripe',
  name: 'Stripe',
  credential_type: 'stripe',
  secret_fields: [{ key: 'secret', label: 'Signing secret (whsec_…)' }],
  headers: ['Stripe-Signature'],
  handshake: null,
  dedupe: 'body "id" (evt_…)',
  docs_url: 'https://docs.stripe.com/webhooks',
  setup: [
    'In the Stripe Dashboard → Developers → Webhooks → Add endpoint, paste the URL as the Endpoint URL and pick the events.',
    'Open the endpoint, reveal its Signing secret (whsec_…) and paste it here.',
  ],
  dedupeKey: bodyKey('id'),
};
