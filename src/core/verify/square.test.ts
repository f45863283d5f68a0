import { createHmac } from 'node:crypto';
import { describe, it } from 'vitest';
import { verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, request, signedSchemeCases } from './testing.ts';

// developer.squareup.com "Verify and validate an event notification": the signature is base64
// HMAC-SHA256(signature key, notification URL + raw body).
const URL_ = 'https://hooks.example.com/hooks/default/flow_1?source=square';
const BODY = JSON.stringify({
  merchant_id: 'MLX',
  type: 'payment.updated',
  event_id: 'e1',
  data: { id: 'p1' },
});
const sign = (data: Record<string, string>, body: string, url = URL_) => ({
  'x-square-hmacsha256-signature': createHmac('sha256', data.signature_key)
    .update(url + body)
    .digest('base64'),
});
const data = { signature_key: 'square-signature-key-1' };

describe('square verifier', () => {
  signedSchemeCases({
    type: 'square',
    data,
    header: 'x-square-hmacsha256-signature',
    body: BODY,
    sign: (d, body) => sign(d, body),
    input: { url: URL_ },
    malformed: ['!!!!', Buffer.alloc(20).toString('base64'), '0'.repeat(64)],
  });

  it('signs the URL: another path, query or host does not verify', () => {
    const headers = sign(data, BODY);
    const at = (url?: string) => verifyRequest('square', data, request({ headers, body: BODY, url }));
    expectAccepted(at(URL_));
    expectRejected(at(URL_.replace('flow_1', 'flow_2')), 'Signature does not match');
    expectRejected(at(URL_.replace('?source=square', '')), 'Signature does not match');
    expectRejected(at(URL_.replace('hooks.example.com', 'evil.example.com')), 'Signature does not match');
    // a body-only signature (no URL) is not Square's
    const bodyOnly = {
      'x-square-hmacsha256-signature': sign(data, BODY, '')['x-square-hmacsha256-signature'],
    };
    expectRejected(verifyRequest('square', data, request({ headers: bodyOnly, body: BODY, url: URL_ })));
  });

  it('fails with a clear reason when the request URL is not known', () => {
    const headers = sign(data, BODY);
    expectRejected(verifyRequest('square', data, request({ headers, body: BODY })), /URL.*not known/);
    expectRejected(
      verifyRequest('square', data, request({ headers, body: BODY, url: '' })),
      /URL.*not known/,
    );
  });
});
