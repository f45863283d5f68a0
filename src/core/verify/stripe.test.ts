import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { credentialDataSchemas, STRIPE_TOLERANCE_S, verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, NOW_MS, NOW_S, request } from './testing.ts';

const SECRET = 'whsec_test_6a5b4c3d2e1f0a9b8c7d6e5f';
const PAYLOAD = JSON.stringify({ id: 'evt_123', object: 'event', type: 'payment_intent.succeeded' }, null, 2);
const data = { secret: SECRET };

const header = (opts: { timestamp?: number; secret?: string; payload?: string } = {}) =>
  Stripe.webhooks.generateTestHeaderString({
    payload: opts.payload ?? PAYLOAD,
    secret: opts.secret ?? SECRET,
    timestamp: opts.timestamp ?? NOW_S,
  });

const verify = (
  signature: string | string[] | undefined,
  opts: { body?: string | Buffer; nowMs?: number; secret?: string } = {},
) =>
  verifyRequest(
    'stripe',
    { secret: opts.secret ?? SECRET },
    request({
      headers: { 'stripe-signature': signature },
      body: opts.body ?? PAYLOAD,
      nowMs: opts.nowMs ?? NOW_MS,
    }),
  );

describe('stripe verifier', () => {
  it("accepts a header from the stripe package's generateTestHeaderString", () => {
    const h = header();
    expect(h).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expectAccepted(verify(h));
  });

  it("agrees with the stripe package's own verifyHeader", () => {
    const h = header({ timestamp: NOW_S - 100 });
    expect(Stripe.webhooks.signature!.verifyHeader(PAYLOAD, h, SECRET, 300, undefined, NOW_MS)).toBe(true);
    expectAccepted(verify(h));
    const tampered = PAYLOAD.replace('succeeded', 'failed');
    expect(() =>
      Stripe.webhooks.signature!.verifyHeader(tampered, h, SECRET, 300, undefined, NOW_MS),
    ).toThrow();
    expectRejected(verify(h, { body: tampered }));
  });

  it('accepts timestamps up to 300 s either side of now and rejects beyond, naming the timestamp', () => {
    expect(STRIPE_TOLERANCE_S).toBe(300);
    expectAccepted(verify(header({ timestamp: NOW_S - 300 })));
    expectAccepted(verify(header({ timestamp: NOW_S + 300 })));
    expectRejected(verify(header({ timestamp: NOW_S - 301 })), /timestamp/);
    expectRejected(verify(header({ timestamp: NOW_S + 301 })), /timestamp/);
    // the same header is fine again when the (injected) clock is close to it
    const old = header({ timestamp: NOW_S - 3600 });
    expectRejected(verify(old), /timestamp.*300 s/);
    expectAccepted(verify(old, { nowMs: NOW_MS - 3600_000 + 120_000 }));
  });

  it('accepts when any v1 signature matches (secret roll) and ignores v0', () => {
    const current = header();
    const oldV1 = header({ secret: 'whsec_old' }).split(',')[1];
    const v0 = 'v0=' + 'ab'.repeat(32);
    expectAccepted(verify(`${current.split(',')[0]},${oldV1},${current.split(',')[1]},${v0}`));
    expectAccepted(verify(`${current.split(',')[0]}, ${v0} , ${current.split(',')[1]}`));
    expectRejected(
      verify(`${current.split(',')[0]},v0=${current.split(',')[1].slice(3)}`),
      /no v1 signature/,
    );
  });

  it('rejects a signature made with the wrong secret without revealing the secret', () => {
    expectRejected(verify(header({ secret: 'whsec_wrong' })), 'No Stripe-Signature v1 signature matches', [
      SECRET,
    ]);
  });

  it('uses the secret string verbatim, not base64-decoded', () => {
    // generateTestHeaderString keys the HMAC with the whole "whsec_…" string; so must we.
    expectRejected(verify(header(), { secret: SECRET.slice('whsec_'.length) }));
  });

  it('rejects a tampered body', () => {
    expectRejected(verify(header(), { body: PAYLOAD.replace('evt_123', 'evt_124') }));
    expectRejected(verify(header(), { body: JSON.stringify(JSON.parse(PAYLOAD)) }));
  });

  it('rejects a moved timestamp (the timestamp is signed)', () => {
    const [, v1] = header().split(',');
    expectRejected(verify(`t=${NOW_S + 1},${v1}`), 'No Stripe-Signature v1 signature matches');
  });

  it('rejects a missing Stripe-Signature header', () => {
    expectRejected(verify(undefined), 'Missing Stripe-Signature header');
  });

  it('rejects malformed Stripe-Signature headers', () => {
    const [t, v1] = header().split(',');
    for (const bad of [
      '',
      'garbage',
      v1,
      t,
      `t=abc,${v1}`,
      `t=,${v1}`,
      `${t},v1=xyz`,
      `${t},v1=${'0'.repeat(63)}`,
      ',,,=',
    ]) {
      expectRejected(verify(bad), /Malformed Stripe-Signature header/);
    }
    expectRejected(verify([header(), header()]), /Multiple/);
  });

  it('validates credential data', () => {
    expect(credentialDataSchemas.stripe.safeParse(data).success).toBe(true);
    expect(credentialDataSchemas.stripe.safeParse({ secret: '' }).success).toBe(false);
  });
});
