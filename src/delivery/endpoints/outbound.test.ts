import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { buildEndpointRequest, signPayload } from './outbound.ts';
import { newSigningSecret as generateSigningSecret } from './store.ts';

describe('outbound signatures', () => {
  it('verify with the standardwebhooks package, one signature per valid secret', () => {
    const a = generateSigningSecret();
    const b = generateSigningSecret();
    const ts = new Date();
    const payload = JSON.stringify({ event_type: 'order.created', data: { name: 'Zoë ✓', n: 1 } });
    const header = signPayload([a, b], 'msg_1', ts, payload);
    expect(header.split(' ')).toHaveLength(2);
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)),
      'webhook-signature': header,
    };
    for (const secret of [a, b])
      expect(new Webhook(secret).verify(payload, headers)).toEqual(JSON.parse(payload));
    expect(() => new Webhook(generateSigningSecret()).verify(payload, headers)).toThrow();
  });

  it('signs exactly what the standardwebhooks package signs', () => {
    const secret = generateSigningSecret();
    const ts = new Date('2026-11-23T10:00:00Z');
    for (const payload of ['', '{}', 'x'.repeat(5000), '{"ü":"\\u0000"}'])
      expect(signPayload([secret], 'msg_x', ts, payload)).toBe(
        new Webhook(secret).sign('msg_x', ts, payload),
      );
  });

  it('builds a request whose signature headers verify and cannot be overridden by custom headers', () => {
    const secret = generateSigningSecret();
    const payload = '{"a":1}';
    const { headers } = buildEndpointRequest(
      {
        url: 'http://127.0.0.1:9/hook',
        headers: { 'Webhook-Signature': 'forged', 'X-Team': 'ops' },
        auth: { type: 'none' } as any,
        secrets: [secret],
      },
      { id: 'msg_2', timestamp: new Date(), payload },
    );
    expect(headers['x-team']).toBe('ops');
    expect(new Webhook(secret).verify(payload, headers)).toEqual({ a: 1 });
  });
});
