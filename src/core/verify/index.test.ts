import { describe, expect, it } from 'vitest';
import {
  CREDENTIAL_TYPES,
  type CredentialType,
  credentialDataSchemas,
  isCredentialType,
  STORED_CREDENTIAL_TYPES,
  signHmac,
  type VerifyInput,
  verificationNeedsBody,
  verifyRequest,
} from './index.ts';
import { expectRejected, request } from './testing.ts';

/** One valid credential per inbound type; every secret is listed so reasons can be checked for leaks. */
const validData = {
  basic: { username: 'user', password: 'pw-secret-1' },
  api_key: { in: 'header', name: 'X-Key', value: 'key-secret-2' },
  hmac: { secret: 'hmac-secret-3', header: 'X-Sig' },
  standard_webhooks: { secret: 'whsec_' + Buffer.from('sw-secret-4-key').toString('base64') },
  github: { secret: 'gh-secret-5' },
  stripe: { secret: 'whsec_stripe-secret-6' },
  bearer: { token: 'bearer-secret-7' },
  gitlab: { token: 'gitlab-secret-8' },
  slack: { secret: 'slack-secret-9' },
  zoom: { secret: 'zoom-secret-10' },
  shopify: { secret: 'shopify-secret-11' },
  twilio: { auth_token: 'twilio-secret-12' },
  meta: { app_secret: 'meta-secret-13', verify_token: 'meta-verify-13' },
  x: { consumer_secret: 'x-secret-14' },
  dropbox: { app_secret: 'dropbox-secret-15' },
  linear: { secret: 'linear-secret-16' },
  square: { signature_key: 'square-secret-17' },
} as const satisfies Record<CredentialType, unknown>;
const SECRETS = [
  'pw-secret-1',
  'key-secret-2',
  'hmac-secret-3',
  'sw-secret-4',
  'gh-secret-5',
  'stripe-secret-6',
  'bearer-secret-7',
  'gitlab-secret-8',
  'slack-secret-9',
  'zoom-secret-10',
  'shopify-secret-11',
  'twilio-secret-12',
  'meta-secret-13',
  'meta-verify-13',
  'x-secret-14',
  'dropbox-secret-15',
  'linear-secret-16',
  'square-secret-17',
];

