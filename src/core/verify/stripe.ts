/**
 * Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`.
 * Each v1 is hex HMAC-SHA256 over `${t}.${rawBody}`, keyed with the endpoint secret string
 * (`whsec_…`, used verbatim — not base64-decoded). Any matching v1 is accepted (Stripe sends
 * several while a secret is being rolled); v0 and unknown schemes are ignored.
 */
import { z } from 'zod';
import { fail, OK, type Verifier } from './types.ts';
import { bytesEqual, decodeHex, hmac, readHeader } from './util.ts';

export const STRIPE_TOLERANCE_S = 300;

export const stripeDataSchema = z.strictObject({
  secret: z.string().min(1),
});

export type StripeData = z.output<typeof stripeDataSchema>;

export const stripeVerifier: Verifier<typeof stripeDataSchema> = {
  schema: stripeDataSchema,
  verify(data, input) {
    const header = readHeader(input.headers, 'stripe-signature');
    if (header.kind === 'missing') return fail('Missing Stripe-Signature header');
    if (header.kind === 'multiple') return fail('Multiple Stripe-Signature headers');

    let timestamp: string | undefined;
    const v1: Buffer[] = [];
    for (const item of header.value.split(',')) {
      const eq = item.indexOf('=');
      if (eq < 0) continue;
      const key = item.slice(0, eq).trim();
      const value = item.slice(eq + 1).trim();
      if (key === 't' && timestamp === undefined) timestamp = value;
      else if (key === 'v1') {
        const sig = value.length === 64 ? decodeHex(value) : undefined;
        if (sig) v1.push(sig);
      }
    }
    if (timestamp === undefined || !/^\d{1,15}$/.test(timestamp)) {
      return fail('Malformed Stripe-Signature header: no valid timestamp');
    }
    if (v1.length === 0) return fail('Malformed Stripe-Signature header: no v1 signature');

    const nowS = Math.floor(input.nowMs / 1000);
    if (!(Math.abs(nowS - Number(timestamp)) <= STRIPE_TOLERANCE_S)) {
      return fail(`Stripe-Signature timestamp is outside the ${STRIPE_TOLERANCE_S} s tolerance`);
    }

    const expected = hmac('sha256', data.secret, `${timestamp}.`, input.rawBody);
    let matched = false;
    for (const sig of v1) matched = bytesEqual(sig, expected) || matched;
    return matched ? OK : fail('No Stripe-Signature v1 signature matches');
  },
};
