/**
 * Microsoft Graph change notifications: creating a subscription sends `validationToken` in the
 * query (POST, or GET), answered with the token as text before any credential check. An `api_key`
 * credential (the subscription's clientState) is optional.
 */
import type { Preset } from './types.ts';
import { query, text } from './util.ts';

export const microsoftGraphPreset: Preset = {
  id: 'microsoft_graph',
  name: 'Microsoft Graph',
  credential_type: null,
  secret_fields: [],
  headers: [],
  handshake: 'POST or GET with validationToken is answered 200 with the token as text/plain',
  dedupe: null,
  docs_url: 'https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks',
  setup: [
    "No secret is needed: create the subscription (POST https://graph.microsoft.com/v1.0/subscriptions) with the URL as notificationUrl; Graph's validationToken is answered at once.",
    'To refuse strangers, add an API key credential that reads a query parameter (in: query) and put that parameter in the notificationUrl.',
  ],
  answerBeforeAuth: (req) => {
    if (req.method !== 'GET' && req.method !== 'POST') return undefined;
    const token = query(req, 'validationToken');
    return token === undefined ? undefined : text(token);
  },
};
