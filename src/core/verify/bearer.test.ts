import { describe, expect, it } from 'vitest';
import { credentialDataSchemas, verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, request } from './testing.ts';

const TOKEN = 'tok_9f8e7d6c5b4a';
const data = { token: TOKEN };
const verify = (authorization?: string | string[]) =>
  verifyRequest('bearer', data, request({ headers: { authorization } }));

describe('bearer verifier', () => {
  it('accepts the right token, scheme name in any case', () => {
    expectAccepted(verify(`Bearer ${TOKEN}`));
    expectAccepted(verify(`bearer ${TOKEN}`));
  });

  it('rejects a wrong token without revealing it', () => {
    expectRejected(verify('Bearer tok_wrong'), 'Invalid bearer token', [TOKEN, 'tok_wrong']);
    expectRejected(verify(`Bearer ${TOKEN}x`), 'Invalid bearer token');
  });

  it('rejects a missing Authorization header', () => {
    expectRejected(verify(undefined), 'Missing Authorization header');
  });

  it('rejects a malformed Authorization header', () => {
    expectRejected(verify(TOKEN), /Bearer/);
    expectRejected(verify('Bearer'), /Bearer/);
    expectRejected(verify(`Basic ${TOKEN}`), /Bearer/);
    expectRejected(verify([`Bearer ${TOKEN}`, 'Bearer other']), 'Multiple Authorization headers');
  });

  it('validates credential data', () => {
    expect(credentialDataSchemas.bearer.safeParse(data).success).toBe(true);
    expect(credentialDataSchemas.bearer.safeParse({ token: '' }).success).toBe(false);
  });
});
