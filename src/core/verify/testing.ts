/** Test helpers for the verifier tests (not used by production code). */
import { expect, it } from 'vitest';
import { credentialDataSchemas, verifyRequest } from './index.ts';
import type { VerifyInput, VerifyResult } from './types.ts';

export const NOW_MS = Date.UTC(2025, 5, 1, 12, 0, 0);
export const NOW_S = Math.floor(NOW_MS / 1000);

export function request(parts: Partial<VerifyInput> & { body?: string | Buffer } = {}): VerifyInput {
  const { body, ...rest } = parts;
  return {
    rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body ?? '', 'utf8'),
    headers: {},
    query: {},
    nowMs: NOW_MS,
    ...rest,
  };
}

export function expectAccepted(result: VerifyResult): void {
  expect(result).toEqual({ ok: true });
}

/**
 * Asserts a rejection with a non-empty reason that matches `reason` (if given) and quotes none of
 * the `secrets`.
 */
export function expectRejected(result: VerifyResult, reason?: RegExp | string, secrets: string[] = []): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(typeof result.reason).toBe('string');
  expect(result.reason.length).toBeGreaterThan(0);
  if (typeof reason === 'string') expect(result.reason).toBe(reason);
  else if (reason) expect(result.reason).toMatch(reason);
  for (const secret of secrets) expect(result.reason).not.toContain(secret);
}

/** A scheme `signature header = f(secret, request)`, for the shared cases of `signedSchemeCases`. */
export type SignedScheme = {
  type: string;
  data: Record<string, string>;
  /** The same credential with another secret (default: every field with `-other` appended). */
  otherData?: Record<string, string>;
  /** The signature header's name as reasons show it. */
  header: string;
  body: string;
  /** The headers of `body` signed with `data` (at `timestampS`, for a timestamped scheme). */
  sign(data: Record<string, string>, body: string, timestampS: number): Record<string, string>;
  /** Whatever else every request carries (the URL, a content type). */
  input?: Partial<VerifyInput>;
  /** Values of the signature header that are not a signature of this scheme at all. */
  malformed: string[];
  /** A scheme that signs a unix-seconds timestamp header. */
  timestamp?: { header: string; toleranceS: number };
};

/**
 * The cases every signature scheme must pass: a signed request is accepted; another secret, a
 * tampered body, a missing, malformed or repeated header are rejected (without quoting a secret);
 * with `timestamp`, a stale, future, missing, malformed or moved timestamp is rejected.
 */
export function signedSchemeCases(scheme: SignedScheme): void {
  const otherData =
    scheme.otherData ?? Object.fromEntries(Object.entries(scheme.data).map(([k, v]) => [k, `${v}-other`]));
  const s = { ...scheme, otherData };
  const secrets = [...Object.values(s.data), ...Object.values(otherData)];
  const verify = (
    headers: Record<string, string | string[] | undefined>,
    opts: { body?: string; data?: Record<string, string>; nowMs?: number } = {},
  ) =>
    verifyRequest(
      s.type,
      opts.data ?? s.data,
      request({
        ...s.input,
        headers: { ...s.input?.headers, ...headers },
        body: opts.body ?? s.body,
        nowMs: opts.nowMs ?? NOW_MS,
      }),
    );
  const signed = (ts = NOW_S, data = s.data, body = s.body) => s.sign(data, body, ts);
  const headerKey = s.header.toLowerCase();

  it('accepts a correctly signed request', () => {
    expectAccepted(verify(signed()));
  });

  it('rejects a signature made with another secret without revealing either secret', () => {
    expectRejected(verify(signed(NOW_S, s.otherData)), /does not match/, secrets);
    expectRejected(verify(signed(), { data: s.otherData }), /does not match/, secrets);
  });

  it('rejects a tampered body', () => {
    const tampered = s.body.length > 1 ? s.body.slice(0, -1) + (s.body.endsWith('0') ? '1' : '0') : 'x';
    expectRejected(verify(signed(), { body: tampered }), undefined, secrets);
    expectRejected(verify(signed(), { body: `${s.body} ` }), undefined, secrets);
  });

  it(`rejects a missing ${s.header} header, naming it`, () => {
    const headers: Record<string, string | undefined> = { ...signed() };
    delete headers[headerKey];
    expectRejected(verify(headers), `Missing ${s.header} header`);
  });

  it(`rejects malformed and repeated ${s.header} headers`, () => {
    const good = signed();
    for (const bad of ['', 'garbage', ...s.malformed]) {
      expectRejected(verify({ ...good, [headerKey]: bad }), `Malformed ${s.header} header`, secrets);
    }
    expectRejected(verify({ ...good, [headerKey]: [good[headerKey], good[headerKey]] }), /Multiple/);
  });

  it('validates credential data: every field required and non-empty, nothing else allowed', () => {
    const schema = credentialDataSchemas[s.type as keyof typeof credentialDataSchemas];
    expect(schema.safeParse(s.data).success).toBe(true);
    expect(schema.safeParse({ ...s.data, extra: 'x' }).success).toBe(false);
    for (const field of Object.keys(s.data)) {
      expect(schema.safeParse({ ...s.data, [field]: '' }).success).toBe(false);
      const { [field]: _, ...without } = s.data;
      expect(schema.safeParse(without).success).toBe(false);
    }
  });

  const ts = s.timestamp;
  if (ts) {
    it(`accepts ${ts.header} up to ${ts.toleranceS} s either side of now and rejects beyond`, () => {
      expectAccepted(verify(signed(NOW_S - ts.toleranceS)));
      expectAccepted(verify(signed(NOW_S + ts.toleranceS)));
      expectRejected(verify(signed(NOW_S - ts.toleranceS - 1)), new RegExp(`${ts.header}.*tolerance`));
      expectRejected(verify(signed(NOW_S + ts.toleranceS + 1)), new RegExp(`${ts.header}.*tolerance`));
      // a stale request is fine when the (injected) clock is close to it
      expectAccepted(verify(signed(NOW_S - 3600), { nowMs: NOW_MS - 3600_000 }));
    });

    it(`rejects a missing, malformed or moved ${ts.header}`, () => {
      const good = signed();
      const key = ts.header.toLowerCase();
      expectRejected(verify({ ...good, [key]: undefined }), `Missing ${ts.header} header`);
      for (const bad of ['yesterday', '-5', '1e9', `${NOW_S}.5`]) {
        expectRejected(verify({ ...good, [key]: bad }), `Malformed ${ts.header} header`);
      }
      expectRejected(verify({ ...good, [key]: String(NOW_S + 1) }), 'Signature does not match');
    });
  }
}
