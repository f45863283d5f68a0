/**
 * Small helpers shared by the verifiers: safe header/query access, strict decoding and the
 * constant-time comparisons. Everything here is total: malformed input yields `undefined`/`false`,
 * never an exception.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** RFC 9110 `token`: what a header name may consist of. */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export type FieldValue = { kind: 'missing' } | { kind: 'multiple' } | { kind: 'value'; value: string };

/**
 * One value from a header or query map. A one-element array counts as that element; several
 * values are reported as `multiple` so the caller can refuse to guess which one was signed.
 * Non-string garbage counts as missing.
 */
function pick(raw: unknown): FieldValue {
  if (typeof raw === 'string') return { kind: 'value', value: raw };
  if (Array.isArray(raw)) {
    const strings = raw.filter((v): v is string => typeof v === 'string');
    if (strings.length === 0) return { kind: 'missing' };
    if (strings.length === 1) return { kind: 'value', value: strings[0] };
    return { kind: 'multiple' };
  }
  return { kind: 'missing' };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * Header lookup by case-insensitive name. Node already lower-cases names; the fallback scan only
 * matters for hand-built inputs. Only own properties are read.
 */
export function readHeader(headers: unknown, name: string): FieldValue {
  if (!isRecord(headers)) return { kind: 'missing' };
  const lower = name.toLowerCase();
  if (Object.hasOwn(headers, lower)) return pick(headers[lower]);
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === lower) return pick(headers[key]);
  }
  return { kind: 'missing' };
}

/** Query parameter lookup; names are case-sensitive, as in URLs. */
export function readQuery(query: unknown, name: string): FieldValue {
  if (!isRecord(query) || !Object.hasOwn(query, name)) return { kind: 'missing' };
  return pick(query[name]);
}

/** Constant-time equality of two byte strings of equal length; unequal lengths are simply unequal. */
export function bytesEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/**
 * Constant-time equality of two secrets of arbitrary length (passwords, API keys, tokens): both are
 * hashed with SHA-256 first so `timingSafeEqual` always sees equal-length buffers and the length
 * of the secret does not leak.
 */
export function secretsEqual(received: string | Buffer, expected: string | Buffer): boolean {
  const a = createHash('sha256').update(received).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';

export function hmac(algorithm: HmacAlgorithm, key: string | Buffer, ...parts: (string | Buffer)[]): Buffer {
  const h = createHmac(algorithm, key);
  for (const part of parts) h.update(part);
  return h.digest();
}

/** Strict hex decoding (either case); `undefined` for anything that is not whole bytes of hex. */
export function decodeHex(s: string): Buffer | undefined {
  if (s.length === 0 || s.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(s)) return undefined;
  return Buffer.from(s, 'hex');
}

/**
 * Strict base64 decoding: standard or URL-safe alphabet, padding optional but correct when
 * present. `Buffer.from(s, 'base64')` alone silently skips garbage, hence the checks.
 */
export function decodeBase64(s: string): Buffer | undefined {
  if (s.length === 0) return undefined;
  const unpadded = s.replace(/={1,2}$/, '');
  if (unpadded.length !== s.length && s.length % 4 !== 0) return undefined;
  if (unpadded.length % 4 === 1) return undefined;
  if (!/^[A-Za-z0-9+/]*$/.test(unpadded) && !/^[A-Za-z0-9_-]*$/.test(unpadded)) return undefined;
  const decoded = Buffer.from(unpadded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return decoded.length === 0 ? undefined : decoded;
}
