import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyRequest, ZOOM_TOLERANCE_S } from './index.ts';
import { expectAccepted, NOW_S, request, signedSchemeCases } from './testing.ts';

// Zoom's published algorithm (developers.zoom.us, "Verify webhook events"):
// message = `v0:${x-zm-request-timestamp}:${body}`, x-zm-signature = `v0=` + hex HMAC-SHA256(secret token).
const sign = (data: Record<string, string>, body: string, ts: number) => ({
  'x-zm-request-timestamp': String(ts),
  'x-zm-signature': `v0=${createHmac('sha256', data.secret).update(`v0:${ts}:${body}`).digest('hex')}`,
});

const BODY = JSON.stringify({
  event: 'meeting.started',
  event_ts: NOW_S * 1000,
  payload: { account_id: 'AAAAAABBBB', object: { id: '1234567890', topic: 'Réunion ✓' } },
});

describe('zoom verifier', () => {
  signedSchemeCases({
    type: 'zoom',
    data: { secret: 'zoom-secret-token-1' },
    header: 'x-zm-signature',
    body: BODY,
    sign,
    malformed: ['v0=', `v0=${'0'.repeat(63)}`, `sha256=${'0'.repeat(64)}`, `V0=${'0'.repeat(64)}`],
    timestamp: { header: 'x-zm-request-timestamp', toleranceS: ZOOM_TOLERANCE_S },
  });

  it('reads the headers in any case', () => {
    const h = sign({ secret: 's' }, BODY, NOW_S);
    const headers = {
      'X-ZM-Request-Timestamp': h['x-zm-request-timestamp'],
      'X-ZM-Signature': h['x-zm-signature'],
    };
    expectAccepted(verifyRequest('zoom', { secret: 's' }, request({ headers, body: BODY })));
    expect(ZOOM_TOLERANCE_S).toBe(300);
  });
});
