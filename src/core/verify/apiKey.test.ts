import { describe, expect, it } from 'vitest';
import { credentialDataSchemas, verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, request } from './testing.ts';

const KEY = 'ak_live_0123456789abcdef';
const inHeader = { in: 'header', name: 'X-Api-Key', value: KEY };
const inQuery = { in: 'query', name: 'api_key', value: KEY };

describe('api_key verifier', () => {
  describe('in a header', () => {
    it('accepts the key in the named header, matching the name case-insensitively', () => {
      expectAccepted(verifyRequest('api_key', inHeader, request({ headers: { 'x-api-key': KEY } })));
      // hand-built inputs with mixed-case names are tolerated too
      expectAccepted(verifyRequest('api_key', inHeader, request({ headers: { 'X-API-KEY': KEY } })));
    });

    it('rejects a wrong key without revealing either key', () => {
      expectRejected(
        verifyRequest('api_key', inHeader, request({ headers: { 'x-api-key': 'ak_live_wrong' } })),
        'Invalid API key',
        [KEY, 'ak_live_wrong'],
      );
    });

    it('rejects a key that differs only in case or length', () => {
      const h = (v: string) => request({ headers: { 'x-api-key': v } });
      expectRejected(verifyRequest('api_key', inHeader, h(KEY.toUpperCase())), 'Invalid API key');
      expectRejected(verifyRequest('api_key', inHeader, h(KEY + 'x')), 'Invalid API key');
      expectRejected(verifyRequest('api_key', inHeader, h('')), 'Invalid API key');
    });

    it('rejects a missing header, naming it', () => {
      expectRejected(verifyRequest('api_key', inHeader, request()), 'Missing X-Api-Key header');
    });

    it('does not accept the key from the query when it belongs in a header', () => {
      expectRejected(
        verifyRequest('api_key', inHeader, request({ query: { 'X-Api-Key': KEY } })),
        'Missing X-Api-Key header',
      );
    });

    it('rejects repeated headers', () => {
      expectRejected(
        verifyRequest('api_key', inHeader, request({ headers: { 'x-api-key': [KEY, 'other'] } })),
        /Multiple/,
      );
    });
  });

  describe('in the query', () => {
    it('accepts the key in the named query parameter', () => {
      expectAccepted(verifyRequest('api_key', inQuery, request({ query: { api_key: KEY, shop: 'x' } })));
    });

    it('rejects a wrong key', () => {
      expectRejected(
        verifyRequest('api_key', inQuery, request({ query: { api_key: 'nope' } })),
        'Invalid API key',
      );
    });

    it('rejects a missing parameter; query names are case-sensitive', () => {
      expectRejected(verifyRequest('api_key', inQuery, request()), 'Missing api_key query parameter');
      expectRejected(
        verifyRequest('api_key', inQuery, request({ query: { API_KEY: KEY } })),
        'Missing api_key query parameter',
      );
    });

    it('does not accept the key from a header when it belongs in the query', () => {
      expectRejected(verifyRequest('api_key', inQuery, request({ headers: { api_key: KEY } })), /Missing/);
    });

    it('rejects a repeated parameter', () => {
      expectRejected(
        verifyRequest('api_key', inQuery, request({ query: { api_key: [KEY, KEY] } })),
        /Multiple/,
      );
    });
  });

  it('validates credential data', () => {
    const s = credentialDataSchemas.api_key;
    expect(s.safeParse(inHeader).success).toBe(true);
    expect(s.safeParse(inQuery).success).toBe(true);
    expect(s.safeParse({ ...inHeader, name: 'Bad Header:' }).success).toBe(false);
    expect(s.safeParse({ ...inQuery, name: 'hub.verify token' }).success).toBe(true);
    expect(s.safeParse({ ...inHeader, in: 'cookie' }).success).toBe(false);
    expect(s.safeParse({ ...inHeader, value: '' }).success).toBe(false);
  });
});
