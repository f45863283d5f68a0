/**
 * Standard Webhooks (https://www.standardwebhooks.com): headers `webhook-id`, `webhook-timestamp`
 * (unix seconds) and `webhook-signature` (space-separated `v1,<base64>` list). Each v1 is base64
 * HMAC-SHA256 over `${id}.${timestamp}.${rawBody}`, keyed with the base64-decoded secret
 * (`whsec_<base64>`, or the bare base64). Implemented here rather than with the `standardwebhooks`
 * package's `verify` because that reads `Date.now()` and the clock must be injectable; the tests
 * prove agreement with the package.
 */
import { z } from 'zod';
import { fail, OK, type Verifier } from './types.ts';
import { bytesEqual, decodeBase64, hmac, readHeader } from './util.ts';

export const STANDARD_WEBHOOKS_TOLERANCE_S = 300;

const SECRET_PREFIX = 'whsec_';

/** The HMAC key of a `whsec_…` (or bare base64) secret; `undefined` if it is not valid base64. */
export function standardWebhooksKey(secret: string): Buffer | undefined {
  return decodeBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
}

export const standardWebhooksDataSchema = z.strictObject({
  secret: z.string().refine((s) => standardWebhooksKey(s) !== undefined, {
    message: 'secret must be "whsec_" followed by base64 (or the base64 alone)',
  }),
});

export type StandardWebhooksData = z.output<typeof standardWebhooksDataSchema>;

export const standardWebhooksVerifier: Verifier<typeof standardWebhooksDataSchema> = {
  schema: standardWebhooksDataSchema,
  verify(data, input) {
    const values: Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> = {
      'webhook-id': '',
      'webhook-timestamp': '',
      'webhook-signature': '',
    };
    for (const name of Object.keys(values) as (keyof typeof values)[]) {
      const field = readHeader(input.headers, name);
      if (field.kind === 'multiple') return fail(`Multiple ${name} headers`);
      const value = field.kind === 'value' ? field.value.trim() : '';
      if (value === '') return fail(`Missing ${name} header`);
      values[name] = value;
    }
    const id = values['webhook-id'];
    const timestamp = values['webhook-timestamp'];
    if (!/^\d{1,15}$/.test(timestamp)) return fail('Malformed webhook-timestamp header');
    const nowS = Math.floor(input.nowMs / 1000);
    if (!(Math.abs(nowS - Number(timestamp)) <= STANDARD_WEBHOOKS_TOLERANCE_S)) {
      return fail(`webhook-timestamp is outside the ${STANDARD_WEBHOOKS_TOLERANCE_S} s tolerance`);
    }

    const signatures: Buffer[] = [];
    for (const entry of values['webhook-signature'].split(/\s+/)) {
      const comma = entry.indexOf(',');
      if (comma < 0 || entry.slice(0, comma) !== 'v1') continue; // other versions (v1a, …) ignored
      const sig = decodeBase64(entry.slice(comma + 1));
      if (sig) signatures.push(sig);
    }
    if (signatures.length === 0) return fail('Malformed webhook-signature header: no v1 signature');

    const key = standardWebhooksKey(data.secret);
    if (!key) return fail('Stored standard_webhooks secret is not valid base64');
    const expected = hmac('sha256', key, `${id}.${timestamp}.`, input.rawBody);
    let matched = false;
    for (const sig of signatures) matched = bytesEqual(sig, expected) || matched;
    return matched ? OK : fail('No webhook-signature v1 signature matches');
  },
};
