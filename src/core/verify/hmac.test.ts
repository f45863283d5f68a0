import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialDataSchemas, signHmac, verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, request } from './testing.ts';

const SECRET = 'hmac-shared-secret';
const BODY = '{"order":{"id":"A-1","total":12.5}}';
const gitlabish = {
  secret: SECRET,
  header: 'X-Signature',
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: 'sha256=',
} as const;

const verify = (
  data: unknown,
  headers: Record<string, string | string[] | undefined>,
  body: string | Buffer = BODY,
) => verifyRequest('hmac', data, request({ headers, body }));

describe('hmac verifier', () => {
  it('signHmac matches the RFC 2202 / RFC 4231 test vectors', () => {
    const jefe = { secret: 'Jefe', header: 'X-Sig' };
    const msg = 'what do ya want for nothing?';
    expect(signHmac({ ...jefe, algorithm: 'sha1' }, msg)).toBe('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
    expect(signHmac(jefe, msg)).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(signHmac({ ...jefe, algorithm: 'sha512' }, msg)).toBe(
      '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554' +
        '9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
    );
  });

  for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
    for (const encoding of ['hex', 'base64'] as const) {
      it(`accepts what signHmac signs (${algorithm}, ${encoding}, with prefix)`, () => {
        const data = { secret: SECRET, header: 'X-Signature', algorithm, encoding, prefix: `${algorithm}=` };
        const sig = signHmac(data, BODY);
        expect(sig.startsWith(`${algorithm}=`)).toBe(true);
        expectAccepted(verify(data, { 'x-signature': sig }));
        expectRejected(
          verify({ ...data, secret: 'other' }, { 'x-signature': sig }),
          'Signature does not match',
        );
        expectRejected(verify(data, { 'x-signature': sig }, BODY + ' '), 'Signature does not match');
      });
    }
  }

  it('accepts a Shopify-style base64 SHA-256 signature computed independently', () => {
    const data = { secret: SECRET, header: 'X-Shopify-Hmac-Sha256', encoding: 'base64' };
    const sig = createHmac('sha256', SECRET).update(BODY).digest('base64');
    expectAccepted(verify(data, { 'x-shopify-hmac-sha256': sig }));
  });

  it('treats the prefix as optional and case-insensitive, and hex as case-insensitive', () => {
    const hex = createHmac('sha256', SECRET).update(BODY).digest('hex');
    expectAccepted(verify(gitlabish, { 'x-signature': `sha256=${hex}` }));
    expectAccepted(verify(gitlabish, { 'x-signature': hex }));
    expectAccepted(verify(gitlabish, { 'x-signature': `SHA256=${hex.toUpperCase()}` }));
  });

  it('signs and verifies the exact raw bytes, including non-UTF-8 bodies', () => {
    const raw = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const data = { secret: SECRET, header: 'X-Signature' };
    const sig = signHmac(data, raw);
    expect(sig).toBe(createHmac('sha256', SECRET).update(raw).digest('hex'));
    expectAccepted(verify(data, { 'x-signature': sig }, raw));
    // the same bytes pushed through a UTF-8 string round-trip no longer verify
    expectRejected(verify(data, { 'x-signature': sig }, Buffer.from(raw.toString('utf8'))));
  });

  it('rejects a signature made with the wrong secret without revealing the secret', () => {
    const sig = signHmac({ ...gitlabish, secret: 'not-the-secret' }, BODY);
    expectRejected(verify(gitlabish, { 'x-signature': sig }), 'Signature does not match', [SECRET]);
  });

  it('rejects a tampered body', () => {
    const sig = signHmac(gitlabish, BODY);
    expectRejected(
      verify(gitlabish, { 'x-signature': sig }, BODY.replace('12.5', '1.25')),
      'Signature does not match',
    );
  });

  it('rejects a missing signature header, naming it', () => {
    expectRejected(verify(gitlabish, {}), 'Missing X-Signature header');
  });

  it('rejects malformed signature headers', () => {
    const sig = signHmac(gitlabish, BODY);
    for (const bad of [
      '',
      'sha256=',
      'sha256=zz' + sig.slice(9),
      sig.slice(0, -2), // truncated
      sig + 'ab', // too long
      'sha256=' + 'ab'.repeat(20), // a SHA-1 sized digest
      'sha256=' + Buffer.from(sig.slice(7), 'hex').toString('base64'), // wrong encoding
    ]) {
      expectRejected(verify(gitlabish, { 'x-signature': bad }), /Malformed X-Signature header|Missing/);
    }
    const b64 = { ...gitlabish, encoding: 'base64', prefix: '' };
    for (const bad of ['%%%', 'abc', 'YWJj', '====']) {
      expectRejected(verify(b64, { 'x-signature': bad }), /Malformed X-Signature header/);
    }
    expectRejected(verify(gitlabish, { 'x-signature': [sig, sig] }), /Multiple/);
  });

  it('fills defaults in credential data and rejects bad settings', () => {
    const s = credentialDataSchemas.hmac;
    expect(s.parse({ secret: 'x', header: 'X-Sig' })).toEqual({
      secret: 'x',
      header: 'X-Sig',
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: '',
    });
    expect(s.safeParse({ secret: 'x', header: 'X-Sig', algorithm: 'md5' }).success).toBe(false);
    expect(s.safeParse({ secret: 'x', header: 'X-Sig', encoding: 'base32' }).success).toBe(false);
    expect(s.safeParse({ secret: 'x', header: 'bad header' }).success).toBe(false);
    expect(s.safeParse({ secret: '', header: 'X-Sig' }).success).toBe(false);
  });
});
