import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LINEAR_TOLERANCE_MS, verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, NOW_MS, request, signedSchemeCases } from './testing.ts';

// linear.app/developers "Webhooks — Securing webhooks": Linear-Signature = hex HMAC-SHA256(secret,
// raw body); also check that the body's webhookTimestamp (ms) is within a minute of now.
const SECRET = 'lin_wh_secret_1';
const payload = (webhookTimestamp: unknown = NOW_MS) =>
  JSON.stringify({
    action: 'create',
    type: 'Issue',
    data: { id: 'i1', title: 'Ünïcode ✓' },
    webhookTimestamp,
  });
const sign = (data: Record<string, string>, body: string) => ({
  'linear-signature': createHmac('sha256', data.secret).update(body).digest('hex'),
});
const verify = (body: string, nowMs = NOW_MS) =>
  verifyRequest(
    'linear',
    { secret: SECRET },
    request({ headers: sign({ secret: SECRET }, body), body, nowMs }),
  );

describe('linear verifier', () => {
  signedSchemeCases({
    type: 'linear',
    data: { secret: SECRET },
    header: 'Linear-Signature',
    body: payload(),
    sign,
    malformed: ['0'.repeat(62), `sha256=${'0'.repeat(64)}`, Buffer.alloc(32).toString('base64')],
  });

  it('accepts webhookTimestamp up to 60 s either side of now and rejects beyond (Linear: "within a minute")', () => {
    expect(LINEAR_TOLERANCE_MS).toBe(60_000);
    expectAccepted(verify(payload(NOW_MS - 60_000)));
    expectAccepted(verify(payload(NOW_MS + 60_000)));
    expectRejected(verify(payload(NOW_MS - 60_001)), /webhookTimestamp.*tolerance/);
    expectRejected(verify(payload(NOW_MS + 60_001)), /webhookTimestamp.*tolerance/);
    // seconds instead of milliseconds are a long way off
    expectRejected(verify(payload(Math.floor(NOW_MS / 1000))), /tolerance/);
    expectAccepted(verify(payload(NOW_MS - 3600_000), NOW_MS - 3600_000 + 1000));
  });

  it('rejects a webhookTimestamp that is not a number', () => {
    for (const bad of [String(NOW_MS), null, true, { t: NOW_MS }]) {
      expectRejected(verify(payload(bad)), 'Malformed webhookTimestamp in the body');
    }
  });

  it('checks only the signature of a body without webhookTimestamp', () => {
    expectAccepted(verify(JSON.stringify({ action: 'create', type: 'Issue' })));
    expectAccepted(verify('[1,2,3]'));
    expectAccepted(verify('not json at all'));
  });
});
