import { describe, expect, it } from 'vitest';
import { credentialDataSchemas, verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, request } from './testing.ts';

const data = { username: 'shop', password: 's3cret:with-colon' };
const basic = (user: string, pass: string) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
const verify = (headers: Record<string, string | string[] | undefined>) =>
  verifyRequest('basic', data, request({ headers, body: '{"a":1}' }));

describe('basic verifier', () => {
  it('accepts the right username and password', () => {
    expectAccepted(verify({ authorization: basic('shop', 's3cret:with-colon') }));
  });

  it('accepts the scheme name in any case and surrounding whitespace', () => {
    const token = Buffer.from('shop:s3cret:with-colon').toString('base64');
    expectAccepted(verify({ authorization: `basic  ${token} ` }));
  });

  it('accepts UTF-8 credentials', () => {
    const d = { username: 'jürgen', password: 'pässwörd✓' };
    const auth = basic('jürgen', 'pässwörd✓');
    expectAccepted(verifyRequest('basic', d, request({ headers: { authorization: auth } })));
  });

  it('rejects a wrong password without revealing it', () => {
    expectRejected(verify({ authorization: basic('shop', 'guess') }), 'Invalid username or password', [
      data.password,
      'guess',
    ]);
  });

  it('rejects a wrong username', () => {
    expectRejected(verify({ authorization: basic('other', data.password) }), 'Invalid username or password');
  });

  it('rejects a password that is only a prefix of the right one', () => {
    expectRejected(verify({ authorization: basic('shop', 's3cret') }), 'Invalid username or password');
  });

  it('rejects a missing Authorization header', () => {
    expectRejected(verify({}), 'Missing Authorization header');
  });

  it('rejects a non-Basic Authorization header', () => {
    expectRejected(verify({ authorization: 'Bearer abc' }), /Basic/);
  });

  it('rejects malformed Basic credentials', () => {
    for (const authorization of [
      'Basic',
      'Basic !!!!',
      'Basic ' + Buffer.from('no-colon').toString('base64'),
      'Basic a',
      'Basic abc=def',
      'Basic ' + basic('shop', data.password).slice(6) + ' extra',
    ]) {
      expectRejected(verify({ authorization }), undefined, [data.password]);
    }
  });

  it('rejects two Authorization headers instead of picking one', () => {
    const good = basic('shop', data.password);
    expectRejected(verify({ authorization: [good, basic('x', 'y')] }), 'Multiple Authorization headers');
    expectAccepted(verify({ authorization: [good] }));
  });

  it('validates credential data: username without colon, non-empty password', () => {
    expect(credentialDataSchemas.basic.safeParse(data).success).toBe(true);
    expect(credentialDataSchemas.basic.safeParse({ username: 'a:b', password: 'x' }).success).toBe(false);
    expect(credentialDataSchemas.basic.safeParse({ username: 'a', password: '' }).success).toBe(false);
    expect(credentialDataSchemas.basic.safeParse({ username: 'a', password: 'x', extra: 1 }).success).toBe(
      false,
    );
  });
});
