/**
 * Generic HMAC signature of the raw body in a named header (Shopify, Slack-less custom senders,
 * most "sign the body with a shared secret" schemes):
 * `<header>: [prefix]encode(HMAC_<algorithm>(secret, rawBody))`.
 * The prefix (e.g. `sha256=`) is optional on receipt; hex is compared case-insensitively because
 * the comparison is over the decoded digest bytes.
 */
import { z } from 'zod';
import { fail, OK, type Verifier } from './types.ts';
import { bytesEqual, decodeBase64, decodeHex, HTTP_TOKEN, hmac, readHeader } from './util.ts';

export const hmacDataSchema = z.strictObject({
  secret: z.string().min(1),
  header: z.string().regex(HTTP_TOKEN, { message: 'header is not a valid HTTP header name' }),
  algorithm: z.enum(['sha1', 'sha256', 'sha512']).default('sha256'),
  encoding: z.enum(['hex', 'base64']).default('hex'),
  prefix: z.string().default(''),
});

/** Stored (parsed) form: defaults filled in. */
export type HmacData = z.output<typeof hmacDataSchema>;
/** What a caller may pass: `algorithm`, `encoding` and `prefix` optional. */
export type HmacDataInput = z.input<typeof hmacDataSchema>;

/**
 * The exact inverse of the hmac verifier: the header value a sender puts in `data.header`.
 * Throws (ZodError) on invalid credential data — this is for our own signing, not for input.
 */
export function signHmac(data: HmacDataInput, rawBody: Buffer | string): string {
  const d = hmacDataSchema.parse(data);
  return d.prefix + hmac(d.algorithm, d.secret, rawBody).toString(d.encoding);
}

export const hmacVerifier: Verifier<typeof hmacDataSchema> = {
  schema: hmacDataSchema,
  verify(data, input) {
    const header = readHeader(input.headers, data.header);
    if (header.kind === 'missing') return fail(`Missing ${data.header} header`);
    if (header.kind === 'multiple') return fail(`Multiple ${data.header} headers`);
    let value = header.value.trim();
    if (data.prefix && value.toLowerCase().startsWith(data.prefix.toLowerCase())) {
      value = value.slice(data.prefix.length);
    }
    const received = data.encoding === 'hex' ? decodeHex(value) : decodeBase64(value);
    if (!received) return fail(`Malformed ${data.header} header`);
    const expected = hmac(data.algorithm, data.secret, input.rawBody);
    if (received.length !== expected.length) return fail(`Malformed ${data.header} header`);
    return bytesEqual(received, expected) ? OK : fail('Signature does not match');
  },
};
