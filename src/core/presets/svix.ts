/**
 * Svix-signed senders (Clerk, Resend, …): the Standard Webhooks scheme under `svix-*` header names,
 * checked by a `standard_webhooks` credential.
 */
import { standardWebhooksPreset } from './standardWebhooks.ts';
import type { Preset } from './types.ts';

export const svixPreset: Preset = {
  ...standardWebhooksPreset,
  id: 'svix',
  name: 'Svix (Clerk, Resend, …)',
  docs_url: 'https://docs.svix.com/receiving/verifying-payloads/how-manual',
  setup: [
    "In the sender's dashboard (Clerk: Configure → Webhooks → Add Endpoint; Resend: Webhooks → Add Webhook), paste the URL as the endpoint URL.",
    'Open the endpoint, reveal its Signing Secret (whsec_…) and paste it here.',
  ],
};