describe('verify registry', () => {
  it('has a data schema for every stored credential type, smtp included', () => {
    expect(Object.keys(credentialDataSchemas).sort()).toEqual([...STORED_CREDENTIAL_TYPES].sort());
    expect(STORED_CREDENTIAL_TYPES).toContain('smtp');
    for (const type of CREDENTIAL_TYPES) {
      expect(credentialDataSchemas[type].safeParse(validData[type]).success).toBe(true);
    }
  });

  it('rejects unknown types, none, smtp and prototype keys as verification types', () => {
    for (const type of [
      '',
      'none',
      'smtp',
      'oauth',
      'BASIC',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
    ]) {
      expectRejected(verifyRequest(type, { secret: 'x' }, request()));
      expect(isCredentialType(type)).toBe(false);
    }
    expectRejected(verifyRequest('smtp', { host: 'mail', port: 25 }, request()), /SMTP/);
  });

  it('rejects invalid or mismatched stored credential data without quoting it', () => {
    for (const type of CREDENTIAL_TYPES) {
      for (const bad of [undefined, null, 42, 'str', [], {}, { secret: 123 }]) {
        expectRejected(verifyRequest(type, bad, request()), /not valid/);
      }
    }
    // a github credential used where a bearer one is expected
    expectRejected(verifyRequest('bearer', validData.github, request()), /not valid bearer/, SECRETS);
    expectRejected(
      verifyRequest('hmac', { secret: 'hmac-secret-3', header: 'X-Sig', algorithm: 'md5' }, request()),
      /not valid/,
      SECRETS,
    );
  });

  it('each type accepts its own correctly authenticated request through the registry', () => {
    const body = '{"x":1}';
    const auth = (v: string) => ({ authorization: v });
    const inputs: Record<'basic' | 'api_key' | 'hmac' | 'bearer', VerifyInput> = {
      basic: request({ body, headers: auth('Basic ' + Buffer.from('user:pw-secret-1').toString('base64')) }),
      api_key: request({ body, headers: { 'x-key': 'key-secret-2' } }),
      hmac: request({ body, headers: { 'x-sig': signHmac(validData.hmac, body) } }),
      bearer: request({ body, headers: auth('Bearer bearer-secret-7') }),
    };
    for (const [type, input] of Object.entries(inputs)) {
      expect(verifyRequest(type, validData[type as keyof typeof inputs], input)).toEqual({ ok: true });
    }
  });

  it('never throws and never leaks a secret, whatever the request looks like', () => {
    const garbageValues: unknown[] = [
      undefined,
      null,
      '',
      ' ',
      [],
      ['a', 'b'],
      [1, 2],
      [undefined],
      42,
      {},
      { toString: () => 'x' },
      'Basic',
      'Bearer',
      'Basic ' + '='.repeat(40),
      'sha256=' + 'f'.repeat(64),
      't=1,v1=' + 'a'.repeat(64),
      'v1,' + 'A'.repeat(44),
      '\u0000\uffff\ud800',
      'x'.repeat(100_000),
    ];
    const headerNames = [
      'authorization',
      'x-key',
      'x-sig',
      'x-hub-signature-256',
      'stripe-signature',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
      'svix-id',
      'svix-timestamp',
      'svix-signature',
      'x-gitlab-token',
      'x-slack-signature',
      'x-slack-request-timestamp',
      'x-zm-signature',
      'x-zm-request-timestamp',
      'x-shopify-hmac-sha256',
      'x-twilio-signature',
      'content-type',
      'x-twitter-webhooks-signature',
      'x-dropbox-signature',
      'linear-signature',
      'x-square-hmacsha256-signature',
    ];
    const inputs: unknown[] = [
      null,
      undefined,
      5,
      {},
      { rawBody: 'not a buffer', headers: {}, query: {}, nowMs: 0 },
      { ...request(), url: 42 },
      { ...request(), url: 'not a url' },
      { ...request({ body: '{"webhookTimestamp":"x"}' }), url: 'https://h.example/?bodySHA256=zz' },
    ];
    for (const value of garbageValues) {
      const headers = Object.fromEntries(headerNames.map((n) => [n, value]));
      inputs.push(
        request({ headers: headers as VerifyInput['headers'], query: { 'X-Key': value } as never }),
      );
      inputs.push({ ...request(), headers: value, query: value });
      inputs.push({ ...request({ headers: headers as VerifyInput['headers'] }), nowMs: Number.NaN });
      inputs.push(
        request({
          headers: headers as VerifyInput['headers'],
          url: 'https://hooks.example.com/h?x=1',
          body: 'a=b',
        }),
      );
    }
    for (const type of CREDENTIAL_TYPES) {
      for (const input of inputs) {
        let result: ReturnType<typeof verifyRequest> | undefined;
        expect(() => {
          result = verifyRequest(type, validData[type], input as VerifyInput);
        }).not.toThrow();
        expectRejected(result!, undefined, SECRETS);
      }
    }
  });

  it('knows which types can be checked before the body is read', () => {
    for (const type of ['basic', 'api_key', 'bearer', 'gitlab'])
      expect(verificationNeedsBody(type)).toBe(false);
    for (const type of CREDENTIAL_TYPES.filter((t) => !['basic', 'api_key', 'bearer', 'gitlab'].includes(t)))
      expect(verificationNeedsBody(type)).toBe(true);
    expect(verificationNeedsBody('unknown')).toBe(true);
  });

  it('validates smtp credential data', () => {
    const s = credentialDataSchemas.smtp;
    expect(s.safeParse({ host: 'smtp.example.com', port: 587 }).success).toBe(true);
    expect(
      s.safeParse({
        host: 'smtp.example.com',
        port: 465,
        secure: true,
        username: 'u',
        password: 'p',
        from: 'a@b.c',
      }).success,
    ).toBe(true);
    expect(s.safeParse({ host: 'smtp.example.com', port: 0 }).success).toBe(false);
    expect(s.safeParse({ host: 'smtp.example.com', port: '587' }).success).toBe(false);
    expect(s.safeParse({ host: '', port: 25 }).success).toBe(false);
  });
});
