/**
 * Zoom: `x-zm-signature` over `v0:{timestamp}:{body}`. Validating the endpoint sends a signed
 * `endpoint.url_validation` event, answered with the plain token and its HMAC under the secret.
 */
import { hmac } from '../verify/util.ts';
import type { Preset } from './types.ts';
import { bodyField, credentialMissing, secretOf } from './util.ts';

export const zoomPreset: Preset = {
  id: 'zoom',
  name: 'Zoom',
  credential_type: 'zoom',
  secret_fields: [{ key: 'secret', label: 'Secret token' }],
  headers: ['x-zm-signature', 'x-zm-request-timestamp'],
  handshake:
    'A signed "endpoint.url_validation" event is answered 200 {"plainToken", "encryptedToken": hex HMAC-SHA256(secret, plainToken)}',
  dedupe: null,
  docs_url: 'https://developers.zoom.us/docs/api/webhooks/',
  setup: [
    'In the Zoom App Marketplace → your app → Features → Access (or Feature), copy the Secret Token and paste it here.',
    "Save the flow, then paste the URL as the Event notification endpoint URL and press Validate: Zoom's endpoint.url_validation is answered with the encrypted token at once.",
  ],
  answerAfterAuth: (req, credential) => {
    if (bodyField(req.body, 'event') !== 'endpoint.url_validation') return undefined;
    const secret = secretOf(credential, 'secret');
    if (!secret) return credentialMissing;
    const payload = (req.body as { payload?: unknown }).payload;
    const plainToken = bodyField(payload, 'plainToken') ?? '';
    return {
      status: 200,
      json: { plainToken, encryptedToken: hmac('sha256', secret, plainToken).toString('hex') },
    };
  },
};
