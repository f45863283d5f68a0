/**
 * Generic HMAC signature of the raw body in a named header (Shopify, Slack-less custom senders,
 * most "sign the body with a shared secret" schemes):
 * `<header>: [prefix]encode(HMAC_<algorithm>(secret, rawBody))`.
 * The prefix (e.g. `sha256=`) is optional on receipt; hex is compared case-insensitively because
 * the comparison is over the decoded digest bytes.
 *
 * Also the shared core of every provider scheme of that shape (`verifySignatureHeader`,
 * `hmacHeaderVerifier`): github, meta, shopify, x, dropbox, linear, square, slack, zoom, twilio.
 */
import { z } from 'zod';
import { fail, OK, type Verifier, type VerifyInput, type VerifyResult } from './types.ts';
import {
  bytesEqual,
  decodeBase64,
  decodeHex,
  HTTP_TOKEN,
  type HmacAlgorithm,
  hmac,
  readHeader,
} from './util.ts';

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

/** Where a signature travels and how it is written. */
export type SignatureHeader = {
  /** The header's name as reasons show it (looked up case-insensitively). */
  header: string;
  /** What the value starts with (`sha256=`, `v0=`); required unless `loosePrefix`. */
  prefix?: string;
  /** The generic hmac type: the prefix may be left out and is matched in any case. */
  loosePrefix?: boolean;
  encoding: 'hex' | 'base64';
};

/**
 * Checks the signature in one header against the expected digest(s). `expected` runs only after
 * the header was found and decoded; it returns the digest, several acceptable digests (any one
 * matching is enough), or a failure of its own (a stale timestamp, no URL).
 */
export function verifySignatureHeader(
  input: VerifyInput,
  format: SignatureHeader,
  expected: () => Buffer | Buffer[] | VerifyResult,
): VerifyResult {
  const field = readHeader(input.headers, format.header);
  if (field.kind === 'missing') return fail(`Missing ${format.header} header`);
  if (field.kind === 'multiple') return fail(`Multiple ${format.header} headers`);
  const malformed = fail(`Malformed ${format.header} header`);
  let value = field.value.trim();
  const prefix = format.prefix ?? '';
  if (prefix) {
    const present = format.loosePrefix
      ? value.toLowerCase().startsWith(prefix.toLowerCase())
      : value.startsWith(prefix);
    if (present) value = value.slice(prefix.length);
    else if (!format.loosePrefix) return malformed;
  }
  const received = format.encoding === 'hex' ? decodeHex(value) : decodeBase64(value);
  if (!received) return malformed;
  const digests = expected();
  if (!Buffer.isBuffer(digests) && !Array.isArray(digests)) return digests;
  const candidates = Buffer.isBuffer(digests) ? [digests] : digests;
  if (!candidates.some((d) => d.length === received.length)) return malformed;
  let matched = false;
  for (const digest of candidates) matched = bytesEqual(received, digest) || matched;
  return matched ? OK : fail('Signature does not match');
}

/** A provider scheme `header = prefix + encode(HMAC(key, message))`. */
export type HmacHeaderScheme<D> = SignatureHeader & {
  /** Default sha256. */
  algorithm?: HmacAlgorithm;
  /** The HMAC key: the credential's secret field. */
  key: (data: D) => string;
  /** The signed bytes, or why they cannot be had (a stale timestamp). Default: the raw body. */
  message?: (input: VerifyInput) => (string | Buffer)[] | VerifyResult;
};

/** Builds a verifier for a scheme of the `HmacHeaderScheme` shape. */
export function hmacHeaderVerifier<S extends z.ZodType>(
  schema: S,
  scheme: HmacHeaderScheme<z.output<S>>,
): Verifier<S> {
  return {
    schema,
    verify(data, input) {
      return verifySignatureHeader(input, scheme, () => {
        const parts = scheme.message ? scheme.message(input) : [input.rawBody];
        if (!Array.isArray(parts)) return parts;
        return hmac(scheme.algorithm ?? 'sha256', scheme.key(data), ...parts);
      });
    },
  };
}

/** The credential data of a scheme whose only field is its secret: `{[field]: non-empty string}`. */
export function oneSecretSchema<K extends string>(field: K) {
  return z.strictObject({ [field]: z.string().min(1) } as { [P in K]: z.ZodString });
}

/**
 * A whole provider scheme of one secret field signing in one header: its data schema and its
 * verifier (github, shopify, x, dropbox, linear, square, slack, zoom).
 */
export function oneSecretHmacScheme<K extends string>(
  field: K,
  scheme: Omit<HmacHeaderScheme<unknown>, 'key'>,
) {
  const schema = oneSecretSchema(field);
  const verifier = hmacHeaderVerifier(schema, {
    ...scheme,
    key: (d) => (d as Record<string, string>)[field],
  });
  return { schema, verifier };
}

/**
 * Slack and Zoom: `<signatureHeader>: v0=<hex HMAC-SHA256(secret, "v0:{timestamp}:{rawBody}")>`,
 * the unix-seconds `<timestampHeader>` within `toleranceS` of now.
 */
export function v0Scheme(signatureHeader: string, timestampHeader: string, toleranceS: number) {
  return oneSecretHmacScheme('secret', {
    header: signatureHeader,
    prefix: 'v0=',
    encoding: 'hex',
    message: v0TimestampedMessage(timestampHeader, toleranceS),
  });
}

/**
 * A unix-seconds timestamp header within `toleranceS` of `input.nowMs`: its text (as signed), or
 * the failure.
 */
export function readTimestampHeader(
  input: VerifyInput,
  name: string,
  toleranceS: number,
): string | VerifyResult {
  const field = readHeader(input.headers, name);
  if (field.kind === 'multiple') return fail(`Multiple ${name} headers`);
  const value = field.kind === 'value' ? field.value.trim() : '';
  if (value === '') return fail(`Missing ${name} header`);
  if (!/^\d{1,15}$/.test(value)) return fail(`Malformed ${name} header`);
  const nowS = Math.floor(input.nowMs / 1000);
  if (!(Math.abs(nowS - Number(value)) <= toleranceS)) {
    return fail(`${name} is outside the ${toleranceS} s tolerance`);
  }
  return value;
}

/** The message `v0:{timestamp}:{rawBody}` with its timestamp checked (Slack, Zoom). */
export function v0TimestampedMessage(timestampHeader: string, toleranceS: number) {
  return (input: VerifyInput): (string | Buffer)[] | VerifyResult => {
    const timestamp = readTimestampHeader(input, timestampHeader, toleranceS);
    if (typeof timestamp !== 'string') return timestamp;
    return [`v0:${timestamp}:`, input.rawBody];
  };
}

export const hmacVerifier: Verifier<typeof hmacDataSchema> = {
  schema: hmacDataSchema,
  verify(data, input) {
    return verifySignatureHeader(
      input,
      { header: data.header, prefix: data.prefix, loosePrefix: true, encoding: data.encoding },
      () => hmac(data.algorithm, data.secret, input.rawBody),
    );
  },
};
