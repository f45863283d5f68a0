/**
 * Standard Webhooks (https://www.standardwebhooks.com): headers `webhook-id`, `webhook-timestamp`
 * (unix seconds) and `webhook-signature` (space-separated `v1,<base64>` list). Each v1 is base64
 * HMAC-SHA256 over `${id}.${timestamp}.${rawBody}`, keyed with the base64-decoded secret
 * (`whsec_<base64>`, or the bare base64). Implemented here rather than with the `standardwebhooks`
 * package's `verify` because that reads `Date.now()` and the clock must be injectable; the tests
 * prove agreement with the package. Svix's `svix-id`, `svix-timestamp`, `svix-signature` are the
 * same scheme under other names and are accepted when no `webhook-*` header is present.
 */
import { z } from 'zod';
import { readTimestampHeader } from './hmac.ts';
import { fail, OK, type Verifier, type VerifyInput } from './types.ts';
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

/**
 * The header family a request uses: `webhook-*`, or Svix's `svix-*` (same scheme, older names:
 * Clerk and other Svix-signed senders) when no `webhook-*` header is there. Never a mix.
 */
function headerFamily(headers: VerifyInput['headers']): 'webhook' | 'svix' {
  const has = (family: string) =>
    ['id', 'timestamp', 'signature'].some((n) => readHeader(headers, `${family}-${n}`).kind !== 'missing');
  return !has('webhook') && has('svix') ? 'svix' : 'webhook';
}

export const standardWebhooksVerifier: Verifier<typeof standardWebhooksDataSchema> = {
  schema: standardWebhooksDataSchema,
  verify(data, input) {
    const family = headerFamily(input.headers);
    const names = { id: `${family}-id`, signature: `${family}-signature` };
    const values = { id: '', signature: '' };
    for (const k of ['id', 'signature'] as const) {
      const field = readHeader(input.headers, names[k]);
      if (field.kind === 'multiple') return fail(`Multiple ${names[k]} headers`);
      const value = field.kind === 'value' ? field.value.trim() : '';
      if (value === '') return fail(`Missing ${names[k]} header`);
      values[k] = value;
    }
    const timestamp = readTimestampHeader(input, `${family}-timestamp`, STANDARD_WEBHOOKS_TOLERANCE_S);
    if (typeof timestamp !== 'string') return timestamp;

    const signatures: Buffer[] = [];
    for (const entry of values.signature.split(/\s+/)) {
      const comma = entry.indexOf(',');
      if (comma < 0 || entry.slice(0, comma) !== 'v1') continue; // other versions (v1a, …) ignored
      const sig = decodeBase64(entry.slice(comma + 1));
      if (sig) signatures.push(sig);
    }
    if (signatures.length === 0) return fail(`Malformed ${names.signature} header: no v1 signature`);

    const key = standardWebhooksKey(data.secret);
    if (!key) return fail('Stored standard_webhooks secret is not valid base64');
    const expected = hmac('sha256', key, `${values.id}.${timestamp}.`, input.rawBody);
    let matched = false;
    for (const sig of signatures) matched = bytesEqual(sig, expected) || matched;
    return matched ? OK : fail(`No ${names.signature} v1 signature matches`);
  },
};
