import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyRequest } from './index.ts';
import { expectRejected, request, signedSchemeCases } from './testing.ts';

// developers.facebook.com "Webhooks — Validate payloads": X-Hub-Signature-256 = "sha256=" + hex
// HMAC-SHA256(app secret, raw body).
const sign = (data: Record<string, string>, body: string) => ({
  'x-hub-signature-256': `sha256=${createHmac('sha256', data.app_secret).update(body).digest('hex')}`,
});
const BODY = JSON.stringify({
  object: 'whatsapp_business_account',
  entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: { text: 'Olá ✓' } }] }],
});

describe('meta verifier', () => {
  signedSchemeCases({
    type: 'meta',
    data: { app_secret: 'meta-app-secret-1', verify_token: 'meta-verify-token' },
    header: 'X-Hub-Signature-256',
    body: BODY,
    sign,
    malformed: [
      `sha1=${'0'.repeat(40)}`,
      `sha256=${'0'.repeat(40)}`,
      '0'.repeat(64),
      `sha256=${'x'.repeat(64)}`,
    ],
  });

  it('does not sign with the verify token', () => {
    const data = { app_secret: 'meta-app-secret-1', verify_token: 'meta-verify-token' };
    const headers = sign({ app_secret: data.verify_token }, BODY);
    expectRejected(
      verifyRequest('meta', data, request({ headers, body: BODY })),
      'Signature does not match',
      [data.app_secret, data.verify_token],
    );
    expect(headers['x-hub-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });
});
